#include "launcher/signal_gate.hpp"

#include <poll.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <memory>

namespace lockbox::launcher {

Result<std::unique_ptr<SignalGate>> SignalGate::open() {
  sigset_t set;
  sigemptyset(&set);
  for (int sig : kForwardedSignals) sigaddset(&set, sig);
  if (sigprocmask(SIG_BLOCK, &set, nullptr) != 0) return runtime_error("cannot block signals");
  // lockbox writes to pipes (redaction, payload) whose reader may be gone: EPIPE, not death.
  ::signal(SIGPIPE, SIG_IGN);
  const int fd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
  if (fd < 0) return runtime_error("cannot create a signalfd");
  return std::unique_ptr<SignalGate>(new SignalGate(fd));
}

SignalGate::~SignalGate() {
  if (fd_ >= 0) ::close(fd_);
}

std::optional<ReceivedSignal> SignalGate::read_pending() {
  signalfd_siginfo info{};
  const ssize_t n = ::read(fd_, &info, sizeof info);
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
    pollfd pfd{fd_, POLLIN, 0};
    if (::poll(&pfd, 1, static_cast<int>(left > 60'000 ? 60'000 : left)) < 0 && errno != EINTR) {
      return std::nullopt;
    }
  }
}

bool is_terminating(int signal) {
  return signal == SIGINT || signal == SIGTERM || signal == SIGHUP || signal == SIGQUIT;
}

}  // namespace lockbox::launcher
