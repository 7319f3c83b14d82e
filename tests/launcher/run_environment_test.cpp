// The child's environment under `lockbox run` (SPEC §2, §3): injection names, precedence of the
// store, --env-file and host variables, env_override: deny, --pristine, LOCKBOX_* never passed
// on, no duplicates, function forms and allow-lists, prefix and name_transform, expiry, and the
// process state (signal mask and dispositions, umask, core limit) the child gets back.

#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.hpp"
#include "core/time_format.hpp"
#include "tests/launcher/run_test_support.hpp"

namespace fs = std::filesystem;
using namespace lockbox::testing;

namespace {

// The FLUXBASE_SECRET_* names of a `print-env-names` output.
std::set<std::string> secret_names(const std::string& names) {
  std::set<std::string> out;
  for (const auto& n : lines_of(names)) {
    if (n.rfind("FLUXBASE_SECRET_", 0) == 0) out.insert(n);
  }
  return out;
}

std::string env_line(const std::string& name, const std::string& value) {
  return name + "=" + value + "\n";
}

std::string unset_line(const std::string& name) {
  return name + " unset\n";
}

// The soft core limit of a running process, from /proc/PID/limits.
std::string soft_core_limit(pid_t pid) {
  for (const auto& line : lines_of(read_file("/proc/" + std::to_string(pid) + "/limits"))) {
    if (line.rfind("Max core file size", 0) != 0) continue;
    std::istringstream words(line.substr(18));
    std::string soft;
    words >> soft;
    return soft;
  }
  return "?";
}

}  // namespace

TEST_CASE("run injects each stored secret as FLUXBASE_SECRET_<NAME>", "[run][env]") {
  RunBox box;
  box.set("DB", "namespace-db", {"--namespace", "production"});
  box.set("API-key", "global-api-key");
  box.set("OTHER", "staging-only", {"--namespace", "staging"});
  const ProcessResult r =
      box.launch({"--namespace", "production"},
                 {"print-env", "FLUXBASE_SECRET_DB", "print-env", "FLUXBASE_SECRET_API-key",
                  "print-env", "FLUXBASE_SECRET_OTHER"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == env_line("FLUXBASE_SECRET_DB", "namespace-db") +
                     env_line("FLUXBASE_SECRET_API-key", "global-api-key") +
                     unset_line("FLUXBASE_SECRET_OTHER"));
}

TEST_CASE("run layers store < env files in order < host variables", "[run][env][precedence]") {
  RunBox box;
  for (const char* name : {"A", "B", "C", "D"}) box.set(name, std::string("store-") + name);
  write_file(box.path("first.env"), "B=first-b\nC=first-c\nD=first-d\n");
  write_file(box.path("second.env"), "C=second-c\nD=second-d\n");
  ProcessOptions host;
  host.env["FLUXBASE_SECRET_D"] = "host-d";
  const ProcessResult r = box.launch(
      {"--env-file", box.path("first.env").string(), "--env-file", box.path("second.env").string()},
      {"print-env", "FLUXBASE_SECRET_A", "print-env", "FLUXBASE_SECRET_B", "print-env",
       "FLUXBASE_SECRET_C", "print-env", "FLUXBASE_SECRET_D"},
      host);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        env_line("FLUXBASE_SECRET_A", "store-A") + env_line("FLUXBASE_SECRET_B", "first-b") +
            env_line("FLUXBASE_SECRET_C", "second-c") + env_line("FLUXBASE_SECRET_D", "host-d"));
}

TEST_CASE("run under env_override deny drops env-file and host overrides with one warning",
          "[run][env][precedence]") {
  RunBox box;
  box.write_policy("version: 1\nnamespaces:\n  production: { env_override: deny }\n");
  box.set("X", "store-x", {"--namespace", "production"});
  write_file(box.path("local.env"), "X=file-x\nY=file-y\n");
  ProcessOptions host;
  host.env["FLUXBASE_SECRET_X"] = "host-x";
  host.env["FLUXBASE_SECRET_Z"] = "host-z";
  const ProcessResult r =
      box.launch({"--namespace", "production", "--env-file", box.path("local.env").string()},
                 {"print-env", "FLUXBASE_SECRET_X", "print-env", "FLUXBASE_SECRET_Y", "print-env",
                  "FLUXBASE_SECRET_Z"},
                 host);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == env_line("FLUXBASE_SECRET_X", "store-x") + unset_line("FLUXBASE_SECRET_Y") +
                     unset_line("FLUXBASE_SECRET_Z"));
  REQUIRE(count_containing(r.err, "env_override") == 1);
  for (const char* name : {"FLUXBASE_SECRET_X", "FLUXBASE_SECRET_Y", "FLUXBASE_SECRET_Z"}) {
    CHECK(r.err.find(name) != std::string::npos);
  }
  for (const char* value : {"store-x", "file-x", "file-y", "host-x", "host-z"}) {
    CHECK(r.err.find(value) == std::string::npos);
  }
}

