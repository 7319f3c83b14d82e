#pragma once
// Rendering secret metadata for the commands: the JSON object of SPEC §5 (exact fields) and the
// cells and field blocks of the people-facing tables. Nothing here prints a value except
// write_meta_json() when it is handed one (get --reveal --json).

#include <string>

#include "core/json_writer.hpp"
#include "store/meta_json.hpp"
#include "core/clock.hpp"
#include "core/secret_value.hpp"
#include "store/types.hpp"

namespace lockbox::cli {

// Writes the finished document and a newline to stdout.
void emit_json(const JsonWriter& json);

// "-" when unset; "2026-01-31T12:00:00Z (in 3d)"; "2026-01-31T12:00:00Z (expired)".
std::string expires_cell(const store::SecretMeta& meta, UnixMillis now);
// "a, b" / "-".
std::string tags_cell(const store::SecretMeta& meta);
// "k=v, k2=v2" / "-".
std::string metadata_cell(const store::SecretMeta& meta);

// The field block of `secrets get` for people (name, scope, version, ... updated).
std::string render_meta_fields(const store::SecretMeta& meta, UnixMillis now);

}  // namespace lockbox::cli
