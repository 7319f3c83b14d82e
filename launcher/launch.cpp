#include "launcher/launch.hpp"

#include <fmt/format.h>
#include <grp.h>
#include <pwd.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <memory>

#include "core/log.hpp"
#include "launcher/child_env.hpp"
#include "launcher/command_lookup.hpp"
#include "launcher/file_delivery.hpp"
#include "launcher/supervisor.hpp"
#include "core/timing.hpp"

namespace lockbox::launcher {
namespace {

constexpr int kLaunchFailed = 125;
constexpr const char* kDefaultPath = "/usr/local/bin:/usr/bin:/bin";

int fail(const Status& status) {
  log::notice("{}", status.message());
  return kLaunchFailed;
}

Result<UserSwitch> lookup_user(const std::string& name) {
  // An empty name must never fall through to "no switch" (the child would run as root).
  if (name.empty()) return bad_input("--user: the user name is empty");
  if (::geteuid() != 0) return bad_input("--user needs lockbox to run as root");
  std::vector<char> buf(16384);
  passwd pw{};
  passwd* found = nullptr;
  if (getpwnam_r(name.c_str(), &pw, buf.data(), buf.size(), &found) != 0 || found == nullptr) {
    return bad_input("--user: no such user " + name);
  }
  UserSwitch user{pw.pw_uid, pw.pw_gid, {}, pw.pw_name, pw.pw_dir, pw.pw_shell};
  int count = 256;
  user.groups.resize(static_cast<std::size_t>(count));
  if (getgrouplist(pw.pw_name, pw.pw_gid, user.groups.data(), &count) < 0) {
    return runtime_error("--user: cannot read the groups of " + name);
  }
  user.groups.resize(static_cast<std::size_t>(count));
  return user;
}

Result<std::optional<UserSwitch>> user_switch(const LaunchOptions& options) {
  if (!options.user) return std::optional<UserSwitch>();
  LOCKBOX_ASSIGN_OR_RETURN(UserSwitch user, lookup_user(*options.user));
  return std::optional<UserSwitch>(std::move(user));
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) out += (out.empty() ? "" : ",") + i;
  return out;
}

// Everything one launch (or job attempt) needs.
struct Session {
  const RunRequest& request;
  const LaunchOptions& options;
  const LaunchDeps& deps;
  SecretSource& source;
  SignalGate& signals;
  std::optional<UserSwitch> user;
  int spawns = 0;  // children started so far (a job's attempts, --watch restarts)
};

// --deliver file: the secrets go to a fresh tmpfs directory named by FLUXBASE_SECRETS_DIR.
Status deliver_files(const Session& s, const LaunchPlan& plan, ChildEnvironment& env,
                     std::unique_ptr<DeliveryDir>& dir) {
  const std::size_t prefix = s.deps.policy->inject.prefix.size();
  std::vector<std::pair<std::string, SecretValue>> files;
  for (const auto& v : plan.resolution.variables) files.emplace_back(v.env.substr(prefix), v.value.clone());
  LOCKBOX_ASSIGN_OR_RETURN(dir, DeliveryDir::create(std::move(files)));
  env.set("FLUXBASE_SECRETS_DIR", SecretValue(dir->path().string()));
  return Status::ok();
}

// The child's environment (without a file delivery) and its working directory.
Status prepare_environment(const Session& s, const LaunchPlan& plan, ChildEnvironment& env) {
  if (s.options.delivery == Delivery::kEnv) {
    for (const auto& v : plan.resolution.variables) env.set(v.env, v.value.clone());
  } else if (s.user) {
    return bad_input("--deliver file cannot be combined with --user");
  }
  if (s.user) {
    // The identity variables follow the user, as `sudo -u` / `su -` set them; the invoker's
    // runtime directory is not the child's.
    env.set("HOME", SecretValue(s.user->home));
    env.set("USER", SecretValue(s.user->name));
    env.set("LOGNAME", SecretValue(s.user->name));
    env.set("SHELL", SecretValue(s.user->shell));
    env.erase("XDG_RUNTIME_DIR");
  }
  if (!plan.workdir.empty()) {
    std::error_code ec;
    if (!std::filesystem::is_directory(plan.workdir, ec)) {
      return bad_input(fmt::format("workdir {} is not a directory", plan.workdir.string()));
    }
    if (env.find("PWD") != nullptr) env.set("PWD", SecretValue(plan.workdir.string()));
  }
  return Status::ok();
}

// The last step before the spawn: INT/TERM/HUP stop being fatal and are kept for the child. One
// that came in meanwhile ends lockbox: 125 before the first launch (nothing was started), 128+N
// before a later job attempt or --watch restart. 0 when the launch goes ahead.
int stop_before_spawn(const Session& s) {
  if (Status st = s.signals.arm(); !st.is_ok()) return fail(st);
  const int sig = s.signals.pending_stop();
  if (sig == 0) return 0;
  if (s.spawns > 0) return 128 + sig;
  log::notice("stopped by {} before the launch; nothing was started",
              sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "SIGHUP");
  return kLaunchFailed;
}

ChildSpec child_spec(const Session& s, const LaunchPlan& plan, const CommandLookup& found,
                     ChildEnvironment& env, const std::function<WatchAnswer()>& watch_poll) {
  ChildSpec spec;
  spec.executable = found.path;
  spec.argv = plan.argv;
  spec.workdir = plan.workdir;
  spec.env = &env;
  spec.stdin_payload = s.options.payload;
  spec.redact = s.options.redact;
  if (spec.redact) {
    for (const auto& v : plan.resolution.variables) spec.redact_values.push_back({v.name, v.value.clone()});
  }
  spec.user = s.user;
  spec.timeout_ms = plan.timeout_ms;
  spec.kill_grace_ms = s.options.kill_grace_ms;
  spec.watch_poll = watch_poll;
  // A source with a change counter is polled at least every second (one query; the store's push
  // wakes nothing here, but a second bounds how stale --watch is); re-resolving a source without
  // one (remote mode) keeps the --watch interval (launch loop below).
  if (s.options.watch_interval_ms) {
    spec.watch_interval_ms = *s.options.watch_interval_ms;
    if (s.source.change_counter()) spec.watch_interval_ms = std::min<std::int64_t>(spec.watch_interval_ms, 1000);
  }
  spec.on_spawned = [&env, &s, &plan](pid_t) {
    timing::mark("spawn");
    env.clear();
    if (s.deps.after_spawn) s.deps.after_spawn(plan);
  };
  return spec;
}

// Once the child's copies exist (environment block, delivery files, redactor input), the plan
// keeps no value: names, origins, versions and expiries only (launch.hpp, plaintext lifetime).
void drop_values(LaunchPlan& plan) {
  for (auto& v : plan.resolution.variables) v.value.clear();
}

// One spawn: environment, command lookup, audit, delivery, supervise, audit. Returns the exit code.
int attempt(Session& s, LaunchPlan& plan, const std::string& action, const std::string& note,
            const std::function<WatchAnswer()>& watch_poll, ChildOutcome& outcome) {
  outcome = {};
  ChildEnvironment env = ChildEnvironment::from_host(host_environment(), plan.resolution.consumed_host,
                                                     s.request.pristine);
  if (Status st = prepare_environment(s, plan, env); !st.is_ok()) return fail(st);
  const SecretValue* path = env.find("PATH");
  const CommandLookup found =
      find_command(plan.argv.front(), path ? path->reveal() : kDefaultPath, plan.workdir);
  if (found.outcome == CommandLookup::Outcome::kNotFound) {
    log::error("command not found: {}", plan.argv.front());
    return 127;
  }
  if (found.outcome == CommandLookup::Outcome::kNotExecutable) {
    log::error("command is not executable: {}", found.path.string());
    return 126;
  }
  if (Status st = env.check_exec_limits(plan.argv); !st.is_ok()) return fail(st);
  // Fail closed: no record, no launch. Names and versions only. (A busy store may keep lockbox
  // here: INT/TERM/HUP still end it, with nothing launched and no tmpfs directory left behind.)
  const std::string detail = fmt::format("command={} injected={} overrides={}{}", plan.argv.front(),
                                         injected_summary(plan), join(plan.resolution.overrides), note);
  if (Status st = s.source.audit({action, plan.audit_target, "started", detail}); !st.is_ok()) {
    return fail(st.with_context("cannot write the launch audit record"));
  }
  timing::mark("audit");
  if (const int stop = stop_before_spawn(s); stop != 0) {
    outcome.terminating_signal = s.signals.pending_stop();  // no further attempt or restart
    return stop;
  }
  std::unique_ptr<DeliveryDir> dir;
  if (s.options.delivery == Delivery::kFile) {
    if (Status st = deliver_files(s, plan, env, dir); !st.is_ok()) return fail(st);
  }
  ChildSpec spec = child_spec(s, plan, found, env, watch_poll);
  drop_values(plan);
  auto supervised = supervise(spec, s.signals);
  env.clear();
  if (!supervised.is_ok()) return fail(supervised.status());
  outcome = supervised.value();
  if (outcome.spawned) ++s.spawns;
  timing::mark("child");
  const std::string result = outcome.timed_out ? "timeout" : fmt::format("exit {}", outcome.exit_code);
  if (Status st = s.source.audit({action, plan.audit_target, result, detail}); !st.is_ok()) {
    log::warn("the child ended but its completion record could not be written: {}", st.message());
  }
  timing::mark("audit-exit");
  return outcome.exit_code;
}

Result<LaunchPlan> make_plan(const Session& s) {
  LOCKBOX_ASSIGN_OR_RETURN(LaunchPlan plan, plan_context(s.request, *s.deps.policy));
  const std::vector<std::string_view> host = host_environment();
  // A dry run shows names and versions only: nothing to decrypt.
  LOCKBOX_TRY(s.source.resolve(plan, s.request, *s.deps.policy, host, s.deps.clock->now(),
                               !s.options.dry_run));
  return plan;
}

// Waits `delay_ms` between job attempts. A terminating signal ends the wait (its number is
// returned); TSTP/TTIN/TTOU stop lockbox (there is no child to pass them to); others are dropped.
int backoff(SignalGate& signals, std::int64_t delay_ms) {
  using Clock = std::chrono::steady_clock;
  const auto until = Clock::now() + std::chrono::milliseconds(delay_ms);
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(until - Clock::now()).count();
    if (left <= 0) return 0;
    const auto sig = signals.wait(left);
    if (!sig) return 0;
    if (is_terminating(sig->signal)) return sig->signal;
    if (is_job_stop(sig->signal)) stop_self(sig->signal);
  }
}

