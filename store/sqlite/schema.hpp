#pragma once
// The SQLite schema as an ordered list of migrations, tracked by PRAGMA user_version.
// NOTE: persistent format. Never edit a shipped migration; append a new one.

#include "core/status.hpp"
#include "store/sqlite/db.hpp"

namespace lockbox::store::sqlite {

// The schema version this build writes.
inline constexpr int kSchemaVersion = 4;

// Reads PRAGMA user_version.
Result<int> schema_version(Db& db);

// Applies every migration after the current version, each inside the caller's transaction.
// REQUIRES: a write transaction is open. kRuntime when the file is newer than this build.
Status migrate(Db& db);

}  // namespace lockbox::store::sqlite
