#include "launcher/file_delivery.hpp"

#include <fcntl.h>
#include <linux/magic.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <optional>
#include <set>
#include <string>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using lockbox::SecretValue;
using lockbox::StatusCode;
using lockbox::launcher::DeliveryDir;
using lockbox::launcher::DeliveryOptions;
using lockbox::launcher::sweep_stale_delivery_dirs;
using lockbox::testing::read_file;
using lockbox::testing::TempDir;

namespace {

using Files = std::vector<std::pair<std::string, SecretValue>>;

Files files_of(const std::vector<std::pair<std::string, std::string>>& plain) {
  Files files;
  for (const auto& [name, value] : plain) files.emplace_back(name, SecretValue(value));
  return files;
}

unsigned mode_of(const fs::path& p) {
  struct stat st {};
  REQUIRE(::lstat(p.c_str(), &st) == 0);
  return st.st_mode & 07777;
}

bool on_memory_fs(const fs::path& p) {
  struct statfs s {};
  return ::statfs(p.c_str(), &s) == 0 && (static_cast<unsigned long>(s.f_type) == TMPFS_MAGIC ||
                                          static_cast<unsigned long>(s.f_type) == RAMFS_MAGIC);
}

std::set<std::string> entries(const fs::path& dir) {
  std::set<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.insert(e.path().filename().string());
  return names;
}

// A base on the test's TempDir (a disk, usually), with the tmpfs check off.
DeliveryOptions disk_options(const TempDir& tmp) {
  DeliveryOptions options;
  options.base_override = tmp / "base";
  options.skip_fs_check = true;
  return options;
}

// Sets (or unsets) an environment variable for a scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value != nullptr) {
      ::setenv(name, value, 1);
    } else {
      ::unsetenv(name);
    }
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Creates a delivery directory in a forked child that then dies without cleaning up, as a killed
// lockbox would. Returns its path.
fs::path make_stale_dir(const DeliveryOptions& options) {
  int fds[2];
  REQUIRE(::pipe(fds) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::close(fds[0]);
    auto dir = DeliveryDir::create(files_of({{"A", "alpha-secret"}}), options);
    const std::string path = dir.is_ok() ? dir.value()->path().string() : std::string();
    [[maybe_unused]] const ssize_t n = ::write(fds[1], path.data(), path.size());
    std::_Exit(0);  // no destructors: the directory stays, its lock dies with the process
  }
  ::close(fds[1]);
  std::string path;
  char buf[4096];
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    path.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  REQUIRE_FALSE(path.empty());
  REQUIRE(fs::is_directory(path));
  return path;
}

}  // namespace

TEST_CASE("file delivery writes each secret raw, 0400, in a 0700 directory",
          "[launcher][deliver]") {
  TempDir tmp;
  auto dir = DeliveryDir::create(files_of({{"DB_URL", "postgres://u:p@h/db"},
                                           {"multi-line", "line1\nline2"},
                                           {"EMPTY", ""},
                                           {"bin_1", std::string("\x01\xff ", 3)}}),
                                 disk_options(tmp));
  REQUIRE(dir.is_ok());
  const fs::path path = dir.value()->path();
  CHECK(path.is_absolute());
  CHECK(path.parent_path() == tmp / "base");
  CHECK(path.filename().string().rfind("run-", 0) == 0);
  CHECK(mode_of(tmp / "base") == 0700);
  CHECK(mode_of(path) == 0700);
  CHECK(entries(path) == std::set<std::string>{".lock", "DB_URL", "multi-line", "EMPTY", "bin_1"});
  CHECK(read_file(path / "DB_URL") == "postgres://u:p@h/db");
  CHECK(read_file(path / "multi-line") == "line1\nline2");
  CHECK(read_file(path / "bin_1") == std::string("\x01\xff ", 3));
  CHECK(fs::file_size(path / "EMPTY") == 0);
  for (const char* name : {"DB_URL", "multi-line", "EMPTY", "bin_1"}) {
    INFO(name);
    CHECK(mode_of(path / name) == 0400);
  }
}

TEST_CASE("file delivery modes hold whatever the umask", "[launcher][deliver]") {
  TempDir tmp;
  const mode_t old = ::umask(0777);
  auto dir = DeliveryDir::create(files_of({{"A", "value-a"}}), disk_options(tmp));
  ::umask(old);
  REQUIRE(dir.is_ok());
  CHECK(mode_of(tmp / "base") == 0700);
  CHECK(mode_of(dir.value()->path()) == 0700);
  CHECK(mode_of(dir.value()->path() / "A") == 0400);
  CHECK(mode_of(dir.value()->path() / ".lock") == 0600);  // a sweeper must be able to open it
  CHECK(read_file(dir.value()->path() / "A") == "value-a");
}