// A resolve without values, for --watch to compare fingerprints. Owns copies of what it reads, so
// a remote fetch the supervisor abandoned (the child ended meanwhile) may outlive the launch.
struct FingerprintJob {
  std::shared_ptr<SecretSource> source;
  RunRequest request;
  policies::Policy policy;
  std::vector<std::string> host;

  [[nodiscard]] Result<std::string> fingerprint(UnixMillis now) const {
    LOCKBOX_ASSIGN_OR_RETURN(LaunchPlan plan, plan_context(request, policy));
    const std::vector<std::string_view> views(host.begin(), host.end());
    LOCKBOX_TRY(source->resolve(plan, request, policy, views, now, /*decrypt=*/false));
    return plan_fingerprint(plan);
  }
};

// --watch, poll by poll: have the stored secrets moved away from those the child runs with? Only
// the running plan's fingerprint and its earliest expiry are kept, never a value. A source with a
// change counter (the local store) is asked on the reactor (one query, then a resolve without
// values when it moved); one without (remote mode) at most every interval, by a fetch the
// supervisor runs off the reactor (the call may take the HTTP client's whole timeout).
class Watcher {
 public:
  Watcher(const Session& s, std::shared_ptr<SecretSource> source, std::int64_t interval_ms)
      : s_(s), interval_(interval_ms), counted_(source->change_counter().has_value()) {
    const std::vector<std::string_view> host = host_environment();
    job_ = std::make_shared<const FingerprintJob>(FingerprintJob{
        std::move(source), s.request, *s.deps.policy, std::vector<std::string>(host.begin(), host.end())});
  }