TEST_CASE("run --pristine keeps only the basic variables plus the injected ones",
          "[run][env][pristine]") {
  RunBox box;
  box.set("DB", "store-db");
  ProcessOptions host;
  host.env = {{"FOO", "bar"},        {"LC_ALL", "C"},
              {"LANG", "C.UTF-8"},   {"TZ", "UTC"},
              {"TERM", "dumb"},      {"USER", "tester"},
              {"LOGNAME", "tester"}, {"HOME", "/home/tester"},
              {"SHELL", "/bin/sh"},  {"FLUXBASE_SECRET_H", "host-h"}};
  const ProcessResult r =
      box.launch({"--pristine"}, {"print-env-names", "print-env", "FLUXBASE_SECRET_H"}, host);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::set<std::string> allowed = {"PATH",
                                         "HOME",
                                         "USER",
                                         "LOGNAME",
                                         "LANG",
                                         "TZ",
                                         "TERM",
                                         "FLUXBASE_SECRET_DB",
                                         "FLUXBASE_SECRET_H"};
  std::set<std::string> seen;
  for (const auto& name : lines_of(r.out)) {
    if (name.find('=') != std::string::npos || name.find(' ') != std::string::npos) continue;
    seen.insert(name);
    INFO(name);
    CHECK((allowed.count(name) == 1 || name.rfind("LC_", 0) == 0));
  }
  for (const char* name : {"PATH", "HOME", "USER", "LOGNAME", "LANG", "LC_ALL", "TZ", "TERM",
                           "FLUXBASE_SECRET_DB", "FLUXBASE_SECRET_H"}) {
    CHECK(seen.count(name) == 1);
  }
  CHECK(r.out.find("FLUXBASE_SECRET_H=host-h\n") != std::string::npos);
}

TEST_CASE("run never passes a LOCKBOX_* variable to the child", "[run][env]") {
  const bool pristine = GENERATE(false, true);
  RunBox box(false);
  ProcessOptions options;
  options.env = {{"LOCKBOX_MASTER_KEY", kMasterKey},
                 {"LOCKBOX_LOG", "warn"},
                 {"LOCKBOX_DATA_DIR", box.data_dir().string()},
                 {"LOCKBOX_UNRELATED", "1"}};
  REQUIRE(box.run({"init"}, options).exit_code == 0);
  REQUIRE_FALSE(fs::exists(box.data_dir() / "master.key"));
  std::vector<std::string> run_args;
  if (pristine) run_args.push_back("--pristine");
  const ProcessResult r = box.launch(run_args, {"print-env-names"}, options);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  for (const auto& name : lines_of(r.out)) CHECK(name.rfind("LOCKBOX_", 0) != 0);
  CHECK(r.out.find(kMasterKey) == std::string::npos);
}

TEST_CASE("run gives the child no variable twice", "[run][env]") {
  RunBox box;
  box.set("DB", "store-db");
  SpawnOptions options;
  options.raw_env = {"DUP=first",
                     "DUP=second",
                     "FLUXBASE_SECRET_DB=host-1",
                     "FLUXBASE_SECRET_DB=host-2",
                     "FLUXBASE_SECRET_NEW=new-1",
                     "FLUXBASE_SECRET_NEW=new-2"};
  auto lockbox = box.spawn_launch(
      {}, {"print-env-names", "print-env", "DUP", "print-env", "FLUXBASE_SECRET_DB"}, options);
  REQUIRE(lockbox->wait() == 0);
  INFO(lockbox->err());
  const std::string out = lockbox->out();
  std::vector<std::string> names;
  for (const auto& line : lines_of(out)) {
    if (line.find('=') == std::string::npos) names.push_back(line);
  }
  const std::set<std::string> unique(names.begin(), names.end());
  CHECK(unique.size() == names.size());
  CHECK(std::count(names.begin(), names.end(), "FLUXBASE_SECRET_NEW") == 1);
  // Whatever libc would have read (the first entry) wins.
  CHECK(out.find("DUP=first\n") != std::string::npos);
  CHECK(out.find("FLUXBASE_SECRET_DB=host-1\n") != std::string::npos);
}

