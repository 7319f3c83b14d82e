#pragma once
// The PostgreSQL schema: every table in the `lockbox` schema (namespace) of the database, as an
// ordered list of migrations tracked by lockbox.schema_version. The schema versions count as
// SQLite's do (3 = row authentication), so both backends name the same schema generation.
// NOTE: persistent format. Never edit a shipped migration; append a new one.

#include "core/status.hpp"
#include "store/postgres/pg_conn.hpp"

namespace lockbox::store::postgres {

inline constexpr int kPgSchemaVersion = 4;

// 0: no lockbox schema in the database; -1: a `lockbox` schema without its version table.
Result<int> schema_version(Conn& conn);

// Applies every migration after the current version. REQUIRES: the caller's kWrite transaction
// (which holds the store's advisory lock, so two hosts cannot both migrate).
Status migrate(Conn& conn);

// kIntegrity naming the first object lockbox did not create: an unknown table, view, sequence
// or index in the lockbox schema, a trigger or rule on its tables, row-level security, a function.
Status verify_objects(Conn& conn);

}  // namespace lockbox::store::postgres
