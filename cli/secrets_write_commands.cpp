// `secrets set | delete | rollback` (SPEC §5). Every input is checked before the value is read
// and before the store is opened, so bad input (exit 2) changes nothing and needs no key.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/expiry.hpp"
#include "cli/output.hpp"
#include "cli/scope_flags.hpp"
#include "cli/secret_output.hpp"
#include "cli/value_input.hpp"
#include "core/time_format.hpp"

namespace lockbox::cli {
namespace {

struct SetOptions {
  ScopeFlags scope;
  std::string name;
  std::optional<std::string> value;  // wiped as soon as it is copied into a SecretValue
  std::optional<std::string> description;
  std::vector<std::string> tags;
  std::vector<std::string> meta;
  std::optional<std::string> expires;
  std::optional<std::string> from_file;
  std::optional<std::string> rotate_every;   // a duration, or 0 to remove the reminder
  std::optional<std::string> notify_before;  // a duration, or 0
};

struct DeleteOptions {
  ScopeFlags scope;
  std::string name;
  bool purge = false;
  bool yes = false;
};

struct RollbackOptions {
  ScopeFlags scope;
  std::string name;
  std::string version;
};

Result<std::map<std::string, std::string>> parse_meta(const std::vector<std::string>& pairs) {
  std::map<std::string, std::string> out;
  for (const std::string& pair : pairs) {
    const auto eq = pair.find('=');
    if (eq == std::string::npos || eq == 0) return bad_input("--meta must be KEY=VALUE");
    if (!out.emplace(pair.substr(0, eq), pair.substr(eq + 1)).second) {
      return bad_input("--meta key given twice");
    }
  }
  return out;
}

// --rotate-every / --notify-before: a duration (SPEC §1), or 0 to remove the reminder.
Result<std::optional<std::int64_t>> reminder_option(const std::optional<std::string>& text,
                                                    const char* flag) {
  if (!text) return std::optional<std::int64_t>();
  if (*text == "0") return std::optional<std::int64_t>(0);
  auto ms = parse_duration(*text);
  if (!ms.is_ok())
    return bad_input(fmt::format("{}: expected a duration (e.g. 90d), or 0 to remove it", flag));
  return std::optional<std::int64_t>(*ms);
}

// Everything about a set except the value: checked before the value is read.
Result<store::SetRequest> set_request(const SetOptions& options, const store::Limits& limits) {
  store::SetRequest request;
  LOCKBOX_ASSIGN_OR_RETURN(request.address, secret_address(options.scope, options.name));
  if (options.description) {
    if (options.description->size() > limits.max_description_bytes) {
      return bad_input(
          fmt::format("description is longer than {} bytes", limits.max_description_bytes));
    }
    request.description = *options.description;
  }
  if (!options.tags.empty()) {
    if (options.tags.size() > limits.max_tags) {
      return bad_input(fmt::format("more than {} tags", limits.max_tags));
    }
    request.tags = options.tags;
  }
  if (!options.meta.empty()) {
    LOCKBOX_ASSIGN_OR_RETURN(request.metadata, parse_meta(options.meta));
  }
  if (options.expires) {
    const UnixMillis now = process_clock().now();
    auto at = parse_time_or_duration(*options.expires, now, Direction::kFuture);
    if (!at.is_ok()) {
      return bad_input(
          "--expires: expected a duration (e.g. 30d) or an RFC 3339 time (e.g. "
          "2026-01-31T12:00:00Z)");
    }
    if (at.value() <= now) return bad_input("--expires: the time is in the past");
    LOCKBOX_TRY(check_expiry_cap(at.value(), "--expires"));
    request.expires_at = at.value();
  }
  LOCKBOX_ASSIGN_OR_RETURN(request.rotate_every_ms,
                           reminder_option(options.rotate_every, "--rotate-every"));
  LOCKBOX_ASSIGN_OR_RETURN(request.notify_before_ms,
                           reminder_option(options.notify_before, "--notify-before"));
  return request;
}

Status run_set(const GlobalOptions& globals, SetOptions& options) {
  const ScopedWipe wipe_argv_value(options.value);
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  const store::Limits& limits = ctx.store_options().limits;
  LOCKBOX_ASSIGN_OR_RETURN(store::SetRequest request, set_request(options, limits));
  LOCKBOX_ASSIGN_OR_RETURN(
      request.value, read_secret_value(options.value, options.from_file,
                                       fmt::format("value for {} (input hidden): ", options.name),
                                       limits.max_value_bytes));
  LOCKBOX_TRY(check_value(request.value, limits.max_value_bytes, "value"));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(store::WriteResult written, store->set(std::move(request)));
  if (ctx.json()) {
    JsonWriter json;
    write_meta_json(json, written.meta);
    emit_json(json);
  } else {
    print_note(fmt::format("{} {}/{} v{}",
                           written.outcome == store::WriteOutcome::kCreated ? "created" : "updated",
                           written.meta.scope.address(), written.meta.name, written.meta.version));
  }
  return Status::ok();
}

// --purge asks for the name at a terminal; without one it needs --yes.
Status confirm_purge(const DeleteOptions& options, const store::SecretAddress& address) {
  if (options.yes) return Status::ok();
  if (!stdin_is_terminal()) {
    return bad_input(
        "--purge destroys every version: confirm with --yes (stdin is not a terminal)");
  }
  write_stderr(fmt::format("this destroys every version of {}; type the secret name to confirm: ",
                           address.reference()));
  std::string answer;
  char c = 0;
  while (::read(0, &c, 1) == 1 && c != '\n') answer += c;
  if (answer != options.name) return bad_input("confirmation did not match: nothing was purged");
  return Status::ok();
}

void print_removal(const Context& ctx, const store::SecretAddress& address, bool purged,
                   std::int64_t version) {
  if (ctx.json()) {
    JsonWriter json;
    json.begin_object();
    json.key("name");
    json.string(address.name);
    json.key("scope");
    json.string(address.scope.address());
    json.key(purged ? "purged" : "deleted");
    json.boolean(true);
    if (!purged) {
      json.key("version");
      json.integer(version);
    }
    json.end_object();
    emit_json(json);
  } else if (purged) {
    print_note(fmt::format("purged {} (every version destroyed)", address.reference()));
  } else {
    print_note(fmt::format("deleted {} at v{}", address.reference(), version));
  }
}

Status run_delete(const GlobalOptions& globals, const DeleteOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(store::SecretAddress address,
                           secret_address(options.scope, options.name));
  if (options.purge && !options.yes && !stdin_is_terminal()) {
    LOCKBOX_TRY(confirm_purge(options, address));  // fails before the store is touched
  }
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  if (!options.purge) {
    LOCKBOX_ASSIGN_OR_RETURN(store::SecretMeta meta, store->remove(address));
    print_removal(ctx, address, false, meta.version);
    return Status::ok();
  }
  LOCKBOX_TRY(store->get(address));  // exit 3 before asking about a secret that is not there
  LOCKBOX_TRY(confirm_purge(options, address));
  LOCKBOX_TRY(store->purge(address));
  print_removal(ctx, address, true, 0);
  return Status::ok();
}

Status run_rollback(const GlobalOptions& globals, const RollbackOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(store::SecretAddress address,
                           secret_address(options.scope, options.name));
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t version, parse_version(options.version));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(store::SecretMeta meta, store->rollback(address, version));
  if (ctx.json()) {
    JsonWriter json;
    write_meta_json(json, meta);
    emit_json(json);
  } else {
    print_note(
        fmt::format("rolled back {} to v{} as v{}", address.reference(), version, meta.version));
  }
  return Status::ok();
}

void add_set_command(CLI::App& secrets, const GlobalOptions& globals, ActionSlot& slot) {
  auto set = std::make_shared<SetOptions>();
  CLI::App* cmd = secrets.add_subcommand("set", "Create or update a secret (value from stdin)");
  add_scope_flags(*cmd, set->scope);
  cmd->add_option("NAME", set->name, "Secret name")->required();
  CLI::Option* value_option =
      cmd->add_option("VALUE", set->value, "The value (prefer stdin: argv is visible to others)");
  cmd->add_option("--description", set->description, "Description (at most 1 KiB)");
  cmd->add_option("--tag", set->tags, "Tag (repeatable)")->allow_extra_args(false);
  cmd->add_option("--meta", set->meta, "Metadata KEY=VALUE (repeatable)")->allow_extra_args(false);
  cmd->add_option("--expires", set->expires, "Expiry: a duration (30d) or an RFC 3339 time");
  cmd->add_option("--from-file", set->from_file, "Read the value from this file, verbatim");
  cmd->add_option("--rotate-every", set->rotate_every,
                  "Rotation reminder: due this long after each new value (90d); 0 removes it");
  cmd->add_option("--notify-before", set->notify_before,
                  "Report the rotation as due this long before the period ends (7d); 0 removes it");
  cmd->callback([&, set, value_option] {
    // CLI11 keeps its own copy of VALUE next to the one bound to `set->value`: wipe it now.
    for (const std::string& kept : value_option->results()) {
      wipe(const_cast<char*>(kept.data()),
           kept.size());  // NOLINT(cppcoreguidelines-pro-type-const-cast)
    }
    slot.action = [&globals, set] { return run_set(globals, *set); };
  });
}

}  // namespace

void add_secrets_write_commands(CLI::App& secrets, const GlobalOptions& globals, ActionSlot& slot) {
  add_set_command(secrets, globals, slot);

  auto del = std::make_shared<DeleteOptions>();
  CLI::App* cmd = secrets.add_subcommand("delete", "Delete a secret (a tombstone version)");
  add_scope_flags(*cmd, del->scope);
  cmd->add_option("NAME", del->name, "Secret name")->required();
  cmd->add_flag("--purge", del->purge, "Destroy every version instead (asks unless --yes)");
  cmd->add_flag("--yes,-y", del->yes, "Do not ask before --purge");
  cmd->callback([&, del] { slot.action = [&globals, del] { return run_delete(globals, *del); }; });

  auto rollback = std::make_shared<RollbackOptions>();
  cmd = secrets.add_subcommand("rollback", "Write a new version with an old version's content");
  add_scope_flags(*cmd, rollback->scope);
  cmd->add_option("NAME", rollback->name, "Secret name")->required();
  cmd->add_option("VERSION", rollback->version, "The version to bring back")->required();
  cmd->callback([&, rollback] {
    slot.action = [&globals, rollback] { return run_rollback(globals, *rollback); };
  });
}

}  // namespace lockbox::cli