TEST_CASE(
    "run FUNCTION -- EXTRA appends the extra arguments; the command, as written, runs in "
    "the policy directory",
    "[run][env][function]") {
  RunBox box;
  fs::create_directory(box.path("bin"));
  fs::copy_file(kChild, box.path("bin/child"));
  box.write_policy("version: 1\nfunctions:\n  f: { command: [bin/child, print-argv] }\n");
  // lockbox runs in another directory (scratch), so only the policy directory can explain it.
  const ProcessResult r = box.run({"run", "f", "--", "exit", "7"});
  INFO(r.err);
  CHECK(r.exit_code == 7);
  // argv[0] reaches exec exactly as written (SPEC §9); it is found in the workdir.
  const std::string program = "bin/child";
  CHECK(r.out == program +
                     "\x1fprint-argv\x1f"
                     "exit\x1f"
                     "7\n");
}

TEST_CASE("run --function F -- CMD applies F's secrets allow-list to every origin",
          "[run][env][function]") {
  RunBox box;
  box.write_policy(
      "version: 1\nfunctions:\n  f: { command: [true], secrets: [\"DB_*\", API_KEY] }\n");
  for (const char* name : {"DB_URL", "DB_PASS", "API_KEY", "OTHER"}) box.set(name, "store-value");
  write_file(box.path("local.env"), "DB_FILE=f1\nOTHER_FILE=f2\n");
  ProcessOptions host;
  host.env = {{"FLUXBASE_SECRET_DB_HOST", "h1"}, {"FLUXBASE_SECRET_OTHER_HOST", "h2"}};
  const ProcessResult r = box.launch(
      {"--function", "f", "--env-file", box.path("local.env").string()}, {"print-env-names"}, host);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(secret_names(r.out) ==
        std::set<std::string>{"FLUXBASE_SECRET_API_KEY", "FLUXBASE_SECRET_DB_FILE",
                              "FLUXBASE_SECRET_DB_HOST", "FLUXBASE_SECRET_DB_PASS",
                              "FLUXBASE_SECRET_DB_URL"});
}

