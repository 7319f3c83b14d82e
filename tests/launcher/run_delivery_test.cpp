// `--deliver file` and `--redact` under `lockbox run` (SPEC §3, §4). Each RunBox has its own
// XDG_RUNTIME_DIR on tmpfs, so the delivery base is <runtime>/lockbox and no other test's
// directories are seen or swept.

#include <signal.h>

#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/launcher/run_test_support.hpp"

namespace fs = std::filesystem;
using namespace lockbox::testing;

namespace {

// The run-* directories under the box's delivery base.
std::vector<std::string> delivery_dirs(const RunBox& box) {
  std::vector<std::string> dirs;
  for (const auto& name : dir_entries(box.delivery_base())) {
    if (name.rfind("run-", 0) == 0) dirs.push_back(name);
  }
  return dirs;
}

// The value printed by `print-env FLUXBASE_SECRETS_DIR`, or "" when there is none.
std::string secrets_dir_of(const std::string& out) {
  const std::string key = "FLUXBASE_SECRETS_DIR=";
  const auto at = out.find(key);
  if (at == std::string::npos) return {};
  const auto end = out.find('\n', at);
  return end == std::string::npos ? std::string()
                                  : out.substr(at + key.size(), end - at - key.size());
}

// The steps of a child that shows its delivery directory, then waits to be ended.
std::vector<std::string> show_dir_and_wait(const fs::path& pid_file) {
  return {"print-env", "FLUXBASE_SECRETS_DIR", "print-env-names",
          "write-pid", pid_file.string(),      "sleep",
          "60000"};
}

}  // namespace

TEST_CASE("run --deliver file writes one 0400 file per secret with its exact bytes",
          "[run][deliver]") {
  RunBox box;
  const std::map<std::string, std::string> secrets = {{"DB_URL", "postgres://u:p@db/app"},
                                                      {"MULTI", "line one\nline two\n"},
                                                      {"EMPTY", ""},
                                                      {"api-key", "k-123"}};
  for (const auto& [name, value] : secrets) box.set(name, value);
  write_file(box.path("local.env"), "OVERRIDE=from-file\n");
  const fs::path pid_file = box.path("child.pid");
  auto lockbox =
      box.spawn_launch({"--deliver", "file", "--env-file", box.path("local.env").string()},
                       show_dir_and_wait(pid_file));
  const KillOnExit child{wait_for_pid_file(pid_file)};
  const std::string out = lockbox->out();
  const fs::path dir = secrets_dir_of(out);
  REQUIRE_FALSE(dir.empty());
  CHECK(dir.parent_path() == box.delivery_base());
  CHECK(mode_of(dir) == 0700);
  CHECK(on_memory_fs(dir));
  std::vector<std::string> files;
  for (const auto& name : dir_entries(dir)) {
    if (name.front() != '.') files.push_back(name);  // lockbox's own lock file
  }
  CHECK(files == std::vector<std::string>{"DB_URL", "EMPTY", "MULTI", "OVERRIDE", "api-key"});
  std::map<std::string, std::string> expected = secrets;
  expected["OVERRIDE"] = "from-file";
  for (const auto& [name, value] : expected) {
    INFO(name);
    CHECK(mode_of(dir / name) == 0400);
    CHECK(read_file(dir / name) == value);
  }
  for (const auto& name : lines_of(out)) CHECK(name.rfind("FLUXBASE_SECRET_", 0) != 0);
  ::kill(child.pid, SIGTERM);
  CHECK(lockbox->wait() == 128 + SIGTERM);
  CHECK_FALSE(fs::exists(dir));
}

TEST_CASE("run --deliver file names each file after the final variable name without the prefix",
          "[run][deliver]") {
  RunBox box;
  box.write_policy("version: 1\ninject: { prefix: APP_, name_transform: posix }\n");
  box.set("db-url", "u");
  const fs::path pid_file = box.path("child.pid");
  auto lockbox = box.spawn_launch({"--deliver", "file"}, show_dir_and_wait(pid_file));
  const KillOnExit child{wait_for_pid_file(pid_file)};
  const fs::path dir = secrets_dir_of(lockbox->out());
  REQUIRE_FALSE(dir.empty());
  CHECK(read_file(dir / "DB_URL") == "u");
  CHECK(count_lines(lockbox->out(), "APP_DB_URL") == 0);  // no env var besides the directory
  ::kill(child.pid, SIGTERM);
  CHECK(lockbox->wait() == 128 + SIGTERM);
}

