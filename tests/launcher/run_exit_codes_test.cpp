// Exit codes of `lockbox run` (SPEC §4, exact): the child's own code, 124 on timeout, 125 when
// lockbox fails before the spawn, 126/127 for exec failures, 128+N for a signal, and 0/125 for
// --dry-run. Whenever lockbox reports 125, 126 or 127, the child must not have run: its first
// step would have written a marker file.

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/launcher/run_test_support.hpp"

namespace fs = std::filesystem;
using namespace lockbox::testing;

namespace {

// Steps that leave a marker file behind, then exit 0.
std::vector<std::string> marking(const RunBox& box) {
  return {"write-pid", box.path("marker").string(), "exit", "0"};
}

// Runs `lockbox run RUN_ARGS -- CHILD write-pid MARKER exit 0` and checks it is 125 with one
// message on stderr and no child.
ProcessResult expect_125(const RunBox& box, const std::vector<std::string>& run_args,
                         ProcessOptions options = {}) {
  const ProcessResult r = box.launch(run_args, marking(box), std::move(options));
  INFO("stderr: " << r.err);
  CHECK(r.exit_code == 125);
  CHECK_FALSE(r.err.empty());
  CHECK_FALSE(fs::exists(box.path("marker")));
  return r;
}

bool mentions(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

}  // namespace

TEST_CASE("run exits with the child's own exit code", "[run][exit]") {
  const int code = GENERATE(0, 1, 3, 42, 255);
  RunBox box;
  const ProcessResult r = box.launch({}, {"exit", std::to_string(code)});
  INFO(r.err);
  CHECK(r.exit_code == code);
}

TEST_CASE("run exits 124 when --timeout fires", "[run][exit][timeout]") {
  RunBox box;
  const ProcessResult r = box.launch({"--timeout", "1s"}, {"sleep", "60000"});
  INFO(r.err);
  CHECK(r.exit_code == 124);
}

TEST_CASE("run exits 124 on timeout even when the child traps SIGTERM and exits 0",
          "[run][exit][timeout]") {
  RunBox box;
  const ProcessResult r = box.launch({"--timeout", "1s"}, {"trap-term", "sleep", "60000"});
  INFO(r.err);
  CHECK(r.out == "got SIGTERM\n");
  CHECK(r.exit_code == 124);
}

TEST_CASE("run sends SIGKILL after --kill-grace to a child that ignores SIGTERM",
          "[run][exit][timeout]") {
  RunBox box;
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r =
      box.launch({"--timeout", "1s", "--kill-grace", "1s"}, {"ignore-term", "sleep", "60000"});
  const auto took = std::chrono::steady_clock::now() - start;
  INFO(r.err);
  CHECK(r.exit_code == 124);
  // A lower bound only: the deadline and then the whole grace must have passed.
  CHECK(took >= std::chrono::milliseconds(2000));
}

TEST_CASE("run exits 125 for an unknown function", "[run][exit][125]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  known: { command: [\"" + std::string(kChild) +
                   "\", \"exit\", \"0\"] }\n");
  const ProcessResult r = box.run({"run", "nosuch", "--", "write-pid", box.path("marker")});
  INFO(r.err);
  CHECK(r.exit_code == 125);
  CHECK(mentions(r.err, "nosuch"));
  CHECK_FALSE(fs::exists(box.path("marker")));
}

TEST_CASE("run applies a policy function's timeout in both function forms",
          "[run][exit][timeout]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  f: { command: [\"" + std::string(kChild) +
                   "\", sleep, \"60000\"], timeout: 1s }\n");
  CHECK(box.run({"run", "f"}).exit_code == 124);
  CHECK(box.launch({"--function", "f"}, {"sleep", "60000"}).exit_code == 124);
}

