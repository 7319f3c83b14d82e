// Unit tests of the launcher's pure pieces: the child environment, PATH lookup, launch plans and
// the job backoff.
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "launcher/child_env.hpp"
#include "launcher/command_lookup.hpp"
#include "launcher/launch.hpp"
#include "launcher/launch_plan.hpp"
#include "launcher/process_state.hpp"
#include "tests/support/temp_dir.hpp"

using namespace lockbox;
using namespace lockbox::launcher;

namespace {
std::vector<std::string> entries(ChildEnvironment& env) {
  std::vector<std::string> out;
  for (const char* const* e = env.envp(); *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}
}  // namespace

TEST_CASE("the child environment drops LOCKBOX_* and consumed overrides, first duplicate wins",
          "[launcher][env]") {
  const std::vector<std::string_view> host = {"PATH=/bin", "LOCKBOX_MASTER_KEY=abc", "HOME=/root",
                                              "FLUXBASE_SECRET_A=host", "X=1", "X=2"};
  auto env = ChildEnvironment::from_host(host, {"FLUXBASE_SECRET_A"}, false);
  env.set("FLUXBASE_SECRET_B", SecretValue("b"));
  env.set("X", SecretValue("3"));
  CHECK(entries(env) == std::vector<std::string>{"FLUXBASE_SECRET_B=b", "HOME=/root", "PATH=/bin", "X=3"});
  env.clear();
  CHECK(env.size() == 0);
}

TEST_CASE("a pristine child environment keeps only the SPEC's names", "[launcher][env]") {
  const std::vector<std::string_view> host = {"PATH=/bin", "HOME=/h", "USER=u", "LOGNAME=u", "LANG=C",
                                              "LC_ALL=C", "TZ=UTC", "TERM=xterm", "SHELL=/bin/sh",
                                              "EDITOR=vi"};
  auto env = ChildEnvironment::from_host(host, {}, true);
  CHECK(env.size() == 8);
  CHECK(env.find("SHELL") == nullptr);
  CHECK(env.find("LC_ALL") != nullptr);
}

TEST_CASE("an environment too large for execve is caught before the spawn", "[launcher][env]") {
  auto env = ChildEnvironment::from_host({}, {}, false);
  env.set("FLUXBASE_SECRET_BIG", SecretValue(std::string(200 * 1024, 'x')));
  const Status status = env.check_exec_limits({"/bin/true"});
  CHECK(status.code() == StatusCode::kBadInput);
  CHECK(status.message().find("--deliver file") != std::string::npos);
  auto small = ChildEnvironment::from_host({}, {}, false);
  small.set("FLUXBASE_SECRET_OK", SecretValue("fine"));
  CHECK(small.check_exec_limits({"/bin/true"}).is_ok());
}

TEST_CASE("PATH lookup tells not found from not executable", "[launcher][lookup]") {
  testing::TempDir a, b;
  testing::write_file(a / "tool", "#!/bin/sh\n", 0644);  // not executable
  testing::write_file(b / "tool", "#!/bin/sh\n", 0755);
  const std::string only_a = a.path().string();
  CHECK(find_command("tool", only_a).outcome == CommandLookup::Outcome::kNotExecutable);
  const auto found = find_command("tool", only_a + ":" + b.path().string());
  CHECK(found.outcome == CommandLookup::Outcome::kFound);  // a later executable one wins
  CHECK(found.path == b / "tool");
  CHECK(find_command("no-such-tool", only_a).outcome == CommandLookup::Outcome::kNotFound);
  CHECK(find_command((b / "tool").string(), "").outcome == CommandLookup::Outcome::kFound);
  CHECK(find_command(a.path().string(), "").outcome == CommandLookup::Outcome::kNotExecutable);
}

TEST_CASE("a launch plan takes command, namespace and timeout from the policy", "[launcher][plan]") {
  policies::Policy policy;
  policies::FunctionPolicy fn;
  fn.name = "send-email";
  fn.ns = "production";
  fn.command = {"python3", "/srv/send.py"};
  fn.timeout_ms = 30'000;
  policy.functions["send-email"] = fn;

  RunRequest request;
  request.function_form = true;
  request.function_name = "send-email";
  request.extra_args = {"--dry"};
  auto plan = plan_context(request, policy);
  REQUIRE(plan.is_ok());
  CHECK(plan->argv == std::vector<std::string>{"python3", "/srv/send.py", "--dry"});
  CHECK(plan->context.ns == "production");
  CHECK(plan->timeout_ms == 30'000);
  CHECK(plan->audit_target == "function:production/send-email");

  request.ns = "staging";
  CHECK(plan_context(request, policy).status().code() == StatusCode::kBadInput);
  request.ns.reset();
  request.function_name = "missing";
  CHECK(plan_context(request, policy).status().message().find("unknown function missing") != std::string::npos);

  RunRequest command;
  command.command = {"env"};
  command.function_name = "send-email";  // --function F -- CMD: F's policy applies
  auto with_fn = plan_context(command, policy);
  REQUIRE(with_fn.is_ok());
  CHECK(with_fn->function != nullptr);
  CHECK(with_fn->context.ns == "production");
  CHECK(with_fn->argv == std::vector<std::string>{"env"});
  RunRequest empty;
  CHECK(plan_context(empty, policy).status().code() == StatusCode::kBadInput);
}

TEST_CASE("job backoff is full jitter under an exponential cap of 60 s", "[launcher][job]") {
  CHECK(backoff_ms(1, 0) == 0);
  CHECK(backoff_ms(1, 1000) == 1000);
  CHECK(backoff_ms(1, 1001) == 0);            // uniform in [0, 1000]
  CHECK(backoff_ms(2, 2000) == 2000);         // [0, 2000]
  CHECK(backoff_ms(3, 4000) == 4000);         // [0, 4000]
  CHECK(backoff_ms(7, 60'000) == 60'000);     // capped
  CHECK(backoff_ms(30, 0xFFFFFFFFu) <= 60'000);
}

TEST_CASE("harden_self makes the process non-dumpable with a core soft limit of 0", "[launcher][hygiene]") {
  // Run in a forked child so the test process itself is not changed.
  const pid_t pid = fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    harden_self();
    rlimit core{};
    getrlimit(RLIMIT_CORE, &core);
    _exit(prctl(PR_GET_DUMPABLE) == 0 && core.rlim_cur == 0 ? 0 : 1);
  }
  int status = 0;
  waitpid(pid, &status, 0);
  CHECK(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 0);
}
