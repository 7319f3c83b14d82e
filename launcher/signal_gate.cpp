#include "launcher/signal_gate.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <memory>

#include "launcher/process_state.hpp"

namespace lockbox::launcher {
namespace {

constexpr std::array<int, 14> kTerminatingForwarded = {SIGHUP,    SIGINT,  SIGQUIT, SIGUSR1, SIGUSR2,
                                                       SIGALRM,   SIGTERM, SIGSTKFLT, SIGVTALRM,
                                                       SIGPROF,   SIGXCPU, SIGXFSZ, SIGIO, SIGPWR};
constexpr std::array<int, 5> kOtherForwarded = {SIGWINCH, SIGTSTP, SIGTTIN, SIGTTOU, SIGCONT};
constexpr std::array<int, 3> kStopBeforeSpawn = {SIGINT, SIGTERM, SIGHUP};

// Runs in a signal handler: async-signal-safe calls only.
extern "C" void exit_before_spawn(int sig) {
  const char* text = sig == SIGINT    ? "lockbox: stopped by SIGINT before the launch; nothing was started\n"
                     : sig == SIGTERM ? "lockbox: stopped by SIGTERM before the launch; nothing was started\n"
                                      : "lockbox: stopped by SIGHUP before the launch; nothing was started\n";
  std::size_t len = 0;
  while (text[len] != '\0') ++len;
  const ssize_t ignored = ::write(STDERR_FILENO, text, len);
  (void)ignored;
  ::_exit(125);
}

sigset_t stop_set() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kStopBeforeSpawn) sigaddset(&set, sig);
  return set;
}

}  // namespace

sigset_t forwarded_signals() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kTerminatingForwarded) sigaddset(&set, sig);
  for (int sig : kOtherForwarded) sigaddset(&set, sig);
  for (int sig = SIGRTMIN; sig <= SIGRTMAX; ++sig) sigaddset(&set, sig);
  return set;
}

void end_run_on_signal() {
  for (int sig : kStopBeforeSpawn) {
    if (initial_state().ignored[static_cast<std::size_t>(sig)]) continue;
    struct sigaction sa {};
    sa.sa_handler = exit_before_spawn;
    sigfillset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);
  }
}

Result<std::unique_ptr<SignalGate>> SignalGate::open() {
  end_run_on_signal();
  const sigset_t all = forwarded_signals();
  sigset_t early = all;
  for (int sig : kStopBeforeSpawn) sigdelset(&early, sig);
  if (sigprocmask(SIG_BLOCK, &early, nullptr) != 0) return runtime_error("cannot block signals");
  // lockbox writes to pipes (redaction, payload) whose reader may be gone: EPIPE, not death.
  ::signal(SIGPIPE, SIG_IGN);
  Fd fd(signalfd(-1, &all, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) return runtime_error("cannot create a signalfd");
  return std::unique_ptr<SignalGate>(new SignalGate(std::move(fd)));
}

SignalGate::~SignalGate() = default;

Status SignalGate::arm() {
  const sigset_t set = stop_set();
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return runtime_error("cannot block signals");
  return Status::ok();
}

int SignalGate::pending_stop() const {
  sigset_t pending;
  sigemptyset(&pending);
  if (sigpending(&pending) != 0) return 0;
  for (int sig : kStopBeforeSpawn) {
    if (sigismember(&pending, sig) == 1) return sig;
  }
  return 0;
}

std::optional<ReceivedSignal> SignalGate::read_pending() {
  signalfd_siginfo info{};
  const ssize_t n = ::read(fd_.get(), &info, sizeof info);
  if (n != static_cast<ssize_t>(sizeof info)) return std::nullopt;
  return ReceivedSignal{static_cast<int>(info.ssi_signo), info.ssi_code == SI_KERNEL};
}

std::optional<ReceivedSignal> SignalGate::wait(std::int64_t ms) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + std::chrono::milliseconds(ms);
  while (true) {
    if (auto sig = read_pending()) return sig;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
    if (left <= 0) return std::nullopt;
    pollfd pfd{fd_.get(), POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left > 60'000 ? 60'000 : left)) < 0 && errno != EINTR) {
      return std::nullopt;
    }
  }
}

bool is_terminating(int signal) {
  for (int sig : kTerminatingForwarded) {
    if (sig == signal) return signal != SIGUSR1 && signal != SIGUSR2;
  }
  return false;
}

bool is_job_stop(int signal) {
  return signal == SIGTSTP || signal == SIGTTIN || signal == SIGTTOU;
}

void stop_self(int signal) {
  // The signal is blocked: raise() leaves it pending, and unblocking it delivers it with
  // lockbox's disposition (default: stop; ignored at start: nothing). Once resumed by SIGCONT,
  // it is blocked again and back on the signalfd.
  sigset_t one;
  sigemptyset(&one);
  sigaddset(&one, signal);
  ::raise(signal);
  sigprocmask(SIG_UNBLOCK, &one, nullptr);
  sigprocmask(SIG_BLOCK, &one, nullptr);
}

}  // namespace lockbox::launcher
