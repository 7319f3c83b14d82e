#pragma once
// `lockbox run` and `lockbox job run` (SPEC §4): plan, audit, spawn, supervise, audit the exit.
// Every failure before the spawn is exit 125 with one line on stderr; nothing is spawned then.
// Exit codes: the child's, 124 on timeout, 126/127 exec failures, 128+N for a signal.
//
// Plaintext lifetime (docs/SECURITY.md): the plan's resolution holds the values only until the
// child's copies exist; before the spawn its values are wiped, and it keeps names, origins,
// versions and expiries (what the audit records and --watch need). Per path:
//   env      the environment block, wiped right after the spawn (the child has its own copy);
//   file     the delivery files' source copies, wiped as each file is written (before the spawn);
//            the files themselves live on tmpfs until the child ends;
//   redact   the stdout and stderr redactors' automata, for the child's whole life (they must
//            recognise the values in its output), wiped when it ends;
//   watch    no value: a poll compares fingerprints (version, scope, expiry) from a resolve
//            without values; a restart resolves the values again, for the new child only.

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "launcher/launch_plan.hpp"
#include "launcher/secret_source.hpp"
#include "launcher/signal_gate.hpp"
#include "policies/policy.hpp"
#include "store/store.hpp"

namespace lockbox::launcher {

enum class Delivery { kEnv, kFile };

struct LaunchOptions {
  std::int64_t kill_grace_ms = 10'000;
  Delivery delivery = Delivery::kEnv;
  std::optional<std::int64_t> watch_interval_ms;  // --watch[=DUR]
  bool redact = false;
  bool dry_run = false;
  bool json = false;                              // --dry-run --json
  std::optional<std::string> user;                // --user (root only)
  std::optional<std::string> payload;             // job stdin
};

struct LaunchDeps {
  const policies::Policy* policy = nullptr;
  // Opens the store (master key and all); failures become 125.
  std::function<Result<std::unique_ptr<store::Store>>()> open_store;
  // When set, used instead of open_store: where secrets come from (remote mode: the REST API).
  std::function<Result<std::unique_ptr<SecretSource>>()> open_source;
  const Clock* clock = nullptr;
  Random* random = nullptr;  // backoff jitter
  // Prints a --dry-run plan (names, env names, origins, versions; never values).
  std::function<void(const LaunchPlan&)> print_plan;
  // Test seam: sees the plan right after each spawn, while the child runs.
  std::function<void(const LaunchPlan&)> after_spawn;
};

// Runs a function or command. Returns the process exit code.
int run_launch(const RunRequest& request, const LaunchOptions& options, const LaunchDeps& deps);

// Runs a policy job with retries. Returns the process exit code.
int run_job(const RunRequest& request, const LaunchOptions& options, const LaunchDeps& deps);

// Full-jitter exponential backoff (base 1s, factor 2, cap 60s) before attempt `retry` (1-based):
// uniform in [0, min(60s, 1s * 2^(retry-1))].
std::int64_t backoff_ms(int retry, std::uint32_t random_bits);

}  // namespace lockbox::launcher
