// `lockbox job run NAME [--payload FILE|-]` (SPEC §4): payload on each attempt's stdin, retries
// with backoff (kept small: the backoff before retry n is random in [0, 2^(n-1) s]), no retry on
// 125-127, per-attempt timeout, secrets resolved again per attempt, SIGTERM during a backoff; and
// the audit records of launches and job attempts (SPEC §7), read straight from lockbox.db.
//
// Attempts are counted by the child's own output: each prints "attempt" first.

#include <signal.h>

#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <vector>

#include "tests/launcher/run_test_support.hpp"

namespace fs = std::filesystem;
using namespace lockbox::testing;

namespace {

// A policy with one job; `fields` go into its flow mapping after the command.
std::string job_policy(const std::string& name, const std::vector<std::string>& command,
                       const std::string& fields) {
  std::string yaml = "version: 1\njobs:\n  " + name + ": { command: [";
  for (std::size_t i = 0; i < command.size(); ++i) {
    yaml += (i > 0 ? ", \"" : "\"") + command[i] + "\"";
  }
  return yaml + "]" + (fields.empty() ? "" : ", " + fields) + " }\n";
}

std::vector<std::string> child(std::vector<std::string> steps) {
  steps.insert(steps.begin(), kChild);
  return steps;
}

int attempts_in(const std::string& out) {
  return count_lines(out, "attempt");
}

// The delay (seconds) of the n-th (1-based) "retrying in X.Ys" report, or -1.
double nth_backoff(const std::string& err, int n) {
  std::size_t at = 0;
  for (int i = 0; i < n; ++i) {
    at = err.find("retrying in ", i == 0 ? 0 : at + 1);
    if (at == std::string::npos) return -1;
  }
  return std::strtod(err.c_str() + at + 12, nullptr);
}

}  // namespace

TEST_CASE("job run gives the payload to each attempt's stdin", "[job][payload]") {
  RunBox box;
  box.write_policy(
      job_policy("echo", child({"cat-stdin", "print", "", "exit", "1"}), "retries: 1"));
  const std::string payload = "{\"event\": \"signup\"}\nline two";
  SECTION("--payload FILE") {
    write_file(box.path("payload.json"), payload);
    const ProcessResult r =
        box.run({"job", "run", "echo", "--payload", box.path("payload.json").string()});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out == payload + "\n" + payload + "\n");
  }
  SECTION("a payload larger than a pipe buffer") {
    std::string large;
    while (large.size() < 3 * 1024 * 1024) large += "0123456789abcdef\n";
    write_file(box.path("large"), large);
    const ProcessResult r =
        box.run({"job", "run", "echo", "--payload", box.path("large").string()});
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out.size() == 2 * (large.size() + 1));
    CHECK(r.out == large + "\n" + large + "\n");
  }
  SECTION("--payload -") {
    ProcessOptions options;
    options.stdin_data = payload;
    const ProcessResult r = box.run({"job", "run", "echo", "--payload", "-"}, options);
    INFO(r.err);
    CHECK(r.exit_code == 1);
    CHECK(r.out == payload + "\n" + payload + "\n");
  }
}

