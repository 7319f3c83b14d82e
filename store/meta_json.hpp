#pragma once
// The exact JSON shapes of secret metadata (SPEC §5, reused by the REST API of §8), so
// `secrets get --json` and `GET /api/v1/admin/secrets/{name}` print the same object. Nothing here
// writes a value unless it is handed one.

#include "core/json_writer.hpp"
#include "core/secret_value.hpp"
#include "store/types.hpp"

namespace lockbox::store {

// The object {name, scope, version, fingerprint, description, tags, metadata, expires_at,
// created_at, updated_at} (+ value when `value` is given). A tombstone (list --include-deleted)
// has fingerprint null and an extra "deleted": true.
void write_meta_json(JsonWriter& json, const SecretMeta& meta, const SecretValue* value = nullptr);

// One element of `secrets history --json`: {version, created_at, actor, fingerprint,
// description, tombstone}.
void write_history_entry(JsonWriter& json, const SecretMeta& version);

}  // namespace lockbox::store
