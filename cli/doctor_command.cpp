// `lockbox doctor [--json]` (SPEC §5): checks what an operator should fix before it bites —
// permissions of the data dir, database and key file, where the master key lives, production
// namespaces open to host overrides, expired, expiring and stale secrets, keys due for rotation and
// quarantined rows. Each finding is an action (exit 1) or a warning (exit 0), with what to do.
// Never a value: findings name secrets by reference only. docs/DOCTOR.md is the user's guide.

#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <set>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/expiry.hpp"
#include "cli/json_writer.hpp"
#include "cli/output.hpp"
#include "cli/policy_source.hpp"
#include "cli/secret_output.hpp"
#include "core/time_format.hpp"

namespace lockbox::cli {
namespace {

namespace fs = std::filesystem;

constexpr std::string_view kKeyPlacementFix =
    "fine for local development; in production keep the master key elsewhere, e.g. "
    "LOCKBOX_MASTER_KEY from a secrets manager or a file on another volume";

enum class Severity { kAction, kWarning };

struct Finding {
  Severity severity;
  std::string check;  // data_dir, database, master_key, store, policy, secrets, keys
  std::string message;
  std::string fix;
};

struct Report {
  std::vector<Finding> findings;

  void action(std::string check, std::string message, std::string fix) {
    findings.push_back({Severity::kAction, std::move(check), std::move(message), std::move(fix)});
  }
  void warning(std::string check, std::string message, std::string fix) {
    findings.push_back({Severity::kWarning, std::move(check), std::move(message), std::move(fix)});
  }
  [[nodiscard]] std::size_t count(Severity s) const {
    return static_cast<std::size_t>(std::count_if(
        findings.begin(), findings.end(), [s](const Finding& f) { return f.severity == s; }));
  }
};

std::string mode_text(mode_t mode) {
  return fmt::format("{:04o}", mode & 07777);
}

// ---- files ----

// Owner and group/other bits of a file lockbox keeps private. `chmod_mode` is the fix's mode.
void check_private(const fs::path& path, const struct stat& st, std::string_view what,
                   std::string_view chmod_mode, const std::string& check, Report& report) {
  if (st.st_uid != ::geteuid()) {
    report.action(check,
                  fmt::format("{} {} is owned by uid {}, not by uid {}", what, path.string(),
                              st.st_uid, ::geteuid()),
                  fmt::format("chown {} {}", current_actor(), path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    report.action(check,
                  fmt::format("{} {} is accessible by group or others (mode {})", what,
                              path.string(), mode_text(st.st_mode)),
                  fmt::format("chmod {} {}", chmod_mode, path.string()));
  }
}

void check_data_dir(const Context& ctx, Report& report) {
  const fs::path& dir = ctx.data_dir();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    // With --store sqlite:PATH elsewhere, the data dir may legitimately not exist.
    if (err == ENOENT && !ctx.store_options().url.empty()) return;
    report.action("data_dir",
                  fmt::format("cannot inspect data dir {}: {}", dir.string(), std::strerror(err)),
                  "run lockbox init, or pass the right --data-dir");
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    report.action("data_dir", fmt::format("data dir {} is not a directory", dir.string()),
                  "pass the right --data-dir, or move the file aside and run lockbox init");
    return;
  }
  check_private(dir, st, "data dir", "700", "data_dir", report);
  std::error_code ec;
  if (!fs::exists(dir / ".gitignore", ec)) {
    report.warning("data_dir", fmt::format("data dir {} has no .gitignore", dir.string()),
                   fmt::format("create one holding '*' ({}), so the store and key are never "
                               "committed by accident",
                               (dir / ".gitignore").string()));
  }
}

// The database and its WAL companions. Missing files are not findings here: the -wal and -shm
// files come and go, and a missing database is reported by the store check with its reason.
void check_database_files(const Context& ctx, Report& report) {
  const fs::path db = store::Store::database_path(ctx.store_options());
  if (db.empty()) return;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path path = db.string() + suffix;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    check_private(path, st, "database file", "600", "database", report);
  }
}

// ---- master key ----

// The key file a successful load used, from MasterKey::source ("--master-key-file P",
// "LOCKBOX_MASTER_KEY_FILE P" or the data-dir path, see store/master_key.cpp); nullopt for a key
// or passphrase given in the environment.
std::optional<fs::path> key_file_of(const std::string& source, const Context& ctx,
                                    const GlobalOptions& globals) {
  if (!globals.master_key_file.empty()) return fs::path(globals.master_key_file);
  constexpr std::string_view kEnvFile = "LOCKBOX_MASTER_KEY_FILE ";
  if (source.starts_with(kEnvFile)) return fs::path(source.substr(kEnvFile.size()));
  if (source == (ctx.data_dir() / "master.key").string()) return ctx.data_dir() / "master.key";
  return std::nullopt;
}

// Findings for a key file the loader would refuse; true when there is one. lstat: the loader
// opens with O_NOFOLLOW, so a link is refused whatever it points at.
bool check_key_file(const fs::path& path, Report& report) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return false;  // the loader names a missing file
  if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)) {
    report.action("master_key",
                  fmt::format("master key file {} is {}; lockbox refuses it", path.string(),
                              S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file"),
                  "name the regular file itself (--master-key-file or LOCKBOX_MASTER_KEY_FILE)");
    return true;
  }
  bool refused = false;
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    report.action("master_key",
                  fmt::format("master key file {} is owned by uid {}, neither yours ({}) nor "
                              "root's; lockbox refuses it",
                              path.string(), st.st_uid, ::geteuid()),
                  fmt::format("chown {} {}", current_actor(), path.string()));
    refused = true;
  }
  if ((st.st_mode & 077) != 0) {
    report.action("master_key",
                  fmt::format("master key file {} is accessible by group or others (mode {}); "
                              "lockbox refuses it",
                              path.string(), mode_text(st.st_mode)),
                  fmt::format("chmod 600 {}", path.string()));
    refused = true;
  }
  return refused;
}

