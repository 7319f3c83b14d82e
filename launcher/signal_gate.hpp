#pragma once
// SignalGate: the signals lockbox forwards are blocked and read from a signalfd instead of being
// handled asynchronously. signalfd gives the siginfo that asio::signal_set cannot: si_code ==
// SI_KERNEL marks a signal the terminal sent to the whole foreground process group, which the
// child (in that group) has already received, so it must not be forwarded a second time.
//
// Forwarded (SPEC §4, issue 13): every catchable signal whose default action ends a process
// (HUP INT QUIT USR1 USR2 ALRM TERM STKFLT VTALRM PROF XCPU XFSZ IO PWR and the real-time signals
// SIGRTMIN..SIGRTMAX), WINCH, and the job-control signals TSTP TTIN TTOU CONT. Not forwarded: the
// fault signals (ILL TRAP ABRT BUS FPE SEGV SYS) that report lockbox's own failure, PIPE
// (ignored by lockbox: its pipes' readers may go away), CHLD and URG.
//
// Before the spawn (SPEC §18): INT, TERM and HUP end lockbox at once with exit 125 and one line
// on stderr, whatever it is waiting for (a busy store, a slow server): end_run_on_signal() installs
// that, and arm() ends it by blocking them too, just before the launch. The other forwarded
// signals are blocked from open() on, kept pending, and reach the child after its spawn. A signal
// that was ignored when lockbox started stays ignored (no handler is installed for it).
// The child gets the original mask and dispositions back (ProcessState::restore_in_child()).
// Thread-safety: one per process, used from one thread.

#include <signal.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "core/fd.hpp"
#include "core/status.hpp"

namespace lockbox::launcher {

struct ReceivedSignal {
  int signal = 0;
  bool from_terminal = false;  // sent by the kernel to the foreground group (tty)
};

// The forwarded signals (see above), as a set.
sigset_t forwarded_signals();

// INT, TERM and HUP end lockbox with exit 125 ("lockbox: stopped by SIGINT before the launch;
// nothing was started"), unless they were ignored at start. Call first thing in `run`/`job run`.
void end_run_on_signal();

class SignalGate {
 public:
  // Blocks the forwarded signals except INT TERM HUP (and ignores SIGPIPE for lockbox itself),
  // installs end_run_on_signal(), and opens the signalfd over every forwarded signal.
  static Result<std::unique_ptr<SignalGate>> open();
  ~SignalGate();
  SignalGate(const SignalGate&) = delete;
  SignalGate& operator=(const SignalGate&) = delete;

  [[nodiscard]] int fd() const { return fd_.get(); }
  // Blocks INT TERM HUP too: from now on they are read from the signalfd and forwarded. Call just
  // before the (first) launch, once nothing remains to wait for.
  Status arm();
  // An INT, TERM or HUP pending since arm(), without consuming anything; 0 when none is.
  [[nodiscard]] int pending_stop() const;
  // Reads one pending signal without blocking; nullopt when none is pending.
  std::optional<ReceivedSignal> read_pending();
  // Waits up to `ms` for a signal; returns it, or nullopt after `ms`. For job backoffs.
  std::optional<ReceivedSignal> wait(std::int64_t ms);

 private:
  explicit SignalGate(Fd fd) : fd_(std::move(fd)) {}
  Fd fd_;
};

// True for the forwarded signals whose default action ends a process, except USR1, USR2 and the
// real-time signals (commands to the child by convention): these end a job instead of being
// passed on, and end a --watch loop.
bool is_terminating(int signal);

// True for TSTP, TTIN and TTOU.
bool is_job_stop(int signal);

// After a TSTP/TTIN/TTOU (forwarded to the child or already delivered to it by the terminal):
// lockbox takes the signal's own action, as a plain process would: it stops (until SIGCONT)
// unless the signal was ignored at start or its process group is orphaned (then the kernel
// discards it, for the child in the same group too).
void stop_self(int signal);

}  // namespace lockbox::launcher
