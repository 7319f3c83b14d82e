#include "cli/secret_output.hpp"

#include "cli/expiry.hpp"
#include "cli/output.hpp"
#include "cli/table.hpp"
#include "core/time_format.hpp"

namespace lockbox::cli {
namespace {

// The `expires` field of `secrets get`: unlike the compact list cell, it says how long ago.
std::string expires_field(const store::SecretMeta& meta, UnixMillis now) {
  if (!meta.expires_at) return "-";
  const UnixMillis at = *meta.expires_at;
  const std::string when = format_human_duration(at - now);
  if (at <= now) return format_rfc3339(at) + " (expired " + when + " ago)";
  return format_rfc3339(at) + " (in " + when + ")";
}

}  // namespace

void emit_json(const JsonWriter& json) {
  write_stdout(json.view());
  write_stdout("\n");
}

std::string expires_cell(const store::SecretMeta& meta, UnixMillis now) {
  if (!meta.expires_at) return "-";
  const UnixMillis at = *meta.expires_at;
  if (at <= now) return format_rfc3339(at) + " (expired)";
  return format_rfc3339(at) + " (in " + format_human_duration(at - now) + ")";
}

std::string tags_cell(const store::SecretMeta& meta) {
  if (meta.tags.empty()) return "-";
  std::string out;
  for (const auto& tag : meta.tags) {
    if (!out.empty()) out += ", ";
    out += tag;
  }
  return out;
}

std::string metadata_cell(const store::SecretMeta& meta) {
  if (meta.metadata.empty()) return "-";
  std::string out;
  for (const auto& [k, v] : meta.metadata) {
    if (!out.empty()) out += ", ";
    out.append(k).append("=").append(v);
  }
  return out;
}

namespace {
// "every 90d, notice 7d; due 2026-...Z (rotation due)" / "-".
std::string rotation_field(const store::SecretMeta& meta, UnixMillis now) {
  const auto due_at = meta.rotation_due_at();
  if (!due_at) return "-";
  std::string out = "every " + store::format_duration_exact(*meta.rotate_every_ms);
  if (meta.notify_before_ms)
    out += ", notice " + store::format_duration_exact(*meta.notify_before_ms);
  out += "; due " + format_rfc3339(*due_at);
  if (meta.rotation_due(now)) out += " (rotation due)";
  return out;
}
}  // namespace

std::string render_meta_fields(const store::SecretMeta& meta, UnixMillis now) {
  std::vector<std::pair<std::string, std::string>> fields = {
      {"name", meta.name},
      {"scope", meta.scope.address()},
      {"version", std::to_string(meta.version)},
      {"value", "********"},
      {"fingerprint", meta.fingerprint.empty() ? "-" : meta.fingerprint},
      {"description", meta.description.empty() ? "-" : meta.description},
      {"tags", tags_cell(meta)},
      {"metadata", metadata_cell(meta)},
      {"expires", expires_field(meta, now)},
      {"created", format_rfc3339(meta.created_at)},
      {"updated",
       format_rfc3339(meta.updated_at) + (meta.actor.empty() ? "" : " by " + meta.actor)},
  };
  if (meta.rotation_due_at())
    fields.insert(fields.end() - 2, {"rotation", rotation_field(meta, now)});
  return render_fields(fields);
}

}  // namespace lockbox::cli
