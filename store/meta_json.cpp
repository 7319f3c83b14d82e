#include "store/meta_json.hpp"

#include "core/time_format.hpp"

namespace lockbox::store {

std::string format_duration_exact(std::int64_t ms) {
  struct Unit {
    std::int64_t ms;
    char suffix;
  };
  constexpr Unit kUnits[] = {{86'400'000, 'd'}, {3'600'000, 'h'}, {60'000, 'm'}, {1000, 's'}};
  for (const Unit& u : kUnits) {
    if (ms >= u.ms && ms % u.ms == 0) return std::to_string(ms / u.ms) + u.suffix;
  }
  return std::to_string((ms + 999) / 1000) + "s";
}

namespace {
void write_rotation(JsonWriter& json, const SecretMeta& meta, std::optional<UnixMillis> now) {
  json.key("rotation");
  json.begin_object();
  json.key("rotate_every");
  json.string(format_duration_exact(*meta.rotate_every_ms));
  json.key("notify_before");
  if (meta.notify_before_ms) {
    json.string(format_duration_exact(*meta.notify_before_ms));
  } else {
    json.null();
  }
  json.key("due_at");
  json.string(format_rfc3339(*meta.rotation_due_at()));
  if (now) {
    json.key("due");
    json.boolean(meta.rotation_due(*now));
  }
  json.end_object();
}
}  // namespace

void write_meta_json(JsonWriter& json, const SecretMeta& meta, const SecretValue* value,
                     std::optional<UnixMillis> now) {
  json.begin_object();
  json.key("name");
  json.string(meta.name);
  json.key("scope");
  json.string(meta.scope.address());
  json.key("version");
  json.integer(meta.version);
  json.key("fingerprint");
  if (meta.tombstone || meta.fingerprint.empty()) {
    json.null();
  } else {
    json.string(meta.fingerprint);
  }
  json.key("description");
  json.string(meta.description);
  json.key("tags");
  json.begin_array();
  for (const auto& tag : meta.tags) json.string(tag);
  json.end_array();
  json.key("metadata");
  json.begin_object();
  for (const auto& [k, v] : meta.metadata) {
    json.key(k);
    json.string(v);
  }
  json.end_object();
  json.key("expires_at");
  if (meta.expires_at) {
    json.string(format_rfc3339(*meta.expires_at));
  } else {
    json.null();
  }
  json.key("created_at");
  json.string(format_rfc3339(meta.created_at));
  json.key("updated_at");
  json.string(format_rfc3339(meta.updated_at));
  if (meta.tombstone) {
    json.key("deleted");
    json.boolean(true);
  }
  if (meta.rotation_due_at()) write_rotation(json, meta, now);
  if (value != nullptr) {
    json.key("value");
    json.string(value->reveal());
  }
  json.end_object();
}

void write_history_entry(JsonWriter& json, const SecretMeta& v) {
  json.begin_object();
  json.key("version");
  json.integer(v.version);
  json.key("created_at");
  json.string(format_rfc3339(v.updated_at));
  json.key("actor");
  json.string(v.actor);
  json.key("fingerprint");
  if (v.tombstone || v.fingerprint.empty()) {
    json.null();
  } else {
    json.string(v.fingerprint);
  }
  json.key("description");
  json.string(v.description);
  json.key("tombstone");
  json.boolean(v.tombstone);
  json.end_object();
}

}  // namespace lockbox::store
