// Policy commands reach exec exactly as written and run in `workdir` (SPEC §9, issue 13 item 1).
// lockbox itself is started in the box's scratch directory; the policy file sits one level up, so
// "the policy file's directory" and "the invoker's directory" always differ here.

#include <catch2/catch.hpp>
#include <filesystem>
#include <string>

#include "tests/launcher/run_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace lockbox::testing;

namespace {

// A shell script full of slashes: a path with a `..`, redirections to /dev/null, a nested
// directory, `$(...)` and `2>/dev/null`. Before the fix, every one of these arguments was
// rewritten into /<policy dir>/n=$(cat count 2>... and the like.
constexpr const char* kCounter =
    "n=$(cat ./state/count 2>/dev/null || echo 0); n=$((n+1)); mkdir -p ./state/a/b/../b && "
    "echo $n > ./state/count && echo \"n=$n pwd=$(pwd)\" && test $n -ge 3";

std::string policy_with(const std::string& section, const std::string& fields) {
  return std::string("version: 1\n") + section + ":\n  counter:\n    command: [sh, -c, '" + kCounter +
         "']\n" + fields;
}

std::string read_count(const fs::path& dir) {
  std::string text = read_file(dir / "state" / "count");
  while (!text.empty() && text.back() == '\n') text.pop_back();
  return text;
}

}  // namespace

TEST_CASE("a policy function's shell script full of slashes runs unchanged in the policy directory",
          "[run][workdir]") {
  RunBox box;
  box.write_policy(policy_with("functions", ""));
  for (int expected = 1; expected <= 3; ++expected) {
    const ProcessResult r = box.run({"run", "counter"});
    INFO(r.err);
    CHECK(r.exit_code == (expected < 3 ? 1 : 0));
    CHECK(r.out == "n=" + std::to_string(expected) + " pwd=" + box.root().string() + "\n");
  }
  CHECK(read_count(box.root()) == "3");
  CHECK(fs::is_directory(box.root() / "state" / "a" / "b"));
  CHECK_FALSE(fs::exists(box.path("scratch") / "state"));
}

TEST_CASE("a retried job that counts its attempts in a file succeeds", "[run][workdir][job]") {
  RunBox box;
  box.write_policy(policy_with("jobs", "    retries: 3\n"));
  const ProcessResult r = box.run({"job", "run", "counter"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(read_count(box.root()) == "3");
  CHECK(r.out.find("n=3 pwd=" + box.root().string() + "\n") != std::string::npos);
}

TEST_CASE("workdir is taken relative to the policy file and finds a ./script there",
          "[run][workdir]") {
  RunBox box;
  fs::create_directories(box.path("app/bin"));
  write_file(box.path("app/bin/tool.sh"), "#!/bin/sh\necho \"tool in $(pwd) with $1\"\n");
  fs::permissions(box.path("app/bin/tool.sh"), fs::perms::owner_all);
  box.write_policy(
      "version: 1\nfunctions:\n  tool: {command: [./bin/tool.sh, 'http://host/x/y'], workdir: app}\n"
      "jobs:\n  tool: {command: [bin/tool.sh, a/b], workdir: ./app/bin/..}\n");
  const ProcessResult fn = box.run({"run", "tool"});
  INFO(fn.err);
  CHECK(fn.exit_code == 0);
  CHECK(fn.out == "tool in " + box.path("app").string() + " with http://host/x/y\n");
  const ProcessResult job = box.run({"job", "run", "tool"});
  INFO(job.err);
  CHECK(job.exit_code == 0);
  CHECK(job.out == "tool in " + box.path("app").string() + " with a/b\n");
}

TEST_CASE("run -- CMD keeps the invoker's directory, also with --function", "[run][workdir]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  f: {command: [sh, -c, pwd], workdir: /}\n");
  const ProcessResult plain = box.run({"run", "--", "sh", "-c", "pwd"});
  CHECK(plain.out == box.path("scratch").string() + "\n");
  const ProcessResult with_function = box.run({"run", "--function", "f", "--", "sh", "-c", "pwd"});
  CHECK(with_function.out == box.path("scratch").string() + "\n");
  CHECK(box.run({"run", "f"}).out == "/\n");
}

TEST_CASE("a workdir that does not exist is exit 125 before anything runs", "[run][workdir][125]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  f: {command: [sh, -c, 'echo ran'], workdir: missing}\n");
  const ProcessResult r = box.run({"run", "f"});
  CHECK(r.exit_code == 125);
  CHECK(r.out.empty());
  CHECK(r.err == "lockbox: workdir " + box.path("missing").string() + " is not a directory\n");
}