TEST_CASE("job run retries a failing job and exits with the last attempt's code", "[job][retry]") {
  RunBox box;
  box.write_policy(job_policy("flaky", child({"print", "attempt", "exit", "1"}), "retries: 2"));
  const ProcessResult r = box.run({"job", "run", "flaky"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(attempts_in(r.out) == 3);
  for (const char* report : {"attempt 1/3", "attempt 2/3", "attempt 3/3"}) {
    CHECK(count_containing(r.err, report) == 1);
  }
}

TEST_CASE("job run stops at the first success", "[job][retry]") {
  RunBox box;
  box.write_policy(job_policy("ok", child({"print", "attempt", "exit", "0"}), "retries: 2"));
  const ProcessResult r = box.run({"job", "run", "ok"});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(attempts_in(r.out) == 1);
  CHECK(count_containing(r.err, "attempt 1/3") == 1);
}

TEST_CASE("job run does not retry exit codes 125 to 127", "[job][retry]") {
  struct Case {
    int code;
    std::vector<std::string> command;
  };
  const Case c = GENERATE(Case{125, child({"print", "attempt", "exit", "125"})},
                          Case{126, child({"print", "attempt", "exit", "126"})},
                          Case{127, {"/nonexistent/lockbox-job-command"}});
  INFO(c.code);
  RunBox box;
  box.write_policy(job_policy("j", c.command, "retries: 2"));
  const ProcessResult r = box.run({"job", "run", "j"});
  INFO(r.err);
  CHECK(r.exit_code == c.code);
  CHECK(attempts_in(r.out) == (c.code == 127 ? 0 : 1));
  CHECK(count_containing(r.err, "attempt 2/3") == 0);
  CHECK(count_containing(r.err, "retrying") == 0);
}

TEST_CASE("job run times out each attempt with 124 and retries it", "[job][retry][timeout]") {
  RunBox box;
  box.write_policy(
      job_policy("slow", child({"print", "attempt", "sleep", "60000"}), "timeout: 1s, retries: 1"));
  const ProcessResult r = box.run({"job", "run", "slow"});
  INFO(r.err);
  CHECK(r.exit_code == 124);
  CHECK(attempts_in(r.out) == 2);
  CHECK(count_containing(r.err, "attempt 1/2") == 1);
  CHECK(count_containing(r.err, "attempt 2/2") == 1);
}

TEST_CASE("job run resolves the secrets again for every attempt", "[job][retry]") {
  RunBox box;
  box.set("TOKEN", "first");
  // The attempt itself updates the secret through the real binary (the launch holds no lock).
  const fs::path script = box.path("rotate.sh");
  write_file(script,
             "#!/bin/sh\n\"" + std::string(kChild) + "\" print-env FLUXBASE_SECRET_TOKEN\n" +
                 "printf second | \"" + LOCKBOX_BIN + "\" --data-dir \"" + box.data_dir().string() +
                 "\" secrets set TOKEN >/dev/null || echo set-failed\n" + "exit 1\n",
             0755);
  box.write_policy(job_policy("rotating", {script.string()}, "retries: 1"));
  const ProcessResult r = box.run({"job", "run", "rotating"});
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(r.out == "FLUXBASE_SECRET_TOKEN=first\nFLUXBASE_SECRET_TOKEN=second\n");
}

TEST_CASE("job run ends with 143 and no further attempt on SIGTERM during a backoff",
          "[job][signals]") {
  RunBox box;
  box.write_policy(job_policy("flaky", child({"print", "attempt", "exit", "1"}), "retries: 6"));
  auto lockbox = box.spawn({"job", "run", "flaky"});
  // Backoffs are random; wait for one long enough (>= 0.5 s) to signal inside it for sure.
  int waited = 0;
  for (int n = 1; n <= 6; ++n) {
    const bool reported = wait_until(
        [&] { return nth_backoff(lockbox->err(), n) >= 0 || lockbox->wait(0).has_value(); });
    REQUIRE(reported);
    if (nth_backoff(lockbox->err(), n) >= 0.5) {
      waited = n;
      break;
    }
  }
  if (waited == 0) {
    WARN("every backoff was shorter than 0.5 s; nothing to test this time");
    return;
  }
  REQUIRE(::kill(lockbox->pid(), SIGTERM) == 0);
  CHECK(lockbox->wait() == 128 + SIGTERM);
  INFO(lockbox->err());
  CHECK(attempts_in(lockbox->out()) == waited);
  CHECK(count_containing(lockbox->err(), "attempt " + std::to_string(waited + 1) + "/") == 0);
}

TEST_CASE("job run refuses a payload over 16 MiB with 125", "[job][payload]") {
  RunBox box;
  const fs::path marker = box.path("marker");
  box.write_policy(job_policy("j", child({"write-pid", marker.string()}), ""));
  write_file(box.path("big"), std::string(16 * 1024 * 1024 + 1, 'p'));
  const ProcessResult r = box.run({"job", "run", "j", "--payload", box.path("big").string()});
  INFO(r.err);
  CHECK(r.exit_code == 125);
  CHECK_FALSE(fs::exists(marker));
  write_file(box.path("limit"), std::string(16 * 1024 * 1024, 'p'));
  CHECK(box.run({"job", "run", "j", "--payload", box.path("limit").string()}).exit_code == 0);
}

TEST_CASE("launches and job attempts are audited without any value", "[job][audit]") {
  RunBox box;
  box.write_policy(job_policy("j", child({"exit", "4"}), "retries: 1"));
  box.set("TOKEN", kStoreCanary);
  write_file(box.path("local.env"), std::string("FILEV=") + kFileCanary + "\n");
  ProcessOptions host;
  host.env["FLUXBASE_SECRET_HOSTV"] = kHostCanary;
  REQUIRE(
      box.launch({"--env-file", box.path("local.env").string()}, {"exit", "3"}, host).exit_code ==
      3);
  REQUIRE(box.run({"job", "run", "j"}, host).exit_code == 4);
  std::vector<AuditRow> launches, jobs;
  for (const AuditRow& row : audit_rows(box.db_path())) {
    INFO(row.action << " " << row.target << " " << row.outcome << " " << row.detail);
    for (const char* canary : {kStoreCanary, kFileCanary, kHostCanary}) {
      CHECK(row.detail.find(canary) == std::string::npos);
      CHECK(row.target.find(canary) == std::string::npos);
      CHECK(row.outcome.find(canary) == std::string::npos);
    }
    if (row.action == "launch") launches.push_back(row);
    if (row.action == "job") jobs.push_back(row);
  }
  REQUIRE_FALSE(launches.empty());
  const AuditRow& launch = launches.back();
  CHECK(launch.outcome.find('3') != std::string::npos);
  for (const char* name : {"TOKEN", "FILEV", "HOSTV"}) {
    CHECK(launch.detail.find(name) != std::string::npos);
  }
  // Each attempt is audited: at least one record per attempt, naming it.
  int first = 0, second = 0;
  for (const AuditRow& row : jobs) {
    CHECK(row.target.find('j') != std::string::npos);
    first += row.detail.find("1/2") != std::string::npos ? 1 : 0;
    second += row.detail.find("2/2") != std::string::npos ? 1 : 0;
  }
  CHECK(first >= 1);
  CHECK(second >= 1);
  CHECK(jobs.back().outcome.find('4') != std::string::npos);
}