TEST_CASE("run exits 125 for a missing or invalid --env-file", "[run][exit][125]") {
  RunBox box;
  SECTION("missing") {
    expect_125(box, {"--env-file", box.path("nope.env").string()});
  }
  SECTION("a key that is not a name") {
    write_file(box.path("bad.env"), "GOOD=1\nBAD.KEY=2\n");
    expect_125(box, {"--env-file", box.path("bad.env").string()});
  }
}

TEST_CASE("run exits 125 for a policy file with an error", "[run][exit][125]") {
  RunBox box;
  box.write_policy("version: 1\nno_such_key: 1\n");
  const ProcessResult r = expect_125(box, {});
  CHECK(mentions(r.err, "no_such_key"));
}

TEST_CASE("run exits 125 when --namespace contradicts the function's namespace",
          "[run][exit][125]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  f:\n    namespace: production\n    command: [\"" +
                   std::string(kChild) + "\", write-pid, \"" + box.path("marker").string() +
                   "\"]\n");
  const ProcessResult wrong = box.run({"run", "--namespace", "staging", "f"});
  INFO(wrong.err);
  CHECK(wrong.exit_code == 125);
  CHECK_FALSE(fs::exists(box.path("marker")));
  // The policy's own namespace, given explicitly, is no contradiction.
  CHECK(box.run({"run", "--namespace", "production", "f"}).exit_code == 0);
  CHECK(fs::exists(box.path("marker")));
}

TEST_CASE("run exits 125 when a required secret is not in the store", "[run][exit][125]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  f: { command: [true], require: [DB_PASSWORD] }\n");
  ProcessOptions host;
  host.env["FLUXBASE_SECRET_DB_PASSWORD"] = kHostCanary;  // an override does not satisfy require
  const ProcessResult r = expect_125(box, {"--function", "f"}, host);
  CHECK(mentions(r.err, "DB_PASSWORD"));
  CHECK_FALSE(mentions(r.err, kHostCanary));
  box.set("DB_PASSWORD", kStoreCanary);
  CHECK(box.launch({"--function", "f"}, marking(box)).exit_code == 0);
}

TEST_CASE("run exits 125 when two names collide under name_transform posix", "[run][exit][125]") {
  RunBox box;
  box.write_policy("version: 1\ninject: { name_transform: posix }\n");
  box.set("db-url", kStoreCanary);
  box.set("DB_URL", "other-value");
  const ProcessResult r = expect_125(box, {});
  CHECK(mentions(r.err, "DB_URL"));
  CHECK_FALSE(mentions(r.err, kStoreCanary));
}

TEST_CASE("run exits 125 for a refused final variable name", "[run][exit][125]") {
  const std::string name =
      GENERATE("LD_PRELOAD", "PATH", "BASH_FUNC_x", "LOCKBOX_DATA_DIR", "http_proxy");
  RunBox box;
  box.write_policy("version: 1\ninject: { prefix: \"\" }\n");
  box.set(name, kStoreCanary);
  const ProcessResult r = expect_125(box, {});
  CHECK(mentions(r.err, name));
  CHECK_FALSE(mentions(r.err, kStoreCanary));
}

TEST_CASE("run exits 125 for a malformed --timeout", "[run][exit][125]") {
  const std::string timeout = GENERATE("5", "10x", "0s", "-1s", "1.5s", "1ms", "s");
  RunBox box;
  expect_125(box, {"--timeout", timeout});
}

// Known lockbox bug: an empty duration is taken for "not given" (no timeout, default grace).
TEST_CASE("run exits 125 for an empty --timeout or --kill-grace", "[run][exit][125]") {
  const std::string flag = GENERATE("--timeout", "--kill-grace");
  RunBox box;
  expect_125(box, {flag, ""});
}

TEST_CASE("run exits 125, not 2, for an unknown option", "[run][exit][125]") {
  RunBox box;
  expect_125(box, {"--bogus"});
}

TEST_CASE("run exits 125 when there is no store", "[run][exit][125]") {
  RunBox box(false);
  ProcessOptions key;
  key.env["LOCKBOX_MASTER_KEY"] = kMasterKey;
  expect_125(box, {}, key);
}

