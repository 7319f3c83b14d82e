#pragma once
// What lockbox was started with and must give back to the child (SPEC §3): signal mask, signal
// dispositions (ignored stays ignored, everything else default), umask and the core-file limit.
// capture() must run first thing in main, before lockbox changes any of them.
// Thread-safety: capture() once, single-threaded; read-only afterwards.

#include <signal.h>
#include <sys/resource.h>
#include <sys/types.h>

#include <array>

namespace lockbox::launcher {

struct ProcessState {
  sigset_t mask{};
  std::array<bool, NSIG> ignored{};  // disposition was SIG_IGN at start
  mode_t umask = 022;
  struct rlimit core {};

  // Reads the current state of this process (umask is read and restored).
  static ProcessState capture();
  // In a forked child, before exec: restores everything. Async-signal-safe. Returns 0 or errno.
  int restore_in_child() const;
};

// The state captured at start (ProcessState::capture() stored by remember_initial_state()).
void remember_initial_state(const ProcessState& state);
const ProcessState& initial_state();

// Process hygiene for lockbox itself (SPEC §3): fds 0-2 open (on /dev/null when they were closed,
// so no internal descriptor can take their number and reach the child as its stdio), not
// dumpable, core soft limit 0 (the hard limit is kept so the child can get its limit back).
void harden_self();

}  // namespace lockbox::launcher