TEST_CASE("run applies inject.prefix and name_transform posix", "[run][env][inject]") {
  RunBox box;
  box.write_policy("version: 1\ninject: { prefix: APP_, name_transform: posix }\n");
  box.set("db-url", "store-url");
  box.set("Api_Key", "store-key");
  const ProcessResult r =
      box.launch({}, {"print-env", "APP_DB_URL", "print-env", "APP_API_KEY", "print-env-names"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const std::vector<std::string> lines = lines_of(r.out);
  REQUIRE(lines.size() >= 2);
  CHECK(lines[0] == "APP_DB_URL=store-url");
  CHECK(lines[1] == "APP_API_KEY=store-key");
  CHECK(secret_names(r.out).empty());
}

TEST_CASE("run skips an expired secret with a warning and does not fall through to global",
          "[run][env][expiry]") {
  RunBox box;
  box.set("DB", "global-db");
  box.set("DB", "expiring-db", {"--namespace", "production", "--expires", "1h"});
  box.set("FRESH", "fresh-value", {"--namespace", "production"});
  // Launched as if 1.5 h from now (LOCKBOX_TEST_NOW): the production version is in the past.
  ProcessOptions later;
  later.env["LOCKBOX_TEST_NOW"] =
      lockbox::format_rfc3339(lockbox::SystemClock::instance().now() + 90 * 60 * 1000);
  const ProcessResult r =
      box.launch({"--namespace", "production"},
                 {"print-env", "FLUXBASE_SECRET_DB", "print-env", "FLUXBASE_SECRET_FRESH"}, later);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out ==
        unset_line("FLUXBASE_SECRET_DB") + env_line("FLUXBASE_SECRET_FRESH", "fresh-value"));
  CHECK(count_containing(r.err, "DB") >= 1);
  CHECK(count_containing(r.err, "expired") >= 1);
  CHECK(r.err.find("global-db") == std::string::npos);
  CHECK(r.err.find("expiring-db") == std::string::npos);
}

TEST_CASE("run gives the child default signal state although lockbox blocks the forwarded ones",
          "[run][env][state]") {
  RunBox box;
  auto lockbox = box.spawn_launch({}, {"print-sigmask", "print-sigdisp", "INT", "print-sigdisp",
                                       "TERM", "print-sigdisp", "PIPE"});
  REQUIRE(lockbox->wait() == 0);
  INFO(lockbox->err());
  CHECK(lockbox->out() == "0000000000000000\ndefault\ndefault\ndefault\n");
}

TEST_CASE(
    "run restores for the child the signal mask, dispositions, umask and core limit "
    "lockbox started with",
    "[run][env][state]") {
  RunBox box;
  rlimit core{};
  REQUIRE(::getrlimit(RLIMIT_CORE, &core) == 0);
  const rlim_t soft = core.rlim_max == RLIM_INFINITY || core.rlim_max >= 4096 ? 4096 : 0;
  SpawnOptions options;
  // Under AddressSanitizer every process (lockbox, the child) would set its own soft core limit
  // to 0 at startup; ask it not to, so only lockbox's own handling shows.
  const char* asan = std::getenv("ASAN_OPTIONS");
  options.env["ASAN_OPTIONS"] =
      std::string(asan != nullptr && *asan != '\0' ? std::string(asan) + ":" : "") +
      "disable_coredump=0";
  options.pre_exec = [core, soft]() {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGUSR2);
    sigaddset(&set, SIGALRM);
    ::sigprocmask(SIG_BLOCK, &set, nullptr);
    ::signal(SIGHUP, SIG_IGN);
    ::signal(SIGQUIT, SIG_IGN);
    ::umask(027);
    rlimit limit{soft, core.rlim_max};
    ::setrlimit(RLIMIT_CORE, &limit);
  };
  const fs::path pid_file = box.path("child.pid");
  auto lockbox = box.spawn_launch(
      {},
      {"print-sigmask", "print-sigdisp", "HUP", "print-sigdisp", "QUIT", "print-sigdisp", "INT",
       "print-umask", "print-core-limit", "write-pid", pid_file.string(), "sleep", "60000"},
      options);
  const KillOnExit child{wait_for_pid_file(pid_file)};
  // lockbox itself runs with a core limit of 0 while it holds plaintext.
  CHECK(soft_core_limit(lockbox->pid()) == "0");
  ::kill(child.pid, SIGKILL);
  CHECK(lockbox->wait() == 128 + SIGKILL);
  const std::string hard =
      core.rlim_max == RLIM_INFINITY ? "unlimited" : std::to_string(core.rlim_max);
  // SIGUSR2 (12) and SIGALRM (14): bits 11 and 13.
  CHECK(lockbox->out() == "0000000000002800\nignore\nignore\ndefault\n0027\n" +
                              std::to_string(soft) + " " + hard + "\n");
}

// ---- values never leak --------------------------------------------------------------------

namespace {

bool leaks(const std::string& text) {
  for (const char* canary : {kStoreCanary, kFileCanary, kHostCanary, kMasterKey}) {
    if (text.find(canary) != std::string::npos) return true;
  }
  return false;
}

}  // namespace

