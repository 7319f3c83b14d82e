#include "launcher/process_state.hpp"

#include <fcntl.h>
#include <sys/prctl.h>
#include <unistd.h>
#include <sys/stat.h>

#include <cerrno>

namespace lockbox::launcher {
namespace {
ProcessState g_initial = ProcessState::capture();
}  // namespace

ProcessState ProcessState::capture() {
  ProcessState s;
  sigprocmask(SIG_SETMASK, nullptr, &s.mask);
  for (int sig = 1; sig < NSIG; ++sig) {
    struct sigaction sa {};
    if (sigaction(sig, nullptr, &sa) == 0) {
      s.ignored[static_cast<std::size_t>(sig)] = sa.sa_handler == SIG_IGN;
    }
  }
  s.umask = ::umask(022);
  ::umask(s.umask);
  getrlimit(RLIMIT_CORE, &s.core);
  return s;
}

int ProcessState::restore_in_child() const {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig == SIGKILL || sig == SIGSTOP) continue;
    struct sigaction sa {};
    sa.sa_handler = ignored[static_cast<std::size_t>(sig)] ? SIG_IGN : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    sigaction(sig, &sa, nullptr);  // EINVAL for the real-time signals glibc reserves: harmless
  }
  ::umask(umask);
  if (setrlimit(RLIMIT_CORE, &core) != 0) return errno;
  if (sigprocmask(SIG_SETMASK, &mask, nullptr) != 0) return errno;
  return 0;
}

void remember_initial_state(const ProcessState& state) { g_initial = state; }
const ProcessState& initial_state() { return g_initial; }

void harden_self() {
  for (int fd = 0; fd < 3; ++fd) {
    if (::fcntl(fd, F_GETFD) == -1 && errno == EBADF) {
      (void)::open("/dev/null", O_RDWR);  // takes the lowest free number: this one
    }
  }
  ::prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
  struct rlimit core {};
  getrlimit(RLIMIT_CORE, &core);
  core.rlim_cur = 0;
  setrlimit(RLIMIT_CORE, &core);
}

}  // namespace lockbox::launcher