TEST_CASE("file delivery removes everything on remove and on destruction", "[launcher][deliver]") {
  TempDir tmp;
  fs::path path;
  {
    auto dir =
        DeliveryDir::create(files_of({{"A", "value-a"}, {"B", "value-b"}}), disk_options(tmp));
    REQUIRE(dir.is_ok());
    path = dir.value()->path();
    CHECK(fs::exists(path / "A"));
  }
  CHECK_FALSE(fs::exists(path));
  CHECK(fs::is_empty(tmp / "base"));

  auto dir = DeliveryDir::create(files_of({{"A", "value-a"}}), disk_options(tmp));
  REQUIRE(dir.is_ok());
  path = dir.value()->path();
  lockbox::testing::write_file(path / "made-by-child", "x");  // the child may add files
  CHECK(dir.value()->remove().is_ok());
  CHECK_FALSE(fs::exists(path));
  CHECK(dir.value()->remove().is_ok());  // idempotent
}

TEST_CASE("file delivery refuses names that are not secret names", "[launcher][deliver]") {
  TempDir tmp;
  for (const char* name : {".", "..", "/", "a/b", "../x", "", ".lock", "A B", "A\nB"}) {
    INFO("name '" << name << "'");
    auto dir = DeliveryDir::create(files_of({{"OK", "value"}, {name, "value"}}), disk_options(tmp));
    REQUIRE_FALSE(dir.is_ok());
    CHECK(dir.status().code() == StatusCode::kBadInput);
    CHECK(dir.status().message().find("value") == std::string::npos);
  }
  auto dup = DeliveryDir::create(files_of({{"A", "one"}, {"A", "two"}}), disk_options(tmp));
  CHECK(dup.status().code() == StatusCode::kBadInput);
  CHECK_FALSE(fs::exists(tmp / "base"));  // refused before anything is created
}

TEST_CASE("file delivery refuses a base that is not on tmpfs", "[launcher][deliver]") {
  TempDir tmp;
  if (on_memory_fs(tmp.path())) {
    WARN("skipped: " << tmp.path() << " is on tmpfs; no disk directory to test with");
    return;
  }
  DeliveryOptions options;
  options.base_override = tmp / "base";
  auto dir = DeliveryDir::create(files_of({{"A", "disk-canary-value"}}), options);
  REQUIRE_FALSE(dir.is_ok());
  CHECK(dir.status().code() == StatusCode::kBadInput);
  CHECK(dir.status().message().rfind("no tmpfs for --deliver file: ", 0) == 0);
  CHECK(dir.status().message().find("disk-canary-value") == std::string::npos);
  CHECK(fs::is_empty(tmp / "base"));  // no delivery directory, no secret, on the disk
}

TEST_CASE("file delivery refuses an unsafe base directory", "[launcher][deliver]") {
  TempDir tmp;
  DeliveryOptions options;
  options.skip_fs_check = true;
  auto refused = [&](const fs::path& base) {
    options.base_override = base;
    auto dir = DeliveryDir::create(files_of({{"A", "value-a"}}), options);
    return !dir.is_ok() && dir.status().code() == StatusCode::kBadInput;
  };
  fs::create_directory(tmp / "real");
  fs::create_symlink(tmp / "real", tmp / "link");
  CHECK(refused(tmp / "link"));
  CHECK(fs::is_empty(tmp / "real"));

  lockbox::testing::write_file(tmp / "file", "x");
  CHECK(refused(tmp / "file"));

  fs::create_directory(tmp / "open");
  ::chmod((tmp / "open").c_str(), 0750);
  CHECK(refused(tmp / "open"));
  CHECK(fs::is_empty(tmp / "open"));

  if (::geteuid() == 0) {
    fs::create_directory(tmp / "foreign");
    ::chmod((tmp / "foreign").c_str(), 0700);
    REQUIRE(::chown((tmp / "foreign").c_str(), 65534, 65534) == 0);
    CHECK(refused(tmp / "foreign"));
  }
}