bool same_dir(const fs::path& a, const fs::path& b) {
  std::error_code ec1, ec2;
  const fs::path ca = fs::weakly_canonical(a, ec1);
  const fs::path cb = fs::weakly_canonical(b, ec2);
  return !ec1 && !ec2 && ca == cb;
}

// A key beside the database travels with every copy of it (backups, disk images, rsync).
void check_key_placement(const fs::path& key_file, const Context& ctx, Report& report) {
  const fs::path db = store::Store::database_path(ctx.store_options());
  const auto dir_of = [](const fs::path& p) {
    return p.parent_path().empty() ? fs::path(".") : p.parent_path();
  };
  if (db.empty() || !same_dir(dir_of(key_file), dir_of(db))) return;
  report.warning(
      "master_key",
      fmt::format("master key file {} is stored next to the database", key_file.string()),
      std::string(kKeyPlacementFix));
}

// Loads the master key once: main() scrubbed LOCKBOX_MASTER_* into a one-shot capture, so a
// second load (Context::open_store) would no longer see an environment key.
std::optional<store::MasterKey> check_master_key(const Context& ctx, const GlobalOptions& globals,
                                                 Report& report) {
  if (!globals.master_key_file.empty() && check_key_file(globals.master_key_file, report)) {
    return std::nullopt;
  }
  auto loaded = ctx.load_master_key();
  if (!loaded.is_ok()) {
    report.action("master_key", loaded.status().message(),
                  "correct the key source named here, or point lockbox at the right key "
                  "(--master-key-file F, LOCKBOX_MASTER_KEY, LOCKBOX_MASTER_KEY_FILE)");
    return std::nullopt;
  }
  if (!loaded.value()) {
    report.action("master_key", "no master key is configured, so the store cannot be checked",
                  "set LOCKBOX_MASTER_KEY or LOCKBOX_MASTER_KEY_FILE, pass --master-key-file, or "
                  "run lockbox init to create a store");
    return std::nullopt;
  }
  store::MasterKey key = std::move(*loaded.value());
  if (const auto file = key_file_of(key.source, ctx, globals)) {
    if (globals.master_key_file.empty()) (void)check_key_file(*file, report);
    check_key_placement(*file, ctx, report);
  }
  return key;
}

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
// the built-in defaults (an empty file is the default policy).
Result<Context> doctor_context(const GlobalOptions& globals, Report& report) {
  auto ctx = Context::create(globals);
  if (ctx.is_ok()) return ctx;
  const auto policy = load_policy(globals);
  if (policy.is_ok()) return ctx.status();
  report.action("policy", policy.status().message(),
                "fix the policy file (lockbox policy check FILE lists the errors)");
  GlobalOptions defaults = globals;
  defaults.policy_file = "/dev/null";
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
    auto listed = store->list(store::ListFilter{});
    if (listed.is_ok()) {
      secrets = std::move(listed).value();
    } else {
      report.action("secrets", "cannot list the secrets: " + listed.status().message(),
                    "run lockbox secrets list for details");
    }
  }
  check_policy(ctx.policy(), secrets, report);
  for (const auto& meta : secrets) check_secret(meta, now, rotation, report);
  if (store) check_keys(*store, now, rotation, report);
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
