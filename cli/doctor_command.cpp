// `lockbox doctor [--json]` (SPEC §5): checks what an operator should fix before it bites —
// permissions of the data dir, database and key file, where the master key lives, production
// namespaces open to host overrides, expired, expiring and stale secrets, keys due for rotation,
// quarantined rows and token rows that fail authentication. Each finding is an action (exit 1) or
// a warning (exit 0), with what to do.
// Never a value: findings name secrets by reference only. docs/DOCTOR.md is the user's guide.

#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/doctor.hpp"
#include "cli/expiry.hpp"
#include "cli/output.hpp"
#include "cli/policy_source.hpp"
#include "cli/secret_output.hpp"
#include "core/json_writer.hpp"
#include "core/time_format.hpp"

namespace lockbox::cli {
namespace {

using namespace doctor;

namespace fs = std::filesystem;

std::string store_fix(const Status& status) {
  switch (status.code()) {
    case StatusCode::kKey:
      return "use the master key this store was created with (after keys rewrap, the new one)";
    case StatusCode::kIntegrity: return "restore the store from a backup";
    case StatusCode::kBadInput: return "pass a supported --store URL";
    default: return "run lockbox init to create a store, or pass the right --data-dir/--store";
  }
}

std::unique_ptr<store::Store> open_checked_store(const Context& ctx, store::MasterKey key,
                                                 Report& report) {
  auto opened = store::Store::open(ctx.store_options(), std::move(key));
  if (opened.is_ok()) return std::move(opened).value();
  report.action("store", "cannot open the store: " + opened.status().message(),
                store_fix(opened.status()));
  return nullptr;
}

// ---- policy ----

bool looks_like_production(const std::string& ns) {
  std::string lower(ns);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return lower == "prod" || lower == "production" || lower == "prd" || lower == "live" ||
         lower.starts_with("prod-") || lower.starts_with("prod_");
}

// Every namespace the policy or the store mentions: one without a policy entry still gets the
// default env_override (allow).
std::set<std::string> known_namespaces(const policies::Policy& policy,
                                       const std::vector<store::SecretMeta>& secrets) {
  std::set<std::string> names;
  for (const auto& [name, entry] : policy.namespaces) names.insert(name);
  for (const auto* group : {&policy.functions, &policy.jobs}) {
    for (const auto& [name, fn] : *group) names.insert(fn.ns.value_or("default"));
  }
  for (const auto& meta : secrets) {
    const ScopeKind kind = meta.scope.kind();
    if (kind == ScopeKind::kNamespace || kind == ScopeKind::kFunction)
      names.insert(meta.scope.id());
  }
  return names;
}

void check_policy(const policies::Policy& policy, const std::vector<store::SecretMeta>& secrets,
                  Report& report) {
  const std::string vars =
      policy.inject.prefix.empty() ? "variables" : policy.inject.prefix + "* variables";
  for (const std::string& ns : known_namespaces(policy, secrets)) {
    if (!looks_like_production(ns)) continue;
    if (policy.env_override_for(ns) != policies::EnvOverride::kAllow) continue;
    const bool explicit_entry = policy.namespaces.count(ns) > 0;
    report.warning("policy",
                   fmt::format("namespace {} looks like production and allows env overrides "
                               "(env_override: allow{})",
                               ns, explicit_entry ? "" : ", the default"),
                   fmt::format("host {} can override stored secrets there; set env_override: "
                               "deny under namespaces: {}",
                               vars, ns));
  }
}

// ---- secrets ----

std::string secret_flags(const store::SecretMeta& meta) {
  return fmt::format("{} --scope {}", meta.name, meta.scope.address());
}

void check_secret(const store::SecretMeta& meta, UnixMillis now,
                  const policies::RotationPolicy& rotation, Report& report) {
  const SecretAge age = classify_secret(meta, now, rotation);
  const std::string ref = meta.scope.address() + "/" + meta.name;
  const std::string flags = secret_flags(meta);
  if (age.expired) {
    report.action("secrets",
                  fmt::format("{} expired at {} ({} ago)", ref, format_rfc3339(*meta.expires_at),
                              format_human_duration(age.expires_in_ms)),
                  fmt::format("store a new value (lockbox secrets set {} --expires DUR) or "
                              "delete it (lockbox secrets delete {})",
                              flags, flags));
  } else if (age.expiring_soon) {
    report.warning(
        "secrets",
        fmt::format("{} expires at {} (in {}; rotation.notify_before: {})", ref,
                    format_rfc3339(*meta.expires_at), format_human_duration(age.expires_in_ms),
                    format_human_duration(rotation.notify_before_ms)),
        fmt::format("store a new value before then (lockbox secrets set {})", flags));
  }
  if (age.stale && !age.expired) {
    report.action("secrets",
                  fmt::format("{} {} (rotation.secret_max_age: {})", ref, stale_label(age),
                              format_human_duration(rotation.secret_max_age_ms)),
                  fmt::format("rotate the value at its issuer and store the new one (lockbox "
                              "secrets set {})",
                              flags));
  }
  // The secret's own reminder (secrets set --rotate-every, SPEC §13): due is an action.
  if (meta.rotation_due(now)) {
    report.action(
        "secrets",
        fmt::format("{} is due for rotation since {} (rotate every {})", ref,
                    format_rfc3339(*meta.rotation_due_at()),
                    store::format_duration_exact(*meta.rotate_every_ms)),
        fmt::format("rotate the value at its issuer and store the new one (lockbox secrets set {})",
                    flags));
  }
}

// ---- keys ----

void check_keys(store::Store& store, UnixMillis now, const policies::RotationPolicy& rotation,
                Report& report) {
  auto status = store.key_status();
  if (!status.is_ok()) {
    report.action("keys", "cannot read the key status: " + status.status().message(),
                  "run lockbox keys status for details");
    return;
  }
  const store::KeyStatus& keys = status.value();
  const std::int64_t active_age = now - keys.active_created_at;
  if (active_age < 0) {
    report.action("keys",
                  fmt::format("active data key v{} was created in the future ({}): a wrong clock "
                              "would keep scheduled rotation off",
                              keys.active_version, format_rfc3339(keys.active_created_at)),
                  "check the system clock, then lockbox keys rotate");
  } else if (active_age > rotation.data_key_max_age_ms) {
    report.action("keys",
                  fmt::format("active data key v{} is {} old (rotation.data_key_max_age: {})",
                              keys.active_version, format_human_duration(active_age),
                              format_human_duration(rotation.data_key_max_age_ms)),
                  "lockbox keys rotate, then lockbox keys reencrypt");
  }
  for (const store::DataKeyStatus& key : keys.keys) {
    if (key.state == "active" || key.versions_encrypted == 0) continue;
    report.warning("keys",
                   fmt::format("data key v{} is {} but still encrypts {} secret version(s)",
                               key.version, key.state, key.versions_encrypted),
                   "lockbox keys reencrypt");
  }
  for (const store::QuarantinedVersion& q : keys.quarantined) {
    report.action("keys",
                  fmt::format("{}@v{} failed authentication and is quarantined ({})",
                              q.address.reference(), q.version, q.reason),
                  fmt::format("restore the row from a backup and run lockbox keys reencrypt (it "
                              "checks the quarantine again), or purge the secret (lockbox secrets "
                              "delete {} --scope {} --purge)",
                              q.address.name, q.address.scope.address()));
  }
}

// ---- tokens ----

// A token row that fails authentication (SPEC §17) was made or edited without the master key:
// serve refuses it, and it names an attacker's way in until it is revoked.
void check_tokens(store::Store& store, Report& report) {
  auto tokens = store.list_tokens();
  if (!tokens.is_ok()) {
    report.action("tokens", "cannot list the API tokens: " + tokens.status().message(),
                  "run lockbox tokens list for details");
    return;
  }
  for (const store::TokenInfo& t : tokens.value()) {
    if (t.authentic) continue;
    report.action("tokens",
                  fmt::format("token {} (id {}) fails authentication: its row was made or edited "
                              "outside lockbox, and serve refuses it",
                              t.name, t.id),
                  fmt::format("revoke it (lockbox tokens revoke {}) and find out who can write "
                              "the store",
                              t.name));
  }
}

// ---- output ----

std::string summary(const Report& report) {
  const std::size_t actions = report.count(Severity::kAction);
  const std::size_t warnings = report.count(Severity::kWarning);
  if (actions == 0 && warnings == 0) return "doctor: no problems found";
  const std::string warning_text = fmt::format("{} warning{}", warnings, warnings == 1 ? "" : "s");
  if (actions == 0) return "doctor: nothing needs action, " + warning_text;
  std::string text = fmt::format("doctor: {} problem{} need{} action", actions,
                                 actions == 1 ? "" : "s", actions == 1 ? "s" : "");
  return warnings == 0 ? text : text + ", " + warning_text;
}

void print_human(const Report& report) {
  std::string out;
  for (const Finding& f : report.findings) {
    out += fmt::format("{}: {} \u2014 {}\n", f.severity == Severity::kAction ? "error" : "warning",
                       single_line(f.message), single_line(f.fix));
  }
  out += summary(report) + "\n";
  write_stdout(out);
}

void print_json(const Report& report) {
  JsonWriter json;
  json.begin_object();
  json.key("ok");
  json.boolean(report.count(Severity::kAction) == 0);
  json.key("findings");
  json.begin_array();
  for (const Finding& f : report.findings) {
    json.begin_object();
    json.key("severity");
    json.string(f.severity == Severity::kAction ? "action" : "warning");
    json.key("check");
    json.string(f.check);
    json.key("message");
    json.string(f.message);
    json.key("fix");
    json.string(f.fix);
    json.end_object();
  }
  json.end_array();
  json.end_object();
  emit_json(json);
}

// ---- the command ----

// A broken policy file is a finding, not the end of the examination: the other checks run under
// the built-in default policy.
Result<Context> doctor_context(const GlobalOptions& globals, Report& report) {
  auto ctx = Context::create(globals);
  if (ctx.is_ok()) return ctx;
  const auto policy = load_policy(globals);
  if (policy.is_ok()) return ctx.status();
  report.action("policy", policy.status().message(),
                "fix the policy file (lockbox policy check FILE lists the errors)");
  GlobalOptions defaults = globals;
  defaults.builtin_policy = true;
  return Context::create(defaults);
}

Result<int> run_doctor(const GlobalOptions& globals) {
  Report report;
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, doctor_context(globals, report));
  const UnixMillis now = process_clock().now();
  const policies::RotationPolicy& rotation = ctx.policy().rotation;
  check_data_dir(ctx, report);
  check_database_files(ctx, report);
  std::unique_ptr<store::Store> store;
  if (auto key = check_master_key(ctx, globals, report))
    store = open_checked_store(ctx, std::move(*key), report);
  std::vector<store::SecretMeta> secrets;
  if (store) {
    store::ListFilter filter;
    filter.keep_damaged = true;
    auto listed = store->list(filter);
    if (listed.is_ok()) {
      secrets = std::move(listed).value();
      std::erase_if(secrets, [&](const store::SecretMeta& meta) {
        if (meta.damaged.empty()) return false;
        report.action("secrets", meta.damaged,
                      "restore the store from a backup, or overwrite the secret "
                      "(lockbox secrets set " +
                          secret_flags(meta) + ")");
        return true;
      });
    } else {
      report.action("secrets", "cannot list the secrets: " + listed.status().message(),
                    "run lockbox secrets list for details");
    }
  }
  check_policy(ctx.policy(), secrets, report);
  for (const auto& meta : secrets) check_secret(meta, now, rotation, report);
  if (store) check_keys(*store, now, rotation, report);
  if (store) check_tokens(*store, report);
  if (ctx.json()) {
    print_json(report);
  } else {
    print_human(report);
  }
  return report.count(Severity::kAction) == 0 ? 0 : 1;
}

}  // namespace

void add_doctor_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  CLI::App* cmd = parent.add_subcommand(
      "doctor", "Check permissions, key placement, expiring secrets and keys due for rotation");
  cmd->callback([&globals, &slot] {
    slot.action = [&globals, &slot]() -> Status {
      LOCKBOX_ASSIGN_OR_RETURN(const int code, run_doctor(globals));
      slot.exit_code = code;  // 1 when something needs action; warnings alone keep 0
      return Status::ok();
    };
  });
}

}  // namespace lockbox::cli