TEST_CASE("run --deliver file removes the directory however the child ends", "[run][deliver]") {
  struct Ending {
    const char* what;
    std::vector<std::string> run_args, steps;
    int code;
  };
  const Ending ending = GENERATE(Ending{"exit", {}, {"exit", "3"}, 3},
                                 Ending{"signal", {}, {"kill-self", "KILL"}, 128 + SIGKILL},
                                 Ending{"timeout", {"--timeout", "1s"}, {"sleep", "60000"}, 124});
  INFO(ending.what);
  RunBox box;
  box.set("DB", "value");
  std::vector<std::string> run_args = {"--deliver", "file"};
  run_args.insert(run_args.end(), ending.run_args.begin(), ending.run_args.end());
  std::vector<std::string> steps = {"print-env", "FLUXBASE_SECRETS_DIR"};
  steps.insert(steps.end(), ending.steps.begin(), ending.steps.end());
  const ProcessResult r = box.launch(run_args, steps);
  INFO(r.err);
  CHECK(r.exit_code == ending.code);
  const std::string dir = secrets_dir_of(r.out);
  REQUIRE_FALSE(dir.empty());
  CHECK_FALSE(fs::exists(dir));
  CHECK(delivery_dirs(box).empty());
}

TEST_CASE(
    "run --deliver file: a killed lockbox's directory is swept by the next start, a live "
    "one is not",
    "[run][deliver]") {
  RunBox box;
  box.set("DB", "value");
  const fs::path pid_file = box.path("child.pid");
  auto killed = box.spawn_launch({"--deliver", "file"}, show_dir_and_wait(pid_file));
  const KillOnExit orphan{wait_for_pid_file(pid_file)};
  const fs::path stale = secrets_dir_of(killed->out());
  REQUIRE_FALSE(stale.empty());
  REQUIRE(::kill(killed->pid(), SIGKILL) == 0);
  CHECK(killed->wait() == 128 + SIGKILL);
  CHECK(wait_until([&] { return process_gone(orphan.pid); }));
  CHECK(fs::exists(stale / "DB"));  // nobody cleaned up after lockbox

  const fs::path live_pid_file = box.path("live.pid");
  auto live = box.spawn_launch({"--deliver", "file"}, show_dir_and_wait(live_pid_file));
  const KillOnExit live_child{wait_for_pid_file(live_pid_file)};
  const fs::path live_dir = secrets_dir_of(live->out());
  REQUIRE_FALSE(live_dir.empty());
  CHECK_FALSE(fs::exists(stale));  // the start of the live lockbox swept it

  const ProcessResult next = box.launch({}, {"exit", "0"});
  CHECK(next.exit_code == 0);
  CHECK(fs::exists(live_dir / "DB"));  // its lock is held: not stale
  ::kill(live_child.pid, SIGTERM);
  CHECK(live->wait() == 128 + SIGTERM);
  CHECK(delivery_dirs(box).empty());
}

TEST_CASE("run --redact replaces every injected value in the child's stdout and stderr",
          "[run][redact]") {
  RunBox box;
  box.set("TOKEN", kStoreCanary);
  write_file(box.path("local.env"), std::string("FILEV=") + kFileCanary + "\n");
  ProcessOptions host;
  host.env["FLUXBASE_SECRET_HOSTV"] = kHostCanary;
  // The last step is unknown, so the child names it on its stderr and exits 2.
  const ProcessResult r =
      box.launch({"--redact", "--env-file", box.path("local.env").string()},
                 {"print-env", "FLUXBASE_SECRET_TOKEN", "print",
                  std::string("file:") + kFileCanary + ":end", "print", kHostCanary, kStoreCanary},
                 host);
  CHECK(r.exit_code == 2);
  CHECK(r.out ==
        "FLUXBASE_SECRET_TOKEN=[REDACTED:TOKEN]\nfile:[REDACTED:FILEV]:end\n[REDACTED:HOSTV]\n");
  CHECK(r.err.find("unknown step: [REDACTED:TOKEN]") != std::string::npos);
  for (const char* canary : {kStoreCanary, kFileCanary, kHostCanary}) {
    CHECK(r.out.find(canary) == std::string::npos);
    CHECK(r.err.find(canary) == std::string::npos);
  }
}

TEST_CASE("run --redact catches a value split across two writes", "[run][redact]") {
  RunBox box;
  box.set("TOKEN", "split-secret-42");
  const ProcessResult r =
      box.launch({"--redact"}, {"print-raw", "split-se", "sleep", "200", "print-raw", "cret-42"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "[REDACTED:TOKEN]");
}

TEST_CASE("run --redact leaves values shorter than 6 bytes alone", "[run][redact]") {
  RunBox box;
  box.set("FIVE", "abcde");
  box.set("SIX", "uvwxyz");
  const ProcessResult r = box.launch({"--redact"}, {"print", "abcde", "print", "uvwxyz"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "abcde\n[REDACTED:SIX]\n");
}
