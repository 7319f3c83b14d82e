// Issue 13 item 10 for `run`: signals before the spawn end lockbox (125, nothing launched);
// FIFOs as --policy or --env-file are refused at once; `--user ""` is 125; with --user the child
// starts from --pristine's set unless --keep-env; the new refused names.

#include <pwd.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <string>

#include "tests/launcher/run_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace lockbox::testing;

namespace {

// The system call the main thread of `pid` is in (first field of /proc/PID/syscall), or -1.
long syscall_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/syscall");
  long nr = -1;
  in >> nr;
  return nr;
}

bool sleeping_in_busy_wait(pid_t pid) {
  const long nr = syscall_of(pid);
  return nr == 35 || nr == 230;  // nanosleep, clock_nanosleep (SQLite's busy handler sleeps)
}

// Holds the store's write lock (BEGIN IMMEDIATE) for its lifetime.
struct WriteLock {
  sqlite3* db = nullptr;
  explicit WriteLock(const fs::path& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  }
  ~WriteLock() {
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
  }
};

}  // namespace

TEST_CASE("INT, TERM or HUP while run waits on a busy store ends it with 125 and launches nothing",
          "[run][signals][125]") {
  const int sig = GENERATE(SIGINT, SIGTERM, SIGHUP);
  RunBox box;
  box.set("A", "v");
  const WriteLock lock(box.db_path());
  const fs::path marker = box.path("ran");
  auto lockbox = box.spawn({"--busy-timeout", "60s", "run", "--", kChild, "write-pid", marker.string()});
  // The sentinel: lockbox sleeps in SQLite's busy handler, well past its start-up.
  REQUIRE(wait_until([&] { return sleeping_in_busy_wait(lockbox->pid()); }));
  REQUIRE(::kill(lockbox->pid(), sig) == 0);
  CHECK(lockbox->wait(20000) == 125);
  CHECK(lockbox->err().find("before the launch; nothing was started") != std::string::npos);
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("a FIFO as --env-file or --policy is refused at once with 125", "[run][125]") {
  const bool as_policy = GENERATE(false, true);
  RunBox box;
  const fs::path fifo = box.path("input.fifo");
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);  // no writer: reading it would block forever
  ProcessOptions bounded;
  bounded.timeout_ms = 20000;
  const std::vector<std::string> args =
      as_policy ? std::vector<std::string>{"--policy", fifo.string(), "run", "--", "true"}
                : std::vector<std::string>{"run", "--env-file", fifo.string(), "--", "true"};
  const ProcessResult r = box.run(args, bounded);
  CHECK(r.exit_code == 125);
  CHECK(r.err == "lockbox: " + std::string(as_policy ? "policy file " : "env file ") + fifo.string() +
                     " is not a regular file\n");
}

TEST_CASE("run and job run refuse an empty --user with 125 instead of running as root",
          "[run][user][125]") {
  RunBox box;
  box.write_policy("version: 1\njobs:\n  j: {command: [sh, -c, 'echo ran']}\n");
  const fs::path marker = box.path("ran");
  const ProcessResult r = box.launch({"--user", ""}, {"write-pid", marker.string()});
  CHECK(r.exit_code == 125);
  CHECK(r.err == "lockbox: --user: the user name is empty\n");
  CHECK_FALSE(fs::exists(marker));
  const ProcessResult job = box.run({"job", "run", "j", "--user", "no-such-user-lbx"});
  CHECK(job.exit_code == 125);
  CHECK(job.out.empty());
}

TEST_CASE("run --user starts the child from --pristine's set unless --keep-env", "[run][user]") {
  if (::geteuid() != 0 || getpwnam("nobody") == nullptr) {
    WARN("needs root and a 'nobody' user; skipped");
    return;
  }
  RunBox box;
  box.set("TOKEN", "v");
  ProcessOptions host;
  host.env = {{"AWS_SECRET_ACCESS_KEY", kHostCanary}, {"LANG", "C.UTF-8"}};
  const ProcessResult plain = box.launch({"--user", "nobody"},
                                         {"print-env", "AWS_SECRET_ACCESS_KEY", "print-env", "LANG",
                                          "print-env", "FLUXBASE_SECRET_TOKEN"},
                                         host);
  INFO(plain.err);
  CHECK(plain.out == "AWS_SECRET_ACCESS_KEY unset\nLANG=C.UTF-8\nFLUXBASE_SECRET_TOKEN=v\n");
  const ProcessResult kept =
      box.launch({"--user", "nobody", "--keep-env"}, {"print-env", "AWS_SECRET_ACCESS_KEY"}, host);
  CHECK(kept.out == std::string("AWS_SECRET_ACCESS_KEY=") + kHostCanary + "\n");
  CHECK(box.launch({"--keep-env"}, {"exit", "0"}).exit_code == 125);
}

TEST_CASE("run refuses the runtime-hook twins of the refused names", "[run][exit][125]") {
  const std::string name =
      GENERATE("JDK_JAVA_OPTIONS", "PERLLIB", "SSLKEYLOGFILE", "OPENSSL_CONF", "OPENSSL_MODULES",
               "PYTHONWARNINGS", "PROMPT_COMMAND", "GIT_SSH_COMMAND", "GIT_EXEC_PATH", "LUA_PATH",
               "LUA_INIT", "GEM_PATH", "R_PROFILE");
  RunBox box;
  box.write_policy("version: 1\ninject: { prefix: \"\" }\n");
  box.set(name, kStoreCanary);
  const fs::path marker = box.path("ran");
  const ProcessResult r = box.launch({}, {"write-pid", marker.string()});
  CHECK(r.exit_code == 125);
  CHECK(r.err.find(name) != std::string::npos);
  CHECK(r.err.find(kStoreCanary) == std::string::npos);
  CHECK_FALSE(fs::exists(marker));
}

TEST_CASE("secrets import and run --env-file name a NUL byte in a value as such (item 8)",
          "[run][import]") {
  RunBox box;
  write_file(box.path("nul.env"), std::string("A=1\nB=sec\0ret\n", 14));
  const ProcessResult import = box.run({"secrets", "import", box.path("nul.env").string()});
  CHECK(import.exit_code == 2);
  CHECK(import.err.find("nul.env:2: value contains a NUL byte") != std::string::npos);
  CHECK(import.err.find("not valid UTF-8") == std::string::npos);
  const ProcessResult run = box.launch({"--env-file", box.path("nul.env").string()}, {"exit", "0"});
  CHECK(run.exit_code == 125);
  CHECK(run.err.find("value contains a NUL byte") != std::string::npos);
}