  // A child is about to run with `plan`.
  void start(const LaunchPlan& plan) {
    fingerprint_ = plan_fingerprint(plan);
    expiry_.reset();
    for (const auto& v : plan.resolution.variables) {
      if (v.expires_at && (!expiry_ || *v.expires_at < *expiry_)) expiry_ = v.expires_at;
    }
    if (counted_) last_counter_ = s_.source.change_counter();
    last_resolve_ = std::chrono::steady_clock::now();
  }

  WatchAnswer poll() {
    const UnixMillis now = s_.deps.clock->now();
    const bool expired = expiry_ && *expiry_ <= now;
    if (counted_) {
      const std::optional<std::int64_t> counter = s_.source.change_counter();
      if (!expired && counter == last_counter_) return {};
      last_counter_ = counter;
      const auto fresh = job_->fingerprint(now);
      return {fresh.is_ok() && *fresh != fingerprint_, {}};
    }
    const auto t = std::chrono::steady_clock::now();
    if (!expired && t - last_resolve_ < std::chrono::milliseconds(interval_)) return {};
    last_resolve_ = t;
    return {false, [job = job_, now, was = fingerprint_] {
              const auto fresh = job->fingerprint(now);
              return fresh.is_ok() && *fresh != was;
            }};
  }

 private:
  const Session& s_;
  std::int64_t interval_;
  bool counted_;
  std::shared_ptr<const FingerprintJob> job_;
  std::string fingerprint_;
  std::optional<UnixMillis> expiry_;
  std::optional<std::int64_t> last_counter_;
  std::chrono::steady_clock::time_point last_resolve_;
};

