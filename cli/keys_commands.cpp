// `lockbox keys status|rotate|reencrypt|rewrap|generate` (SPEC §5, §6; CRYPTO.md "Rotation").
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <memory>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/expiry.hpp"
#include "core/json_writer.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/secret_output.hpp"
#include "cli/table.hpp"
#include "core/time_format.hpp"
#include "store/master_key.hpp"

namespace lockbox::cli {
namespace {

void write_status_json(const store::KeyStatus& s) {
  JsonWriter json;
  json.begin_object();
  json.key("active_version");
  json.integer(s.active_version);
  json.key("master_key_generation");
  json.integer(s.master_key_generation);
  json.key("keys");
  json.begin_array();
  for (const store::DataKeyStatus& k : s.keys) {
    json.begin_object();
    json.key("version");
    json.integer(k.version);
    json.key("state");
    json.string(k.state);
    json.key("created_at");
    json.string(format_rfc3339(k.created_at));
    json.key("encryptions");
    json.integer(k.encryptions);
    json.key("versions_encrypted");
    json.integer(k.versions_encrypted);
    json.end_object();
  }
  json.end_array();
  // Listed, never silently dropped: each version that failed authentication when re-encrypted.
  json.key("quarantined");
  json.begin_array();
  for (const store::QuarantinedVersion& q : s.quarantined) {
    json.begin_object();
    json.key("scope");
    json.string(q.address.scope.address());
    json.key("name");
    json.string(q.address.name);
    json.key("version");
    json.integer(q.version);
    json.key("key_version");
    json.integer(q.key_id);
    json.key("reason");
    json.string(q.reason);
    json.key("detected_at");
    json.string(format_rfc3339(q.detected_at));
    json.end_object();
  }
  json.end_array();
  json.end_object();
  emit_json(json);
}

std::string due_text(const store::KeyStatus& s, const policies::RotationPolicy& rotation, UnixMillis now) {
  const std::int64_t age = now - s.active_created_at;
  if (age < 0) return "due now (the active key's creation time is in the future: check the clocks)";
  if (age >= rotation.data_key_max_age_ms) {
    return fmt::format("due now (older than {}; run lockbox keys rotate --if-due)",
                       format_human_duration(rotation.data_key_max_age_ms));
  }
  return fmt::format("in {} ({})", format_human_duration(rotation.data_key_max_age_ms - age),
                     format_rfc3339(s.active_created_at + rotation.data_key_max_age_ms));
}

void write_status_text(const store::KeyStatus& s, const policies::RotationPolicy& rotation, UnixMillis now) {
  std::string out = render_fields({
      {"active data key",
       fmt::format("{} (created {}, {})", s.active_version, format_rfc3339(s.active_created_at),
                   now >= s.active_created_at ? format_human_duration(now - s.active_created_at) + " old"
                                              : "in the future")},
      {"next rotation", due_text(s, rotation, now)},
      {"master key", fmt::format("generation {}", s.master_key_generation)},
  });
  Table keys({"VERSION", "STATE", "CREATED", "ENCRYPTIONS", "VERSIONS"});
  for (const store::DataKeyStatus& k : s.keys) {
    keys.add_row({std::to_string(k.version), k.state, format_rfc3339(k.created_at),
                  std::to_string(k.encryptions), std::to_string(k.versions_encrypted)});
  }
  out += "\n" + keys.render();
  if (s.quarantined.empty()) {
    out += "\nquarantine: empty\n";
  } else {
    Table q({"QUARANTINED", "KEY", "DETECTED", "REASON"});
    for (const store::QuarantinedVersion& v : s.quarantined) {
      q.add_row({fmt::format("{}@v{}", v.address.reference(), v.version), std::to_string(v.key_id),
                 format_rfc3339(v.detected_at), v.reason});
    }
    out += "\n" + q.render();
  }
  write_stdout(out);
}

Status keys_status(const GlobalOptions& globals) {
  LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(const store::KeyStatus status, store->key_status());
  if (ctx.json()) {
    write_status_json(status);
  } else {
    write_status_text(status, ctx.policy().rotation, process_clock().now());
  }
  return Status::ok();
}

void print_rotation(const Context& ctx, const store::RotateResult& r, bool due_checked, std::string_view note) {
  if (ctx.json()) {
    JsonWriter json;
    json.begin_object();
    json.key("rotated");
    json.boolean(r.rotated);
    json.key("previous_version");
    json.integer(r.previous);
    json.key("active_version");
    json.integer(r.active);
    json.end_object();
    emit_json(json);
    return;
  }
  if (r.rotated) {
    print_note(fmt::format("rotated: data key {} is active; key {} is now decrypt_only (run lockbox keys "
                           "reencrypt to move its versions)", r.active, r.previous));
  } else if (due_checked) {
    print_note(std::string(note));
  } else {
    print_note(fmt::format("another rotation finished first: data key {} is active; nothing done", r.active));
  }
}

Status keys_rotate(const GlobalOptions& globals, bool if_due) {
  LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(const store::KeyStatus status, store->key_status());
  const std::int64_t max_age = ctx.policy().rotation.data_key_max_age_ms;
  const std::int64_t age = process_clock().now() - status.active_created_at;
  // A creation time in the future (a wrong clock when the key was made) counts as due: otherwise
  // scheduled rotation would stay off until that date.
  if (if_due && age >= 0 && age < max_age) {
    const store::RotateResult nothing{false, status.active_version, status.active_version};
    print_rotation(ctx, nothing, true,
                   fmt::format("data key {} is {} old; rotation is due in {}; nothing done",
                               status.active_version, format_human_duration(age), format_human_duration(max_age - age)));
    return Status::ok();
  }
  const std::string reason = if_due ? fmt::format("due: {} old", format_human_duration(age)) : "requested";
  // Compare-and-swap on the active key seen above: of two concurrent rotations one does the work.
  LOCKBOX_ASSIGN_OR_RETURN(const store::RotateResult result,
                           store->rotate_data_key(status.active_version, reason));
  print_rotation(ctx, result, false, {});
  return Status::ok();
}

Status keys_reencrypt(const GlobalOptions& globals, std::size_t batch_size) {
  if (batch_size == 0 || batch_size > 100'000) return bad_input("--batch-size must be between 1 and 100000");
  LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  const auto started = std::chrono::steady_clock::now();
  std::unique_ptr<Progress> progress;
  store::ReencryptOptions options;
  options.batch_size = batch_size;
  options.on_progress = [&progress](const store::ReencryptProgress& p) {
    if (!progress) progress = std::make_unique<Progress>("re-encrypting", static_cast<std::size_t>(p.total));
    progress->update(static_cast<std::size_t>(p.done));
  };
  auto summary = store->reencrypt(options);
  if (progress) progress->finish();
  LOCKBOX_TRY(summary.status());
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  LOCKBOX_ASSIGN_OR_RETURN(const store::KeyStatus status, store->key_status());
  std::string retired;
  for (const std::uint32_t k : summary->retired) retired += (retired.empty() ? "" : ", ") + std::to_string(k);
  if (ctx.json()) {
    JsonWriter json;
    json.begin_object();
    json.key("reencrypted");
    json.integer(summary->reencrypted);
    json.key("quarantined");
    json.integer(static_cast<std::int64_t>(status.quarantined.size()));
    json.key("active_version");
    json.integer(summary->active);
    json.key("retired");
    json.begin_array();
    for (const std::uint32_t k : summary->retired) json.integer(k);
    json.end_array();
    json.key("seconds");
    json.integer(static_cast<std::int64_t>(seconds * 1000) / 1000);
    json.end_object();
    emit_json(json);
  } else {
    print_note(fmt::format("re-encrypted {} versions to data key {} in {:.2f}s ({:.0f}/s); retired keys: {}",
                           summary->reencrypted, summary->active, seconds,
                           seconds > 0 ? static_cast<double>(summary->reencrypted) / seconds : 0.0,
                           retired.empty() ? "none" : retired));
  }
  if (!status.quarantined.empty()) {
    // Not done: the old key stays until each quarantined version is restored or purged.
    return integrity_error(fmt::format("{} versions failed authentication and are quarantined (see lockbox keys "
                                       "status); their data keys stay in use",
                                       status.quarantined.size()));
  }
  return Status::ok();
}

Status keys_rewrap(const GlobalOptions& globals, const std::string& new_key_file) {
  LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
  // Read and check the new key before anything else: a refused file changes nothing (exit 4).
  auto new_key = store::read_key_file(new_key_file);
  if (!new_key.is_ok()) return new_key.status().with_context("--new-master-key-file");
  LOCKBOX_ASSIGN_OR_RETURN(auto old_key, ctx.load_master_key());
  if (!old_key) return key_error("no master key: the current master key is needed to rewrap the keyring");
  const std::string old_source = old_key->source;
  const bool old_in_data_dir = old_key->file == ctx.data_dir() / "master.key";
  LOCKBOX_ASSIGN_OR_RETURN(auto store, store::Store::open(ctx.store_options(), std::move(*old_key)));
  store::MasterKey next{store::MasterKeyKind::kKey, std::move(new_key).value(), {}, new_key_file,
                        std::filesystem::path(new_key_file)};
  LOCKBOX_ASSIGN_OR_RETURN(const std::uint32_t generation, store->rewrap(std::move(next)));
  if (ctx.json()) {
    JsonWriter json;
    json.begin_object();
    json.key("master_key_generation");
    json.integer(generation);
    json.end_object();
    emit_json(json);
  }
  print_note(fmt::format("master key rotated: generation {} is current and generation {} is retired.",
                         generation, generation - 1));
  print_note(fmt::format("From now on open the store with the new key ({}), e.g. --master-key-file or "
                         "LOCKBOX_MASTER_KEY_FILE; the old key ({}) is now stale.",
                         new_key_file, old_source));
  if (old_in_data_dir) {
    print_note(fmt::format("{} still holds the old key: replace it with the new one (lockbox never edits key "
                           "files).", old_source));
  }
  print_note("Backups taken before now still need the old key: keep it until they expire.");
  return Status::ok();
}

Status keys_generate(const std::string& out) {
  LOCKBOX_TRY(store::write_new_key_file(out, OsRandom::instance()));
  print_note(fmt::format("wrote a new random master key to {} (mode 0600); store it durably before using "
                         "it with lockbox keys rewrap",
                         out));
  return Status::ok();
}

}  // namespace

void add_keys_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  CLI::App* keys = parent.add_subcommand("keys", "Data keys and the master key");
  keys->require_subcommand(1);
  keys->fallthrough();

