#include "tests/launcher/run_test_support.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <system_error>
#include <thread>

extern char** environ;

namespace lockbox::testing {
namespace fs = std::filesystem;

namespace {

// Variables of the test process that must not reach lockbox: they would change what it does.
bool is_foreign(const std::string& name) {
  return name.rfind("LOCKBOX_", 0) == 0 || name.rfind("FLUXBASE_", 0) == 0;
}

std::vector<std::string> inherited_names() {
  std::vector<std::string> names;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    names.push_back(entry.substr(0, entry.find('=')));
  }
  return names;
}

int exit_code_of(int status) {
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Between fork and exec: the defaults a shell would give a new program, whatever this test
// process set up (run_process ignores SIGPIPE, for one).
void reset_signals() {
  for (int sig = 1; sig < NSIG; ++sig) {
    if (sig != SIGKILL && sig != SIGSTOP) ::signal(sig, SIG_DFL);
  }
  sigset_t none;
  sigemptyset(&none);
  ::sigprocmask(SIG_SETMASK, &none, nullptr);
}

}  // namespace

ShmDir::ShmDir() {
  std::string tmpl = "/dev/shm/lockbox-runtest-XXXXXX";
  if (::mkdtemp(tmpl.data()) == nullptr) throw std::runtime_error("mkdtemp in /dev/shm failed");
  path_ = tmpl;
}

ShmDir::~ShmDir() {
  std::error_code ec;
  fs::remove_all(path_, ec);
}

Spawned::Spawned(const std::vector<std::string>& argv, const std::vector<std::string>& env,
                 const SpawnOptions& options, const fs::path& out_file, const fs::path& err_file)
    : out_file_(out_file), err_file_(err_file) {
  std::vector<std::string> args_copy = argv, env_copy = env;
  std::vector<char*> args, envp;
  for (auto& a : args_copy) args.push_back(a.data());
  args.push_back(nullptr);
  for (auto& e : env_copy) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string in = options.stdin_file.empty() ? "/dev/null" : options.stdin_file;
  const std::string out = out_file.string(), err = err_file.string();
  pid_ = ::fork();
  if (pid_ < 0) throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    reset_signals();
    const int in_fd = ::open(in.c_str(), O_RDONLY);
    const int out_fd = ::open(out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    const int err_fd = ::open(err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (in_fd < 0 || out_fd < 0 || err_fd < 0) ::_exit(120);
    ::dup2(in_fd, 0);
    ::dup2(out_fd, 1);
    ::dup2(err_fd, 2);
    if (!options.cwd.empty() && ::chdir(options.cwd.c_str()) != 0) ::_exit(120);
    if (options.pre_exec) options.pre_exec();
    ::execve(args[0], args.data(), envp.data());
    ::_exit(errno == ENOENT ? 127 : 126);
  }
}

Spawned::~Spawned() {
  if (code_ || pid_ <= 0) return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
  }
}

std::optional<int> Spawned::wait(int timeout_ms) {
  if (code_) return code_;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    int status = 0;
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      code_ = exit_code_of(status);
      return code_;
    }
    if (r < 0 && errno != EINTR) return std::nullopt;
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::string Spawned::out() const {
  return read_file(out_file_);
}
std::string Spawned::err() const {
  return read_file(err_file_);
}

RunBox::RunBox(bool init) {
  fs::create_directory(path("scratch"));
  if (init) {
    const ProcessResult r = run({"init"});
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
  }
}

void RunBox::write_policy(const std::string& yaml) {
  policy_ = path("lockbox.yaml");
  write_file(*policy_, yaml);
}

std::vector<std::string> RunBox::argv(const std::vector<std::string>& args) const {
  std::vector<std::string> out{LOCKBOX_BIN, "--data-dir", data_dir().string()};
  if (policy_) {
    out.push_back("--policy");
    out.push_back(policy_->string());
  }
  out.insert(out.end(), args.begin(), args.end());
  return out;
}

ProcessResult RunBox::run(const std::vector<std::string>& args, ProcessOptions options) const {
  for (const auto& name : inherited_names()) {
    if (is_foreign(name) && options.env.count(name) == 0) options.unset_env.push_back(name);
  }
  options.env.emplace("XDG_RUNTIME_DIR", runtime_dir().string());
  if (options.cwd.empty()) options.cwd = path("scratch").string();
  return run_process(argv(args), options);
}

void RunBox::set(const std::string& name, const std::string& value,
                 const std::vector<std::string>& extra, ProcessOptions options) const {
  std::vector<std::string> args{"secrets", "set", name};
  args.insert(args.end(), extra.begin(), extra.end());
  options.stdin_data = value;
  const ProcessResult r = run(args, options);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

ProcessResult RunBox::launch(const std::vector<std::string>& run_args_,
                             const std::vector<std::string>& steps, ProcessOptions options) const {
  return run(run_args(run_args_, steps), std::move(options));
}

std::unique_ptr<Spawned> RunBox::spawn(const std::vector<std::string>& args,
                                       SpawnOptions options) const {
  options.env.emplace("XDG_RUNTIME_DIR", runtime_dir().string());
  if (options.cwd.empty()) options.cwd = path("scratch").string();
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    const std::string name = entry.substr(0, entry.find('='));
    if (!is_foreign(name) && options.env.count(name) == 0) env.push_back(entry);
  }
  for (const auto& [k, v] : options.env) env.push_back(k + "=" + v);
  env.insert(env.end(), options.raw_env.begin(), options.raw_env.end());
  const int n = ++spawned_;
  return std::make_unique<Spawned>(argv(args), env, options,
                                   path("spawn-" + std::to_string(n) + ".out"),
                                   path("spawn-" + std::to_string(n) + ".err"));
}

std::unique_ptr<Spawned> RunBox::spawn_launch(const std::vector<std::string>& run_args_,
                                              const std::vector<std::string>& steps,
                                              SpawnOptions options) const {
  return spawn(run_args(run_args_, steps), std::move(options));
}

std::vector<std::string> run_args(const std::vector<std::string>& run_args,
                                  const std::vector<std::string>& steps) {
  std::vector<std::string> args{"run"};
  args.insert(args.end(), run_args.begin(), run_args.end());
  args.push_back("--");
  args.push_back(kChild);
  args.insert(args.end(), steps.begin(), steps.end());
  return args;
}

bool wait_until(const std::function<bool()>& done, int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!done()) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  return true;
}

