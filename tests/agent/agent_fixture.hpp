#pragma once
// A `lockbox agent` running in the background for the black-box tests: started on a socket in
// the box's temp dir, ready once it prints its "listening on" line on stderr (read with a bounded
// poll, no sleep), stopped by a signal.

#include <sys/types.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {

class AgentProcess {
 public:
  // Starts `lockbox agent --socket SOCKET EXTRA... --data-dir BOX` with the box's store.
  AgentProcess(const Lockbox& box, const std::filesystem::path& socket,
               std::vector<std::string> extra = {}, std::map<std::string, std::string> env = {});
  ~AgentProcess();
  AgentProcess(const AgentProcess&) = delete;
  AgentProcess& operator=(const AgentProcess&) = delete;

  // Reads stderr until the readiness line (true) or the agent's exit / timeout (false).
  bool wait_ready(int timeout_ms = 20000);
  // Sends `sig`, waits for the exit and returns its code (128+N for a signal death).
  int stop(int sig = 15);
  // Waits for an exit that happens by itself (a refused start-up).
  int wait_exit(int timeout_ms = 20000);
  // Everything the agent wrote on stderr so far (all of it after stop()/wait_exit()).
  [[nodiscard]] const std::string& err() const { return err_; }

 private:
  void drain(int timeout_ms);
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::string err_;
  int code_ = -1;
};

// Runs `lockbox ARGS` for `box` with --data-dir (and --agent SOCKET when given) placed right after
// the command words ("run", "resolve", "job run"), so they never land in a launched command's
// argv; LOCKBOX_* are unset as for Lockbox::run.
ProcessResult launch(const Lockbox& box, std::vector<std::string> args, ProcessOptions options = {},
                     const std::string& agent_socket = "");

// A 0700 directory for agent sockets under the box's root (kept short: sun_path is 108 bytes).
std::filesystem::path socket_dir(const Lockbox& box);

}  // namespace lockbox::testing