Result<std::unique_ptr<SecretSource>> open_source(const LaunchDeps& deps) {
  if (deps.open_source) return deps.open_source();
  LOCKBOX_ASSIGN_OR_RETURN(auto store, deps.open_store());
  return store_source(std::move(store));
}

}  // namespace

std::int64_t backoff_ms(int retry, std::uint32_t random_bits) {
  const int shift = retry - 1 < 6 ? retry - 1 : 6;
  const std::int64_t ceiling = std::min<std::int64_t>(60'000, std::int64_t{1000} << shift);
  return static_cast<std::int64_t>(random_bits % static_cast<std::uint32_t>(ceiling + 1));
}

int run_launch(const RunRequest& request, const LaunchOptions& options, const LaunchDeps& deps) {
  auto signals = SignalGate::open();
  if (!signals.is_ok()) return fail(signals.status());
  sweep_stale_delivery_dirs();
  auto user = user_switch(options);
  if (!user.is_ok()) return fail(user.status());
  auto opened = open_source(deps);
  if (!opened.is_ok()) return fail(opened.status());
  // Shared: a --watch fetch abandoned in flight keeps the source alive until it returns.
  const std::shared_ptr<SecretSource> source = std::move(opened).value();
  Session s{request, options, deps, *source, *signals.value(), *user};
  auto plan = make_plan(s);
  if (!plan.is_ok()) return fail(plan.status());
  if (options.dry_run) {
    if (deps.print_plan) deps.print_plan(*plan);
    return 0;
  }
  std::optional<Watcher> watcher;
  std::function<WatchAnswer()> poll;
  if (options.watch_interval_ms) {
    watcher.emplace(s, source, *options.watch_interval_ms);
    poll = [&watcher] { return watcher->poll(); };
  }
  while (true) {
    if (watcher) watcher->start(*plan);
    ChildOutcome outcome;
    const int code = attempt(s, *plan, "launch", "", poll, outcome);
    // A terminating signal ends the watch too, even if a restart was under way.
    if (!outcome.restart || outcome.terminating_signal != 0) return code;
    // The secrets moved: resolved again, with their values, only now that they are needed.
    plan = make_plan(s);
    if (!plan.is_ok()) return fail(plan.status());
  }
}

int run_job(const RunRequest& request, const LaunchOptions& options, const LaunchDeps& deps) {
  auto signals = SignalGate::open();
  if (!signals.is_ok()) return fail(signals.status());
  sweep_stale_delivery_dirs();
  auto user = user_switch(options);  // --user applies to every attempt
  if (!user.is_ok()) return fail(user.status());
  auto source = open_source(deps);
  if (!source.is_ok()) return fail(source.status());
  Session s{request, options, deps, *source.value(), *signals.value(), *user};
  auto first = plan_context(request, *deps.policy);
  if (!first.is_ok()) return fail(first.status());
  const int attempts = 1 + (first->function != nullptr ? first->function->retries : 0);
  const std::string& name = *request.function_name;
  for (int i = 1;; ++i) {
    auto plan = make_plan(s);  // secrets are resolved again for every attempt
    if (!plan.is_ok()) return fail(plan.status());
    ChildOutcome outcome;
    const int code = attempt(s, *plan, "job", fmt::format(" attempt={}/{}", i, attempts), {}, outcome);
    log::notice("job {}: attempt {}/{} {}", name, i, attempts,
                outcome.timed_out ? "timed out (124)" : fmt::format("exited with {}", code));
    const bool retryable = code != 0 && (code < 125 || code > 127);
    if (!retryable || outcome.terminating_signal != 0 || i >= attempts) return code;
    std::uint32_t bits = 0;
    Random& random = deps.random != nullptr ? *deps.random : OsRandom::instance();
    (void)random.fill({reinterpret_cast<std::uint8_t*>(&bits), sizeof bits});
    const std::int64_t delay = backoff_ms(i, bits);
    log::notice("job {}: retrying in {:.1f}s", name, static_cast<double>(delay) / 1000);
    if (const int sig = backoff(s.signals, delay); sig != 0) {
      log::notice("job {}: stopped by signal {} during the backoff", name, sig);
      return 128 + sig;
    }
  }
}

}  // namespace lockbox::launcher