TEST_CASE("file delivery defaults to /dev/shm/lockbox-<uid> on tmpfs", "[launcher][deliver]") {
  if (!on_memory_fs("/dev/shm")) {
    WARN("skipped: /dev/shm is not tmpfs here");
    return;
  }
  ScopedEnv no_xdg("XDG_RUNTIME_DIR", nullptr);
  auto dir = DeliveryDir::create(files_of({{"A", "value-a"}}));
  REQUIRE(dir.is_ok());
  const fs::path base = "/dev/shm/lockbox-" + std::to_string(::geteuid());
  CHECK(dir.value()->path().parent_path() == base);
  CHECK(mode_of(base) == 0700);
  CHECK(on_memory_fs(dir.value()->path()));
  CHECK(read_file(dir.value()->path() / "A") == "value-a");
}

TEST_CASE("file delivery uses $XDG_RUNTIME_DIR/lockbox only when it is on tmpfs",
          "[launcher][deliver]") {
  if (!on_memory_fs("/dev/shm")) {
    WARN("skipped: /dev/shm is not tmpfs here");
    return;
  }
  std::string xdg = "/dev/shm/lockbox-xdg-test-XXXXXX";
  REQUIRE(::mkdtemp(xdg.data()) != nullptr);
  {
    ScopedEnv env("XDG_RUNTIME_DIR", xdg.c_str());
    auto dir = DeliveryDir::create(files_of({{"A", "value-a"}}));
    REQUIRE(dir.is_ok());
    CHECK(dir.value()->path().parent_path() == fs::path(xdg) / "lockbox");
    CHECK(mode_of(fs::path(xdg) / "lockbox") == 0700);
  }
  TempDir disk;
  if (!on_memory_fs(disk.path())) {
    ScopedEnv env("XDG_RUNTIME_DIR", disk.path().c_str());
    auto dir = DeliveryDir::create(files_of({{"A", "value-a"}}));
    REQUIRE(dir.is_ok());
    CHECK(dir.value()->path().parent_path() == "/dev/shm/lockbox-" + std::to_string(::geteuid()));
    CHECK_FALSE(fs::exists(disk / "lockbox"));
  }
  fs::remove_all(xdg);
}

TEST_CASE("sweep removes a directory whose lock is not held and keeps a held one",
          "[launcher][deliver]") {
  TempDir tmp;
  const DeliveryOptions options = disk_options(tmp);
  CHECK(sweep_stale_delivery_dirs(options) == 0);  // no base yet: nothing to do

  auto live = DeliveryDir::create(files_of({{"L", "live-value"}}), options);  // held in-process
  REQUIRE(live.is_ok());
  const fs::path stale = make_stale_dir(options);
  CHECK(read_file(stale / "A") == "alpha-secret");

  // Another process holds the stale directory's lock through its own open file description.
  int ready[2], release[2];
  REQUIRE(::pipe(ready) == 0);
  REQUIRE(::pipe(release) == 0);
  const pid_t holder = ::fork();
  REQUIRE(holder >= 0);
  if (holder == 0) {
    ::close(ready[0]);
    ::close(release[1]);
    const int fd = ::open((stale / ".lock").c_str(), O_RDONLY | O_CLOEXEC);
    const bool locked = fd >= 0 && ::flock(fd, LOCK_EX | LOCK_NB) == 0;
    [[maybe_unused]] ssize_t n = ::write(ready[1], locked ? "y" : "n", 1);
    char c;
    n = ::read(release[0], &c, 1);  // EOF when the test releases us
    std::_Exit(0);
  }
  ::close(ready[1]);
  ::close(release[0]);
  char answer = 0;
  REQUIRE(::read(ready[0], &answer, 1) == 1);
  REQUIRE(answer == 'y');
  CHECK(sweep_stale_delivery_dirs(options) == 0);
  CHECK(fs::exists(stale / "A"));

  ::close(release[1]);
  int status = 0;
  ::waitpid(holder, &status, 0);
  ::close(ready[0]);
  CHECK(sweep_stale_delivery_dirs(options) == 1);
  CHECK_FALSE(fs::exists(stale));
  CHECK(fs::exists(live.value()->path() / "L"));  // the live directory is untouched
  CHECK(sweep_stale_delivery_dirs(options) == 0);
}

