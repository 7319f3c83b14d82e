#pragma once
// ExecInit: the Boost.Process v2 initializer supervise() spawns with (launcher/supervisor.cpp is
// its only user). It sets the child's envp and argv, and, in the vfork child between fork and exec,
// its stdio, credentials, working directory and death signal. Include only where Process v2 is
// compiled with BOOST_PROCESS_V2_SEPARATE_COMPILATION (NOTES.md).

#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <array>
#include <boost/process/v2/detail/config.hpp>
#include <boost/process/v2/error.hpp>
#include <cerrno>
#include <csignal>

#include "launcher/process_state.hpp"
#include "launcher/supervisor.hpp"

namespace lockbox::launcher {

// The Boost.Process v2 initializer: sets our envp and argv, and prepares the forked child.
struct ExecInit {
  const char* const* envp;
  const char* const* argv;
  pid_t parent;
  std::array<int, 3> stdio{-1, -1, -1};  // replacements for fds 0, 1, 2
  const UserSwitch* user;
  const char* workdir;  // nullptr: stay in lockbox's directory

  template <typename Launcher>
  boost::process::v2::error_code on_setup(Launcher& launcher,
                                          const boost::process::v2::filesystem::path&,
                                          const char* const*& cmd) {
    launcher.env = envp;
    cmd = argv;  // argv[0] as the user typed it, not the resolved path
    return {};
  }

  // Runs in the child between fork and exec: async-signal-safe calls only.
  template <typename Launcher>
  boost::process::v2::error_code on_exec_setup(Launcher&,
                                               const boost::process::v2::filesystem::path&,
                                               const char* const*&) {
    const auto fail = [] {
      return boost::process::v2::error_code(errno, boost::process::v2::system_category());
    };
    for (int fd = 0; fd < 3; ++fd) {
      if (stdio[static_cast<std::size_t>(fd)] >= 0 &&
          ::dup2(stdio[static_cast<std::size_t>(fd)], fd) < 0) {
        return fail();
      }
    }
    if (user != nullptr) {
      // Raw system calls, not glibc's wrappers: in a multithreaded process those broadcast the
      // change to every thread (__nptl_setxid) through memory this vfork child shares with the
      // parent. The child is a single-threaded process, so the raw calls are exactly right.
      if (::syscall(SYS_setgroups, user->groups.size(), user->groups.data()) != 0 ||
          ::syscall(SYS_setresgid, user->gid, user->gid, user->gid) != 0 ||
          ::syscall(SYS_setresuid, user->uid, user->uid, user->uid) != 0) {
        return fail();
      }
    }
    // After the credential change, so the directory is entered with the child's rights.
    if (workdir != nullptr && ::chdir(workdir) != 0) return fail();
    // After any credential change (which clears it): SIGTERM when lockbox dies, even by SIGKILL.
    if (::prctl(PR_SET_PDEATHSIG, SIGTERM) != 0) return fail();
    if (::getppid() != parent) ::_exit(128 + SIGTERM);  // lockbox already died
    if (const int err = initial_state().restore_in_child(); err != 0) {
      return boost::process::v2::error_code(err, boost::process::v2::system_category());
    }
    return {};
  }

  // After a failed execve in the vfork child: leave with _exit. 1.81's vfork_launcher would call
  // exit(), running this process's atexit handlers in the memory it shares with the parent. The
  // parent learns the error from the shared error_code and reaps the child.
  template <typename Launcher>
  void on_exec_error(Launcher&, const boost::process::v2::filesystem::path&, const char* const*&,
                     const boost::process::v2::error_code&) {
    ::_exit(127);
  }
  // Never called: 1.81 detects on_exec_error with a five-argument expression (launcher, ec,
  // executable, cmd_line, ec) but calls the four-argument form above; this overload only makes
  // the detection succeed.
  template <typename Launcher>
  void on_exec_error(Launcher&, const boost::process::v2::error_code&,
                     const boost::process::v2::filesystem::path&, const char* const*&,
                     const boost::process::v2::error_code&);
};

}  // namespace lockbox::launcher
