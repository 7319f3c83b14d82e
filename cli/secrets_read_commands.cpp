// `secrets get | list | history | diff` (SPEC §5): metadata for people (tables) or scripts
// (--json); `get --reveal` is the one read that prints a value.

#include <fmt/format.h>

#include <CLI/CLI.hpp>

#include "cli/arguments.hpp"
#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/expiry.hpp"
#include "cli/output.hpp"
#include "cli/scope_flags.hpp"
#include "cli/secret_output.hpp"
#include "cli/table.hpp"
#include "core/time_format.hpp"

namespace lockbox::cli {
namespace {

struct GetOptions {
  ScopeFlags scope;
  std::string name;
  bool reveal = false;
};

struct ListOptions {
  std::optional<std::string> scope;
  std::optional<std::string> kind;
  std::optional<std::string> ns;
  std::optional<std::string> tag;
  bool include_deleted = false;
};

struct HistoryOptions {
  ScopeFlags scope;
  std::string name;
};

struct DiffOptions {
  ScopeFlags scope;
  std::string name;
  std::string from;
  std::string to;
};

UnixMillis now() {
  return process_clock().now();
}

Status deleted_error(const store::SecretMeta& meta) {
  return not_found(
      fmt::format("{}/{} was deleted at v{}", meta.scope.address(), meta.name, meta.version));
}

// Reminders on stderr, so that stdout (the value under --reveal, or the JSON) stays exactly what
// scripts read. Expired values still print: the owner decides, as with `on_expired: skip`.
void warn_about_age(const store::SecretMeta& meta, UnixMillis t,
                    const policies::RotationPolicy& rotation) {
  const SecretAge age = classify_secret(meta, t, rotation);
  const std::string ref = meta.scope.address() + "/" + meta.name;
  if (age.expired || age.expiring_soon) {
    const std::string when = format_human_duration(age.expires_in_ms);
    print_note(fmt::format("lockbox: warning: {} {} at {} ({})", ref,
                           age.expired ? "expired" : "expires", format_rfc3339(*meta.expires_at),
                           age.expired ? when + " ago" : "in " + when));
  }
  if (meta.rotation_due(t)) {
    print_note(fmt::format("lockbox: warning: {} is due for rotation (since {})", ref,
                           format_rfc3339(*meta.rotation_due_at())));
  }
  if (age.stale) {
    print_note(fmt::format("lockbox: warning: {} {} (rotation.secret_max_age: {})", ref,
                           stale_label(age), format_human_duration(rotation.secret_max_age_ms)));
  }
}

Status run_get(const GlobalOptions& globals, const GetOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(store::SecretAddress address,
                           secret_address(options.scope, options.name));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  const policies::RotationPolicy& rotation = ctx.policy().rotation;
  if (options.reveal) {
    LOCKBOX_ASSIGN_OR_RETURN(store::RevealedSecret secret, store->reveal(address));
    warn_about_age(secret.meta, now(), rotation);
    if (ctx.json()) {
      JsonWriter json;
      write_meta_json(json, secret.meta, &secret.value);
      emit_json(json);
    } else {
      write_stdout(secret.value.reveal());  // verbatim; a newline only for a person
      if (stdout_is_terminal()) write_stdout("\n");
    }
    return Status::ok();
  }
  LOCKBOX_ASSIGN_OR_RETURN(store::SecretMeta meta, store->get(address));
  if (meta.tombstone) return deleted_error(meta);
  const UnixMillis t = now();
  warn_about_age(meta, t, rotation);
  if (ctx.json()) {
    JsonWriter json;
    write_meta_json(json, meta, nullptr, t);
    emit_json(json);
  } else {
    write_stdout(render_meta_fields(meta, t));
  }
  return Status::ok();
}

Result<store::ListFilter> list_filter(const ListOptions& options) {
  store::ListFilter filter;
  // `--scope KIND` (the Fluxbase grammar) filters by kind like --scope-kind; "global" is both a
  // kind and an address and means the one global scope either way.
  const std::optional<ScopeKind> scope_kind = scope_kind_word(options.scope);
  if (scope_kind) {
    if (options.kind && parse_scope_kind(*options.kind) != scope_kind) {
      return bad_input("--scope KIND and --scope-kind name different kinds");
    }
    filter.kind = scope_kind;
  } else if (options.scope) {
    LOCKBOX_ASSIGN_OR_RETURN(filter.scope, Scope::parse(*options.scope));
  }
  if (options.kind && !filter.kind) {
    filter.kind = parse_scope_kind(*options.kind);
    if (!filter.kind) {
      return bad_input(
          "unknown --scope-kind: expected apikey, group, function, namespace or global");
    }
  }
  if (options.ns) {
    LOCKBOX_TRY(validate_name(*options.ns, "namespace"));
    filter.ns = *options.ns;
  }
  if (options.tag) {
    if (options.tag->empty()) return bad_input("--tag must not be empty");
    filter.tag = *options.tag;
  }
  filter.include_deleted = options.include_deleted;
  return filter;
}

// NOTES (last, so a long note never pushes the other columns around) is "-" when the secret is
// fine: an empty last cell would leave trailing blanks after the column gap.
std::string notes_cell(const store::SecretMeta& meta, UnixMillis t,
                       const policies::RotationPolicy& rotation) {
  std::string notes = age_notes(classify_secret(meta, t, rotation));
  if (meta.rotation_due(t)) notes += notes.empty() ? "rotation due" : ", rotation due";
  return notes.empty() ? "-" : notes;
}

void print_list_table(const std::vector<store::SecretMeta>& secrets,
                      const policies::RotationPolicy& rotation) {
  if (secrets.empty()) {
    print_note("no secrets");
    return;
  }
  Table table({"NAME", "SCOPE", "VERSION", "VALUE", "FINGERPRINT", "TAGS", "EXPIRES", "NOTES"});
  const UnixMillis t = now();
  for (const auto& meta : secrets) {
    table.add_row({meta.name, meta.scope.address(), std::to_string(meta.version),
                   meta.tombstone ? "(deleted)" : "********",
                   meta.fingerprint.empty() ? "-" : meta.fingerprint, tags_cell(meta),
                   meta.tombstone ? "-" : expires_cell(meta, t), notes_cell(meta, t, rotation)});
  }
  write_stdout(table.render());
}

Status run_list(const GlobalOptions& globals, const ListOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(store::ListFilter filter, list_filter(options));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  filter.keep_damaged = true;
  LOCKBOX_ASSIGN_OR_RETURN(std::vector<store::SecretMeta> secrets, store->list(filter));
  // A damaged row names its secret on stderr; the others are listed; exit 5 at the end (SPEC §10).
  std::size_t damaged = 0;
  std::erase_if(secrets, [&](const store::SecretMeta& meta) {
    if (meta.damaged.empty()) return false;
    write_stderr("lockbox: " + single_line(meta.damaged) + "\n");
    ++damaged;
    return true;
  });
  if (!ctx.json()) {
    print_list_table(secrets, ctx.policy().rotation);
  } else {
    JsonWriter json;
    json.begin_array();
    const UnixMillis t = now();
    for (const auto& meta : secrets) write_meta_json(json, meta, nullptr, t);
    json.end_array();
    emit_json(json);
  }
  if (damaged == 0) return Status::ok();
  return integrity_error(
      fmt::format("{} secret{} could not be listed (named above); restore {} from a backup",
                  damaged, damaged == 1 ? "" : "s", damaged == 1 ? "it" : "them"));
}

void write_history_json(const std::vector<store::SecretMeta>& versions) {
  JsonWriter json;
  json.begin_array();
  for (const auto& v : versions) {
    write_history_entry(json, v);
  }
  json.end_array();
  emit_json(json);
}

Status run_history(const GlobalOptions& globals, const HistoryOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(store::SecretAddress address,
                           secret_address(options.scope, options.name));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(std::vector<store::SecretMeta> versions, store->history(address));
  if (ctx.json()) {
    write_history_json(versions);
    return Status::ok();
  }
  Table table({"VERSION", "TIME", "ACTOR", "FINGERPRINT", "DELETED", "DESCRIPTION"});
  for (const auto& v : versions) {
    table.add_row({std::to_string(v.version), format_rfc3339(v.updated_at),
                   v.actor.empty() ? "-" : v.actor, v.fingerprint.empty() ? "-" : v.fingerprint,
                   v.tombstone ? "yes" : "no", v.description.empty() ? "-" : v.description});
  }
  write_stdout(table.render());
  return Status::ok();
}

std::vector<std::string> changed_fields(const store::SecretMeta& a, const store::SecretMeta& b) {
  std::vector<std::string> fields;
  if (a.description != b.description) fields.emplace_back("description");
  if (a.tags != b.tags) fields.emplace_back("tags");
  if (a.metadata != b.metadata) fields.emplace_back("metadata");
  if (a.expires_at != b.expires_at) fields.emplace_back("expires_at");
  if (a.tombstone != b.tombstone) fields.emplace_back("tombstone");
  return fields;
}

void print_diff(bool json_output, const store::SecretMeta& a, const store::SecretMeta& b) {
  const bool value_changed = a.fingerprint != b.fingerprint;
  const std::vector<std::string> fields = changed_fields(a, b);
  if (!json_output) {
    std::string text =
        fmt::format("{}/{}: v{} -> v{}\nvalue changed: {}\nchanged fields: {}\n", a.scope.address(),
                    a.name, a.version, b.version, value_changed ? "yes" : "no",
                    fields.empty() ? "-" : fmt::format("{}", fmt::join(fields, ", ")));
    write_stdout(text);
    return;
  }
  JsonWriter json;
  json.begin_object();
  json.key("name");
  json.string(a.name);
  json.key("scope");
  json.string(a.scope.address());
  json.key("from");
  json.integer(a.version);
  json.key("to");
  json.integer(b.version);
  json.key("value_changed");
  json.boolean(value_changed);
  json.key("changed_fields");
  json.begin_array();
  for (const auto& f : fields) json.string(f);
  json.end_array();
  json.end_object();
  emit_json(json);
}

Status run_diff(const GlobalOptions& globals, const DiffOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(store::SecretAddress address,
                           secret_address(options.scope, options.name));
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t from, parse_version(options.from));
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t to, parse_version(options.to));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(store::SecretMeta a, store->get(address, from));
  LOCKBOX_ASSIGN_OR_RETURN(store::SecretMeta b, store->get(address, to));
  print_diff(ctx.json(), a, b);
  return Status::ok();
}

}  // namespace