TEST_CASE("sweep never follows a symlink planted in a stale directory", "[launcher][deliver]") {
  TempDir tmp;
  const DeliveryOptions options = disk_options(tmp);
  fs::create_directories(tmp / "outside" / "subdir");
  lockbox::testing::write_file(tmp / "outside" / "keep.txt", "precious");
  lockbox::testing::write_file(tmp / "outside" / "subdir" / "inner.txt", "inner");

  const fs::path stale = make_stale_dir(options);
  fs::create_symlink(tmp / "outside" / "keep.txt", stale / "evil");
  fs::create_directory_symlink(tmp / "outside" / "subdir", stale / "evil_dir");
  fs::create_directory(stale / "sub");
  fs::create_directory_symlink(tmp / "outside", stale / "sub" / "deeper");
  // A symlink named like a delivery directory in the base itself is not followed either.
  fs::create_directory_symlink(tmp / "outside", tmp / "base" / "run-planted");

  CHECK(sweep_stale_delivery_dirs(options) == 1);
  CHECK_FALSE(fs::exists(stale));
  CHECK(read_file(tmp / "outside" / "keep.txt") == "precious");
  CHECK(read_file(tmp / "outside" / "subdir" / "inner.txt") == "inner");
  CHECK(fs::is_symlink(tmp / "base" / "run-planted"));
}

TEST_CASE("sweep removes a lock-less directory only once it is old", "[launcher][deliver]") {
  TempDir tmp;
  const DeliveryOptions options = disk_options(tmp);
  auto dir = DeliveryDir::create({}, options);  // creates the base
  REQUIRE(dir.is_ok());
  const fs::path orphan = tmp / "base" / "run-orphan";
  fs::create_directory(orphan);
  lockbox::testing::write_file(tmp / "base" / "not-ours", "x");
  CHECK(sweep_stale_delivery_dirs(options) == 0);  // young: its creator may be about to lock it
  CHECK(fs::exists(orphan));

  const timespec old_times[2] = {{::time(nullptr) - 600, 0}, {::time(nullptr) - 600, 0}};
  REQUIRE(::utimensat(AT_FDCWD, orphan.c_str(), old_times, 0) == 0);
  CHECK(sweep_stale_delivery_dirs(options) == 1);
  CHECK_FALSE(fs::exists(orphan));
  CHECK(fs::exists(tmp / "base" / "not-ours"));
  CHECK(fs::exists(dir.value()->path()));
}

TEST_CASE("the delivery lock is not inherited across exec", "[launcher][deliver]") {
  TempDir tmp;
  const DeliveryOptions options = disk_options(tmp);
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    auto dir = DeliveryDir::create(files_of({{"A", "value-a"}}), options);
    const std::string path = dir.is_ok() ? dir.value()->path().string() : std::string();
    [[maybe_unused]] const ssize_t n = ::write(fds[1], path.data(), path.size());
    ::execl(LOCKBOX_TEST_CHILD, "lockbox_test_child", "sleep", "30000",
            static_cast<char*>(nullptr));
    std::_Exit(127);
  }
  ::close(fds[1]);
  std::string path;
  char buf[4096];
  // EOF once exec closed the (close-on-exec) write end.
  for (ssize_t n; (n = ::read(fds[0], buf, sizeof buf)) > 0;)
    path.append(buf, static_cast<std::size_t>(n));
  ::close(fds[0]);
  REQUIRE_FALSE(path.empty());
  int status = 0;
  REQUIRE(::waitpid(pid, &status, WNOHANG) == 0);  // the exec'd child is alive
  // The process that created the directory is still running, but its image no longer holds the
  // lock descriptor, so the directory counts as stale.
  CHECK(sweep_stale_delivery_dirs(options) == 1);
  CHECK_FALSE(fs::exists(path));
  ::kill(pid, SIGKILL);
  ::waitpid(pid, &status, 0);
  CHECK((WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL));
}

TEST_CASE("a child reads the delivered files", "[launcher][deliver]") {
  TempDir tmp;
  auto dir =
      DeliveryDir::create(files_of({{"API_KEY", "sk-123"}, {"DB", "db-pass"}}), disk_options(tmp));
  REQUIRE(dir.is_ok());
  const std::string path = dir.value()->path().string();
  const auto result = lockbox::testing::run_process({LOCKBOX_TEST_CHILD, "print-dir-files", path,
                                                     "print-file", path + "/API_KEY", "print", "",
                                                     "print-file", path + "/DB", "exit", "3"});
  CHECK(result.exit_code == 3);
  CHECK(result.out == ".lock\nAPI_KEY\nDB\nsk-123\ndb-pass");
  CHECK(result.err.empty());
}
