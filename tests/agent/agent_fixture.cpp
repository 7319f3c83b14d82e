#include "tests/agent/agent_fixture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>

extern char** environ;

namespace lockbox::testing {

ProcessResult launch(const Lockbox& box, std::vector<std::string> args, ProcessOptions options,
                     const std::string& agent_socket) {
  const std::size_t words = !args.empty() && args[0] == "job" ? 2 : 1;
  std::vector<std::string> flags{"--data-dir", box.data_dir().string()};
  if (!agent_socket.empty()) flags.insert(flags.end(), {"--agent", agent_socket});
  args.insert(args.begin() + static_cast<std::ptrdiff_t>(std::min(words, args.size())),
              flags.begin(), flags.end());
  if (!box.store_url().empty() && options.env.count("LOCKBOX_STORE") == 0)
    options.env["LOCKBOX_STORE"] = box.store_url();
  for (const auto& name : inherited_lockbox_vars()) {
    if (options.env.count(name) == 0) options.unset_env.push_back(name);
  }
  return run_lockbox(args, options);
}

std::filesystem::path socket_dir(const Lockbox& box) {
  const std::filesystem::path dir = box.root() / "s";
  std::filesystem::create_directories(dir);
  ::chmod(dir.c_str(), 0700);
  return dir;
}

AgentProcess::AgentProcess(const Lockbox& box, const std::filesystem::path& socket,
                           std::vector<std::string> extra, std::map<std::string, std::string> env) {
  std::vector<std::string> argv{LOCKBOX_BIN, "agent", "--socket", socket.string()};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("--data-dir");
  argv.push_back(box.data_dir().string());
  if (!box.store_url().empty() && env.count("LOCKBOX_STORE") == 0)
    env["LOCKBOX_STORE"] = box.store_url();
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string key = entry.substr(0, entry.find('='));
    if (key.rfind("LOCKBOX_", 0) == 0 || env.count(key) > 0) continue;
    envs.push_back(entry);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  std::vector<char*> args, envp;
  for (auto& a : argv) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : envs) envp.push_back(e.data());
  envp.push_back(nullptr);
  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) throw std::runtime_error("pipe failed");
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::dup2(pipe_fds[1], 2);
    ::execve(args[0], args.data(), envp.data());
    ::_exit(127);
  }
  ::close(pipe_fds[1]);
  err_fd_ = pipe_fds[0];
}

AgentProcess::~AgentProcess() {
  if (code_ < 0 && pid_ > 0) {
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
  }
  if (err_fd_ >= 0) ::close(err_fd_);
}

void AgentProcess::drain(int timeout_ms) {
  pollfd p{err_fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return;
  char buf[4096];
  const ssize_t n = ::read(err_fd_, buf, sizeof buf);
  if (n > 0) err_.append(buf, static_cast<std::size_t>(n));
  if (n == 0) {
    ::close(err_fd_);
    err_fd_ = -1;
  }
}

bool AgentProcess::wait_ready(int timeout_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (err_.find("listening on") == std::string::npos) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        until - std::chrono::steady_clock::now());
    if (left.count() <= 0 || err_fd_ < 0) return false;
    drain(static_cast<int>(left.count()));
  }
  return true;
}

int AgentProcess::wait_exit(int timeout_ms) {
  const auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (err_fd_ >= 0 && std::chrono::steady_clock::now() < until) drain(200);
  int status = 0;
  if (err_fd_ >= 0) ::kill(pid_, SIGKILL);  // a hang: fail loudly below
  ::waitpid(pid_, &status, 0);
  code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return code_;
}

int AgentProcess::stop(int sig) {
  if (code_ >= 0) return code_;
  ::kill(pid_, sig);
  return wait_exit();
}

}  // namespace lockbox::testing