void add_secrets_read_commands(CLI::App& secrets, const GlobalOptions& globals, ActionSlot& slot) {
  auto get = std::make_shared<GetOptions>();
  CLI::App* cmd = secrets.add_subcommand("get", "Show a secret's metadata (--reveal: its value)");
  add_scope_flags(*cmd, get->scope);
  cmd->add_option("NAME", get->name, "Secret name")->required();
  cmd->add_flag("--reveal", get->reveal, "Print the value (audited)");
  cmd->callback([&, get] { slot.action = [&globals, get] { return run_get(globals, *get); }; });

  auto list = std::make_shared<ListOptions>();
  cmd = secrets.add_subcommand("list", "List secrets (values masked)");
  cmd->add_option("--scope", list->scope,
                  "Only this scope address, or only scopes of this KIND (--scope namespace)");
  cmd->add_option("--scope-kind", list->kind, "Only scopes of this kind");
  cmd->add_option("--namespace", list->ns, "Only namespace:NS and function:NS/* scopes");
  cmd->add_option("--tag", list->tag, "Only secrets with this tag");
  cmd->add_flag("--include-deleted", list->include_deleted, "Also list deleted secrets");
  cmd->callback([&, list] { slot.action = [&globals, list] { return run_list(globals, *list); }; });

  auto history = std::make_shared<HistoryOptions>();
  cmd = secrets.add_subcommand("history", "List every version of a secret");
  add_scope_flags(*cmd, history->scope);
  cmd->add_option("NAME", history->name, "Secret name")->required();
  cmd->callback([&, history] {
    slot.action = [&globals, history] { return run_history(globals, *history); };
  });

  auto diff = std::make_shared<DiffOptions>();
  cmd = secrets.add_subcommand("diff", "Compare two versions of a secret");
  add_scope_flags(*cmd, diff->scope);
  cmd->add_option("NAME", diff->name, "Secret name")->required();
  cmd->add_option("V1", diff->from, "First version")->required();
  cmd->add_option("V2", diff->to, "Second version")->required();
  cmd->callback([&, diff] { slot.action = [&globals, diff] { return run_diff(globals, *diff); }; });
}

}  // namespace lockbox::cli
