#pragma once
// SignalGate: the signals lockbox forwards (SPEC §4: INT TERM HUP QUIT USR1 USR2 WINCH) are
// blocked and read from a signalfd instead of being handled asynchronously. signalfd gives the
// siginfo that asio::signal_set cannot: si_code == SI_KERNEL marks a signal the terminal sent to
// the whole foreground process group, which the child (in that group) has already received, so
// it must not be forwarded a second time.
// Create it before resolving, so a signal that arrives before the spawn is kept and forwarded
// after it. The child gets the original mask back (ProcessState::restore_in_child()).
// Thread-safety: one per process, used from one thread.

#include <signal.h>

#include <array>
#include <cstdint>
#include <memory>
#include <optional>

#include "core/status.hpp"

namespace lockbox::launcher {

inline constexpr std::array<int, 7> kForwardedSignals = {SIGINT,  SIGTERM, SIGHUP, SIGQUIT,
                                                         SIGUSR1, SIGUSR2, SIGWINCH};

struct ReceivedSignal {
  int signal = 0;
  bool from_terminal = false;  // sent by the kernel to the foreground group (tty)
};

class SignalGate {
 public:
  // Blocks the forwarded signals (and ignores SIGPIPE for lockbox itself) and opens the signalfd.
  static Result<std::unique_ptr<SignalGate>> open();
  ~SignalGate();
  SignalGate(const SignalGate&) = delete;
  SignalGate& operator=(const SignalGate&) = delete;

  [[nodiscard]] int fd() const { return fd_; }
  // Reads one pending signal without blocking; nullopt when none is pending.
  std::optional<ReceivedSignal> read_pending();
  // Waits up to `ms` for a signal; returns it, or nullopt after `ms`. For job backoffs.
  std::optional<ReceivedSignal> wait(std::int64_t ms);

 private:
  explicit SignalGate(int fd) : fd_(fd) {}
  int fd_ = -1;
};

// True for the signals that end a job instead of being passed on (INT TERM HUP QUIT).
bool is_terminating(int signal);

}  // namespace lockbox::launcher
