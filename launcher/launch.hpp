#pragma once
// `lockbox run` and `lockbox job run` (SPEC §4): plan, audit, spawn, supervise, audit the exit.
// Every failure before the spawn is exit 125 with one line on stderr; nothing is spawned then.
// Exit codes: the child's, 124 on timeout, 126/127 exec failures, 128+N for a signal.

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
};

// Runs a function or command. Returns the process exit code.
int run_launch(const RunRequest& request, const LaunchOptions& options, const LaunchDeps& deps);

// Runs a policy job with retries. Returns the process exit code.
int run_job(const RunRequest& request, const LaunchOptions& options, const LaunchDeps& deps);

// Full-jitter exponential backoff (base 1s, factor 2, cap 60s) before attempt `retry` (1-based):
// uniform in [0, min(60s, 1s * 2^(retry-1))].
std::int64_t backoff_ms(int retry, std::uint32_t random_bits);

}  // namespace lockbox::launcher