  CLI::App* status = keys->add_subcommand("status", "Data keys, master-key generation, quarantine");
  status->fallthrough();
  status->callback([&globals, &slot] { slot.action = [&globals] { return keys_status(globals); }; });

  CLI::App* rotate = keys->add_subcommand("rotate", "Make a new active data key");
  rotate->fallthrough();
  auto if_due = std::make_shared<bool>(false);
  rotate->add_flag("--if-due", *if_due, "Only when the active key is older than rotation.data_key_max_age");
  rotate->callback([&globals, &slot, if_due] {
    slot.action = [&globals, if_due] { return keys_rotate(globals, *if_due); };
  });

  CLI::App* reencrypt = keys->add_subcommand("reencrypt", "Move every version to the active data key");
  reencrypt->fallthrough();
  auto batch = std::make_shared<std::size_t>(1000);
  reencrypt->add_option("--batch-size", *batch, "Versions per transaction (default 1000)");
  reencrypt->callback([&globals, &slot, batch] {
    slot.action = [&globals, batch] { return keys_reencrypt(globals, *batch); };
  });

  CLI::App* rewrap = keys->add_subcommand("rewrap", "Master-key rotation: rewrap the keyring");
  rewrap->fallthrough();
  auto new_key = std::make_shared<std::string>();
  rewrap->add_option("--new-master-key-file", *new_key, "The new master key file (see keys generate)")
      ->required();
  rewrap->callback([&globals, &slot, new_key] {
    slot.action = [&globals, new_key] { return keys_rewrap(globals, *new_key); };
  });

  CLI::App* generate = keys->add_subcommand("generate", "Write a new random master key file");
  generate->fallthrough();
  auto out = std::make_shared<std::string>();
  generate->add_option("--out", *out, "Where to write it (never overwritten)")->required();
  generate->callback([&slot, out] { slot.action = [out] { return keys_generate(*out); }; });
}

}  // namespace lockbox::cli