TEST_CASE("run exits 125 with a wrong master key", "[run][exit][125]") {
  RunBox box;
  box.set("DB", kStoreCanary);
  ProcessOptions key;
  key.env["LOCKBOX_MASTER_KEY"] = kOtherKey;  // wins over <data-dir>/master.key
  const ProcessResult r = expect_125(box, {}, key);
  CHECK_FALSE(mentions(r.err, kOtherKey));
  CHECK_FALSE(mentions(r.err, kStoreCanary));
}

TEST_CASE("run exits 125 for an environment too large for execve and suggests --deliver file",
          "[run][exit][125][e2big]") {
  RunBox box;
  box.write_policy("version: 1\nlimits: { max_value_bytes: 1048576 }\n");
  const std::string big(200 * 1024, 'b');
  box.set("BIG", big);
  const ProcessResult r = expect_125(box, {});
  CHECK(mentions(r.err, "--deliver file"));
  CHECK_FALSE(mentions(r.err, std::string(64, 'b')));
  const ProcessResult file = box.launch({"--deliver", "file"}, marking(box));
  INFO(file.err);
  CHECK(file.exit_code == 0);
  CHECK(fs::exists(box.path("marker")));
}

TEST_CASE("run exits 126 for a file that is not executable", "[run][exit][126]") {
  RunBox box;
  const fs::path script = box.path("not-executable.sh");
  write_file(script, "#!/bin/sh\ntouch '" + box.path("marker").string() + "'\n", 0644);
  const ProcessResult r = box.run({"run", "--", script.string()});
  INFO(r.err);
  CHECK(r.exit_code == 126);
  CHECK_FALSE(fs::exists(box.path("marker")));
}

TEST_CASE("run exits 126 for a script whose #! interpreter is missing", "[run][exit][126]") {
  RunBox box;
  const fs::path script = box.path("orphan.sh");
  write_file(script, "#!/nonexistent/interpreter\ntouch '" + box.path("marker").string() + "'\n",
             0755);
  const ProcessResult r = box.run({"run", "--", script.string()});
  INFO(r.err);
  CHECK(r.exit_code == 126);
  CHECK_FALSE(fs::exists(box.path("marker")));
}

TEST_CASE("run exits 127 for an unknown command", "[run][exit][127]") {
  const std::string command =
      GENERATE("lockbox-no-such-command-7f3a", "/nonexistent/lockbox-no-such-command");
  RunBox box;
  const ProcessResult r = box.run({"run", "--", command, "arg"});
  INFO(r.err);
  CHECK(r.exit_code == 127);
  CHECK(mentions(r.err, command));
}

TEST_CASE("run exits 128+N when the child is killed by signal N", "[run][exit][signal]") {
  const auto [signal_name, code] =
      GENERATE(table<std::string, int>({{"TERM", 143}, {"KILL", 137}, {"INT", 130}}));
  RunBox box;
  const ProcessResult r = box.launch({}, {"kill-self", signal_name, "sleep", "60000"});
  INFO(r.err);
  CHECK(r.exit_code == code);
}

TEST_CASE("run --dry-run exits 0 and shows names and origins, never values",
          "[run][exit][dry-run]") {
  RunBox box;
  box.set("DB", kStoreCanary, {"--namespace", "production"});
  const ProcessResult r = box.launch({"--dry-run", "--namespace", "production"}, marking(box));
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(mentions(r.out, "FLUXBASE_SECRET_DB"));
  CHECK(mentions(r.out, "namespace:production"));
  CHECK_FALSE(mentions(r.out + r.err, kStoreCanary));
  CHECK_FALSE(fs::exists(box.path("marker")));
}

TEST_CASE("run --dry-run exits 125 when the launch would fail", "[run][exit][dry-run]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  f: { command: [true], require: [MISSING] }\n");
  const ProcessResult r = expect_125(box, {"--dry-run", "--function", "f"});
  CHECK(mentions(r.err, "MISSING"));
}
