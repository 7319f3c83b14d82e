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
// has fingerprint null and an extra "deleted": true. A secret with a rotation reminder (SPEC §13)
// has "rotation": {rotate_every, notify_before, due_at, due} (durations as the CLI writes them,
// notify_before null when unset; `due` only when `now` is given).
void write_meta_json(JsonWriter& json, const SecretMeta& meta, const SecretValue* value = nullptr,
                     std::optional<UnixMillis> now = std::nullopt);

// A duration in the CLI's grammar (SPEC §1), in the largest unit that divides it: "90d", "36h".
std::string format_duration_exact(std::int64_t ms);

// One element of `secrets history --json`: {version, created_at, actor, fingerprint,
// description, tombstone}.
void write_history_entry(JsonWriter& json, const SecretMeta& version);

}  // namespace lockbox::store