pid_t wait_for_pid_file(const fs::path& file, int timeout_ms) {
  REQUIRE(wait_until([&] { return fs::exists(file); }, timeout_ms));
  const std::string text = read_file(file);
  const long pid = std::strtol(text.c_str(), nullptr, 10);
  REQUIRE(pid > 1);
  return static_cast<pid_t>(pid);
}

bool process_gone(pid_t pid) {
  const std::string status = read_file("/proc/" + std::to_string(pid) + "/status");
  if (status.empty()) return true;
  const auto at = status.find("State:");
  return at != std::string::npos && status.find('Z', at) < status.find('\n', at);
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    lines.push_back(text.substr(start, end - start));
    start = end + 1;
  }
  return lines;
}

int count_lines(const std::string& text, const std::string& line) {
  const auto lines = lines_of(text);
  return static_cast<int>(std::count(lines.begin(), lines.end(), line));
}

int count_containing(const std::string& text, const std::string& part) {
  int n = 0;
  for (const auto& l : lines_of(text)) n += l.find(part) != std::string::npos ? 1 : 0;
  return n;
}

std::vector<std::string> dir_entries(const fs::path& dir) {
  std::vector<std::string> names;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    names.push_back(it->path().filename().string());
  }
  std::sort(names.begin(), names.end());
  return names;
}

unsigned mode_of(const fs::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return 0;
  return st.st_mode & 07777;
}

bool on_memory_fs(const fs::path& path) {
  struct statfs s {};
  return ::statfs(path.c_str(), &s) == 0 && (static_cast<unsigned long>(s.f_type) == TMPFS_MAGIC ||
                                             static_cast<unsigned long>(s.f_type) == RAMFS_MAGIC);
}

std::vector<AuditRow> audit_rows(const fs::path& db) {
  sqlite3* handle = nullptr;
  std::vector<AuditRow> rows;
  if (sqlite3_open_v2(db.c_str(), &handle, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) {
    sqlite3_close(handle);
    FAIL("cannot open " << db);
  }
  sqlite3_stmt* stmt = nullptr;
  const char* sql = "SELECT action, target, outcome, detail FROM audit ORDER BY seq";
  if (sqlite3_prepare_v2(handle, sql, -1, &stmt, nullptr) == SQLITE_OK) {
    const auto text = [stmt](int col) {
      const unsigned char* t = sqlite3_column_text(stmt, col);
      return t != nullptr ? std::string(reinterpret_cast<const char*>(t)) : std::string();
    };
    while (sqlite3_step(stmt) == SQLITE_ROW) rows.push_back({text(0), text(1), text(2), text(3)});
  }
  sqlite3_finalize(stmt);
  sqlite3_close(handle);
  return rows;
}

KillOnExit::~KillOnExit() {
  if (pid > 1 && !process_gone(pid)) ::kill(pid, SIGKILL);
}

Pty::Pty() {
  master = ::posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
  if (master < 0 || ::grantpt(master) != 0 || ::unlockpt(master) != 0) {
    throw std::runtime_error("cannot open a pseudo-terminal");
  }
  char name[128];
  if (::ptsname_r(master, name, sizeof name) != 0) throw std::runtime_error("ptsname_r failed");
  slave_path = name;
}

Pty::~Pty() {
  if (master >= 0) ::close(master);
}

std::function<void()> Pty::controlling_terminal_hook() const {
  return [slave = slave_path]() {
    if (::setsid() < 0) ::_exit(121);
    const int fd = ::open(slave.c_str(), O_RDWR);
    if (fd < 0 || ::ioctl(fd, TIOCSCTTY, 0) != 0) ::_exit(122);
    ::dup2(fd, 0);
    if (fd > 0) ::close(fd);
  };
}

}  // namespace lockbox::testing