TEST_CASE("run never writes an injected value to its own stderr, also at -vvv and on failures",
          "[run][env][leak]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  needs: { command: [true], require: [MISSING] }\n");
  box.set("STORED", kStoreCanary);
  write_file(box.path("local.env"), std::string("FROM_FILE=") + kFileCanary + "\n");
  ProcessOptions host;
  host.env["FLUXBASE_SECRET_FROM_HOST"] = kHostCanary;
  const std::vector<std::string> base = {"-vvv", "run", "--env-file",
                                         box.path("local.env").string()};
  const auto with = [&base](std::vector<std::string> more) {
    std::vector<std::string> args = base;
    args.insert(args.end(), more.begin(), more.end());
    return args;
  };
  const std::vector<std::string> child_prints = {"--",
                                                 kChild,
                                                 "print-argv",
                                                 "print-env",
                                                 "FLUXBASE_SECRET_STORED",
                                                 "print-env",
                                                 "FLUXBASE_SECRET_FROM_FILE",
                                                 "print-env",
                                                 "FLUXBASE_SECRET_FROM_HOST"};
  ProcessResult r;
  int expected = 0;
  SECTION("a launch that works, with the values in the child's environment only") {
    for (const char* deliver : {"env", "file"}) {
      std::vector<std::string> args = with({"--deliver", deliver});
      args.insert(args.end(), child_prints.begin(), child_prints.end());
      r = box.run(args, host);
      INFO(deliver);
      const std::vector<std::string> out = lines_of(r.out);
      REQUIRE_FALSE(out.empty());
      CHECK_FALSE(leaks(out.front()));  // the child's argv
      CHECK(leaks(r.out) == (std::string(deliver) == "env"));
      CHECK_FALSE(leaks(r.err));
    }
  }
  SECTION("--dry-run") {
    r = box.run(with({"--dry-run", "--", "true"}), host);
    CHECK_FALSE(leaks(r.out));
  }
  SECTION("a timeout") {
    r = box.run(with({"--timeout", "1s", "--", kChild, "sleep", "60000"}), host);
    expected = 124;
  }
  SECTION("a missing required secret") {
    r = box.run(with({"--function", "needs", "--", "true"}), host);
    expected = 125;
  }
  SECTION("an unknown command") {
    r = box.run(with({"--", "/nonexistent/lockbox-command"}), host);
    expected = 127;
  }
  SECTION("a refused variable name") {
    write_file(box.path("bad.env"), std::string("LD_PRELOAD=") + kFileCanary + "\n");
    box.write_policy("version: 1\ninject: { prefix: \"\" }\n");
    r = box.run(with({"--env-file", box.path("bad.env").string(), "--", "true"}), host);
    expected = 125;
  }
  INFO(r.err);
  CHECK(r.exit_code == expected);
  CHECK(r.err.find("lockbox: ") != std::string::npos);  // -vvv did log something
  CHECK_FALSE(leaks(r.err));
}

TEST_CASE("a running lockbox keeps no master key in /proc/PID/environ", "[run][env][leak]") {
  RunBox box(false);
  ProcessOptions key;
  key.env["LOCKBOX_MASTER_KEY"] = kMasterKey;
  REQUIRE(box.run({"init"}, key).exit_code == 0);
  box.set("DB", kStoreCanary, {}, key);
  SpawnOptions options;
  options.env["LOCKBOX_MASTER_KEY"] = kMasterKey;
  const fs::path pid_file = box.path("child.pid");
  auto lockbox = box.spawn_launch(
      {}, {"print-pgrp", "write-pid", pid_file.string(), "sleep", "60000"}, options);
  const KillOnExit child{wait_for_pid_file(pid_file)};
  const std::string pgrp = lockbox->out();
  const std::string ppid = "ppid=" + std::to_string(lockbox->pid()) + "\n";
  CHECK(pgrp.find(ppid) != std::string::npos);  // the child's parent is lockbox itself
  const std::string proc = "/proc/" + std::to_string(lockbox->pid());
  if (::geteuid() == 0) {
    // root may read any process's environ; a non-dumpable lockbox cannot be told apart here.
    const std::string environ_text = read_file(proc + "/environ");
    REQUIRE_FALSE(environ_text.empty());
    CHECK(environ_text.find(kMasterKey) == std::string::npos);
  } else {
    // Non-dumpable: its /proc entries belong to root, so its environ is not ours to read.
    struct stat st {};
    REQUIRE(::stat((proc + "/environ").c_str(), &st) == 0);
    CHECK(st.st_uid == 0);
  }
  CHECK(read_file("/proc/" + std::to_string(child.pid) + "/environ").find(kMasterKey) ==
        std::string::npos);
  ::kill(child.pid, SIGKILL);
  CHECK(lockbox->wait() == 128 + SIGKILL);
  CHECK_FALSE(leaks(lockbox->err()));
}
