#pragma once
// Spawning one child and supervising it until it ends (SPEC §4): direct exec (no shell),
// the child environment from ChildEnvironment, signals forwarded exactly once through the pidfd,
// the timeout (SIGTERM, then SIGKILL after the grace), optional redaction of stdout/stderr,
// an optional stdin payload, an optional watch poll that restarts the child (its blocking part on a
// worker thread, never on the reactor that forwards signals and reaps the child), PR_SET_PDEATHSIG
// so the child gets SIGTERM if lockbox dies, and no zombies.
// Implemented with Boost.Process v2 on Boost.Asio; neither appears in this header.
// Thread-safety: call from the thread that created the SignalGate; one child at a time.

#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "launcher/child_env.hpp"
#include "launcher/redactor.hpp"
#include "launcher/signal_gate.hpp"

namespace lockbox::launcher {

struct UserSwitch {
  uid_t uid = 0;
  gid_t gid = 0;
  std::vector<gid_t> groups;
  std::string name, home, shell;  // the child's USER/LOGNAME, HOME and SHELL
};

// What one --watch poll answers. The poll runs on the supervisor's reactor and must not block: it
// says at once whether the secrets changed, or hands back a `fetch` that may block (a network
// call in remote mode). A fetch runs on a worker thread while signals, timers and the child's exit
// go on being handled; its answer comes back to the reactor. One fetch at a time. A fetch still
// running when the child has ended is abandoned: supervise() returns without waiting, the thread
// is detached and its answer dropped. So a fetch must own (or share) everything it touches.
struct WatchAnswer {
  bool changed = false;
  std::function<bool()> fetch;  // set: the answer is fetch()'s, computed off the reactor
};

struct ChildSpec {
  std::filesystem::path executable;   // found by find_command()
  std::vector<std::string> argv;      // argv[0] is the command as given
  std::filesystem::path workdir;      // chdir here before exec; empty: stay
  ChildEnvironment* env = nullptr;    // REQUIRED; its envp is used for the spawn
  std::optional<std::string> stdin_payload;   // written to a pipe on the child's stdin
  bool redact = false;                        // stdout/stderr through pipes and redactors
  std::vector<Redactor::Secret> redact_values;
  std::optional<UserSwitch> user;
  std::optional<std::int64_t> timeout_ms;
  std::int64_t kill_grace_ms = 10'000;
  // When set, polled every watch_interval_ms on the supervisor's thread; a change restarts the
  // child (SIGTERM, grace, SIGKILL) and supervise() returns with restart = true.
  std::function<WatchAnswer()> watch_poll;
  std::int64_t watch_interval_ms = 10'000;
  // Called right after a successful spawn (the env buffers may be wiped then).
  std::function<void(pid_t)> on_spawned;
};

struct ChildOutcome {
  int exit_code = 0;           // SPEC §4: the child's code, 128+N, 124 on timeout, 126/127
  bool spawned = false;        // false: exec failed (126/127), nothing ran
  bool timed_out = false;
  bool restart = false;        // the watch poll asked for a restart
  int terminating_signal = 0;  // an is_terminating() signal that was forwarded (or came via tty)
};

// Spawns and waits. kRuntime only for lockbox's own failures (pipes, fork); exec failures are an
// outcome with exit_code 126/127 and spawned = false.
Result<ChildOutcome> supervise(ChildSpec& spec, SignalGate& signals);

// Maps a wait status to the SPEC exit code (code, or 128+signal).
int exit_code_from_status(int status);

}  // namespace lockbox::launcher
