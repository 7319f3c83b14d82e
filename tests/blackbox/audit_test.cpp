// Black-box: `audit list | verify | checkpoint` (SPEC §7) through the real binary. Tampering is
// done with the SQLite C API on the store file, as an attacker with write access to it would.
// Also: every audited command leaves exactly one record, a reveal whose record cannot be written
// shows nothing (fail closed), and no value ever reaches the audit trail.

#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <regex>

#include "tests/blackbox/blackbox.hpp"

extern char** environ;

namespace lockbox::testing {
namespace {

namespace fs = std::filesystem;
namespace json = boost::json;

// Runs SQL on the store file directly.
void tamper(const Lockbox& box, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(box.db_path().c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &err);
  const std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
}

// `audit list --json` plus `args`, parsed; REQUIREs exit 0.
json::array audit_list(const Lockbox& box, const std::vector<std::string>& args = {},
                       ProcessOptions options = {}) {
  std::vector<std::string> argv{"audit", "list", "--json"};
  argv.insert(argv.end(), args.begin(), args.end());
  const ProcessResult r = box.run(argv, std::move(options));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return parse_json(r.out).as_array();
}

std::size_t count_action(const Lockbox& box, const std::string& action) {
  return audit_list(box, {"--action", action}).size();
}

std::vector<std::int64_t> seqs_of(const json::array& records) {
  std::vector<std::int64_t> seqs;
  for (const auto& r : records) seqs.push_back(r.as_object().at("seq").as_int64());
  return seqs;
}

ProcessResult verify(const Lockbox& box, const std::vector<std::string>& args = {}) {
  std::vector<std::string> argv{"audit", "verify"};
  argv.insert(argv.end(), args.begin(), args.end());
  return box.run(argv);
}

// Checks that `audit verify` exits 5 with one line naming `seq` and nothing on stdout.
void check_broken_at(const Lockbox& box, std::int64_t seq,
                     const std::vector<std::string>& args = {}) {
  const ProcessResult r = verify(box, args);
  INFO(r.err);
  CHECK(r.exit_code == 5);
  CHECK(r.out.empty());
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.rfind("lockbox: audit trail broken at seq " + std::to_string(seq) + ": ", 0) == 0);
}

// Runs lockbox with stdout and stderr on a pseudo-terminal, as for a person, with PAGER set to
// `pager`; returns the exit code and everything written to the terminal.
ProcessResult run_on_terminal(const Lockbox& box, std::vector<std::string> args,
                              const std::string& pager) {
  args.insert(args.begin(), LOCKBOX_BIN);
  args.push_back("--data-dir");
  args.push_back(box.data_dir().string());
  std::vector<std::string> env{"PAGER=" + pager};
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("LOCKBOX_", 0) != 0 && entry.rfind("PAGER=", 0) != 0) env.push_back(entry);
  }
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env) envp.push_back(e.data());
  envp.push_back(nullptr);
  int terminal = -1;
  const pid_t pid = ::forkpty(&terminal, nullptr, nullptr, nullptr);
  REQUIRE(pid >= 0);
  if (pid == 0) {
    ::signal(SIGPIPE, SIG_DFL);  // the test runner ignores it; lockbox must cope with the default
    ::execve(argv[0], argv.data(), envp.data());
    ::_exit(127);
  }
  ProcessResult result;
  char buf[65536];
  while (true) {
    pollfd p{terminal, POLLIN, 0};
    if (::poll(&p, 1, 30000) <= 0) break;
    const ssize_t n = ::read(terminal, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;  // EIO: every writer closed the terminal
    result.out.append(buf, static_cast<std::size_t>(n));
  }
  ::close(terminal);
  int status = 0;
  ::waitpid(pid, &status, 0);
  result.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return result;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

// A store with records 1..5: set A, set B, set C, reveal A, delete C (namespace prod).
void five_records(const Lockbox& box) {
  box.init();
  box.set("A", "a", {"--namespace", "prod"});
  box.set("B", "b", {"--namespace", "prod"});
  box.set("C", "c", {"--namespace", "prod"});
  box.reveal("A", {"--namespace", "prod"});
  REQUIRE(box.run({"secrets", "delete", "C", "--namespace", "prod"}).exit_code == 0);
  REQUIRE(seqs_of(audit_list(box)) == std::vector<std::int64_t>{1, 2, 3, 4, 5});
}

}  // namespace

// ---- audit list ----

TEST_CASE("audit list --json prints every record, oldest first, with the exact fields",
          "[blackbox][audit]") {
  Lockbox box;
  five_records(box);
  const json::array records = audit_list(box);
  const std::regex rfc3339(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)");
  for (const auto& value : records) {
    const json::object& r = value.as_object();
    CHECK(keys_of(r) == std::vector<std::string>{"action", "actor", "detail", "outcome", "seq",
                                                 "target", "time"});
    CHECK(std::regex_match(std::string(r.at("time").as_string()), rfc3339));
    CHECK_FALSE(r.at("actor").as_string().empty());
    CHECK(r.at("outcome").as_string() == "ok");
  }
  CHECK(records[0].as_object().at("action").as_string() == "secret.set");
  CHECK(records[0].as_object().at("target").as_string() == "namespace:prod/A");
  CHECK(records[3].as_object().at("action").as_string() == "secret.reveal");
  CHECK(records[4].as_object().at("action").as_string() == "secret.delete");
  CHECK(records[4].as_object().at("target").as_string() == "namespace:prod/C");
}

TEST_CASE("audit list filters by --action, --target (with globs) and --since",
          "[blackbox][audit]") {
  Lockbox box;
  box.init();
  ProcessOptions past;
  past.env["LOCKBOX_TEST_NOW"] = "2020-06-01T00:00:00Z";
  REQUIRE(box.run_stdin({"secrets", "set", "OLD", "--namespace", "prod"}, "o", past).exit_code ==
          0);
  box.set("DB_URL", "p", {"--namespace", "prod"});
  box.set("DB_URL", "d", {"--namespace", "dev"});
  box.reveal("DB_URL", {"--namespace", "prod"});

  CHECK(seqs_of(audit_list(box, {"--action", "secret.reveal"})) == std::vector<std::int64_t>{4});
  CHECK(seqs_of(audit_list(box, {"--action", "secret.set"})) == std::vector<std::int64_t>{1, 2, 3});
  CHECK(seqs_of(audit_list(box, {"--target", "namespace:prod/DB_URL"})) ==
        std::vector<std::int64_t>{2, 4});
  CHECK(seqs_of(audit_list(box, {"--target", "namespace:prod/*"})) ==
        std::vector<std::int64_t>{1, 2, 4});
  CHECK(seqs_of(audit_list(box, {"--target", "*/DB_*", "--action", "secret.set"})) ==
        std::vector<std::int64_t>{2, 3});
  CHECK(audit_list(box, {"--target", "namespace:prod"}).empty());  // exact unless a glob

  CHECK(seqs_of(audit_list(box, {"--since", "24h"})) == std::vector<std::int64_t>{2, 3, 4});
  CHECK(seqs_of(audit_list(box, {"--since", "2021-01-01T00:00:00Z"})) ==
        std::vector<std::int64_t>{2, 3, 4});
  CHECK(seqs_of(audit_list(box, {"--since", "2020-05-31T00:00:00Z"})) ==
        std::vector<std::int64_t>{1, 2, 3, 4});
  const json::array old = audit_list(box, {"--since", "2020-05-31T00:00:00Z", "--target", "*OLD"});
  REQUIRE(old.size() == 1);
  CHECK(old[0].as_object().at("time").as_string() == "2020-06-01T00:00:00Z");
}

TEST_CASE("audit list refuses an unknown action or a bad --since with exit 2",
          "[blackbox][audit]") {
  Lockbox box;
  box.init();
  for (const std::vector<std::string>& args :
       std::vector<std::vector<std::string>>{{"--action", "secret.read"},
                                             {"--action", "SECRET.SET"},
                                             {"--action", ""},
                                             {"--since", "24 hours"},
                                             {"--since", "0h"},
                                             {"--since", "yesterday"},
                                             {"--target", ""}}) {
    std::vector<std::string> argv{"audit", "list"};
    argv.insert(argv.end(), args.begin(), args.end());
    const ProcessResult r = box.run(argv);
    INFO(args[0] << " " << args[1] << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.out.empty());
  }
  // Every SPEC §7 action name is accepted, even with no record of it yet.
  for (const char* action :
       {"secret.set", "secret.delete", "secret.purge", "secret.rollback", "secret.import",
        "secret.reveal", "secret.export", "launch", "job", "resolve", "key.rotate", "key.reencrypt",
        "key.rewrap", "token.create", "token.revoke", "auth.failure"}) {
    INFO(action);
    CHECK(box.run({"audit", "list", "--action", action, "--json"}).exit_code == 0);
  }
}

TEST_CASE("audit list prints an aligned table for people, unpaged when not a terminal",
          "[blackbox][audit]") {
  Lockbox box;
  five_records(box);
  ProcessOptions options;
  options.env["PAGER"] = "false";  // would swallow the output if it were (wrongly) used
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"audit", "list"}, {"audit", "list", "--no-pager"}}) {
    const ProcessResult r = box.run(args, options);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    CHECK(line_count(r.out) == 6);
    CHECK(r.out.rfind("SEQ  TIME", 0) == 0);
    CHECK(r.out.find("ACTION") != std::string::npos);
    CHECK(r.out.find("namespace:prod/C") != std::string::npos);
  }
}

TEST_CASE("audit list at a terminal goes through $PAGER, and a pager quitting early is no error",
          "[blackbox][audit][sqlite]") {
  Lockbox box;
  five_records(box);
  // 2,000 more rows of about 300 bytes, far more than a pipe holds: a pager that stops reading
  // makes lockbox's writes fail. (list does not verify, so these rows need no valid MACs.)
  tamper(box,
         "WITH RECURSIVE n(i) AS (SELECT 6 UNION ALL SELECT i + 1 FROM n WHERE i < 2005) "
         "INSERT INTO audit SELECT i, 0, 'tester', 'launch', 'namespace:bulk', 'started', "
         "printf('%0200d', i), zeroblob(32), zeroblob(32) FROM n");
  SECTION("a pager that reads two lines and quits") {
    const ProcessResult r = run_on_terminal(box, {"audit", "list"}, "head -n 2");
    INFO(r.out.substr(0, 2000));
    CHECK(r.exit_code == 0);
    CHECK(r.out.rfind("SEQ ", 0) == 0);  // the header line, and the first record
    CHECK(r.out.find("namespace:prod/A") != std::string::npos);
    CHECK(occurrences(r.out, "namespace:bulk") == 0);
    CHECK(r.out.find("lockbox:") == std::string::npos);
  }
  SECTION("a pager that cannot start: the table is printed directly") {
    const ProcessResult r = run_on_terminal(box, {"audit", "list"}, "no-such-pager-5f1c");
    CHECK(r.exit_code == 0);
    CHECK(occurrences(r.out, "namespace:bulk") == 2000);
  }
  SECTION("--no-pager and an empty PAGER print directly") {
    ProcessResult r = run_on_terminal(box, {"audit", "list", "--no-pager"}, "head -n 2");
    CHECK(r.exit_code == 0);
    CHECK(occurrences(r.out, "namespace:bulk") == 2000);
    r = run_on_terminal(box, {"audit", "list"}, "");
    CHECK(r.exit_code == 0);
    CHECK(occurrences(r.out, "namespace:bulk") == 2000);
  }
}

// ---- audit verify ----

TEST_CASE("audit verify exits 0 on an intact trail", "[blackbox][audit]") {
  Lockbox box;
  five_records(box);
  ProcessResult r = verify(box);
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "audit trail verified: 5 records (last seq 5)\n");
  r = verify(box, {"--json"});
  CHECK(r.exit_code == 0);
  const json::object doc = parse_json(r.out).as_object();
  CHECK(keys_of(doc) ==
        std::vector<std::string>{"first_bad_seq", "last_seq", "ok", "problem", "records"});
  CHECK(doc.at("ok").as_bool());
  CHECK(doc.at("records").as_int64() == 5);
  CHECK(doc.at("last_seq").as_int64() == 5);
  CHECK(doc.at("first_bad_seq").is_null());
  CHECK(doc.at("problem").is_null());
}

TEST_CASE("audit verify exits 5 naming the first bad seq after tampering", "[blackbox][audit][sqlite]") {
  Lockbox box;
  five_records(box);
  REQUIRE(verify(box).exit_code == 0);
  SECTION("an edited detail") {
    tamper(box, "UPDATE audit SET detail = 'v1 updated' WHERE seq = 2");
    check_broken_at(box, 2);
    const ProcessResult r = verify(box, {"--json"});
    CHECK(r.exit_code == 5);
    const json::object doc = parse_json(r.out).as_object();
    CHECK_FALSE(doc.at("ok").as_bool());
    CHECK(doc.at("first_bad_seq").as_int64() == 2);
    CHECK(doc.at("records").as_int64() == 5);
    CHECK(doc.at("problem").as_string() == "record 2 was edited");
  }
  SECTION("a deleted middle record") {
    tamper(box, "DELETE FROM audit WHERE seq = 3");
    check_broken_at(box, 3);
  }
  SECTION("two swapped records") {
    tamper(box,
           "UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 4; "
           "UPDATE audit SET seq = 4 WHERE seq = 100");
    check_broken_at(box, 2);
  }
  SECTION("a forged record at the end") {
    tamper(box,
           "INSERT INTO audit SELECT 6, ts, actor, 'secret.set', target, outcome, detail, "
           "entry_mac, randomblob(32) FROM audit WHERE seq = 5");
    check_broken_at(box, 6);
  }
}

// ---- audit checkpoint ----

TEST_CASE("a checkpoint catches a cut tail that plain verify cannot", "[blackbox][audit][sqlite]") {
  Lockbox box;
  five_records(box);
  ProcessResult r = box.run({"audit", "checkpoint"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(std::regex_match(r.out, std::regex("5:[0-9a-f]{64}:[0-9]+\n")));
  const std::string checkpoint = r.out.substr(0, r.out.size() - 1);

  r = box.run({"audit", "checkpoint", "--json"});
  REQUIRE(r.exit_code == 0);
  const json::object doc = parse_json(r.out).as_object();
  CHECK(keys_of(doc) == std::vector<std::string>{"change_counter", "checkpoint", "seq"});
  CHECK(doc.at("checkpoint").as_string() == checkpoint);
  CHECK(doc.at("seq").as_int64() == 5);
  CHECK(checkpoint.ends_with(":" + std::to_string(doc.at("change_counter").as_int64())));
  // The form before the counter is still accepted.
  CHECK(verify(box, {"--checkpoint", checkpoint.substr(0, checkpoint.rfind(':'))}).exit_code == 0);

  CHECK(verify(box, {"--checkpoint", checkpoint}).exit_code == 0);
  tamper(box, "DELETE FROM audit WHERE seq >= 4");
  r = verify(box);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "audit trail verified: 3 records (last seq 3)\n");
  check_broken_at(box, 5, {"--checkpoint", checkpoint});
  r = verify(box, {"--checkpoint", checkpoint});
  CHECK(r.err.find("the trail ends at record 3, before the checkpoint") != std::string::npos);

  // New records refill seqs 4 and 5; the checkpoint's MAC still tells them apart.
  box.set("D", "d");
  box.set("E", "e");
  CHECK(verify(box).exit_code == 0);
  check_broken_at(box, 5, {"--checkpoint", checkpoint});
}

TEST_CASE("audit checkpoint refuses to vouch for a broken trail", "[blackbox][audit][sqlite]") {
  Lockbox box;
  five_records(box);
  tamper(box, "UPDATE audit SET actor = 'someone-else' WHERE seq = 1");
  const ProcessResult r = box.run({"audit", "checkpoint"});
  CHECK(r.exit_code == 5);
  CHECK(r.out.empty());
  CHECK(r.err.find("seq 1") != std::string::npos);
}

TEST_CASE("a malformed --checkpoint is exit 2 and is not echoed", "[blackbox][audit]") {
  Lockbox box;
  five_records(box);
  const std::string hex(64, 'a');
  for (const std::string& bad : std::vector<std::string>{
           "5", "5:", ":" + hex, "5:" + hex.substr(1), "5:" + hex + "a", "x:" + hex, "-1:" + hex,
           "+5:" + hex, "5:" + std::string(64, 'A'), "5:" + std::string(64, 'g'), " 5:" + hex,
           "5 :" + hex, "1234567890123456789:" + hex, std::string(kCanary) + ":" + hex, "5:" + hex + ":",
           "5:" + hex + ":x", "5:" + hex + ":-1", "5:" + hex + ":1:2", "5:" + hex + ":1234567890123456789"}) {
    const ProcessResult r = verify(box, {"--checkpoint", bad});
    INFO(bad << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.find(kCanary) == std::string::npos);
  }
  // Well-formed but wrong: integrity, not usage.
  check_broken_at(box, 5, {"--checkpoint", "5:" + hex});
  check_broken_at(box, 9, {"--checkpoint", "9:" + hex});
}

TEST_CASE("audit commands without the master key are exit 4", "[blackbox][audit]") {
  Lockbox box;
  five_records(box);
  fs::remove(box.data_dir() / "master.key");
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"audit", "list"}, {"audit", "verify"}, {"audit", "checkpoint"}}) {
    const ProcessResult r = box.run(args);
    INFO(r.err);
    CHECK(r.exit_code == 4);
    CHECK(r.out.empty());
  }
  ProcessOptions wrong;
  wrong.env["LOCKBOX_MASTER_KEY"] = kKeyB;
  const ProcessResult r = box.run({"audit", "verify"}, wrong);
  CHECK(r.exit_code == 4);
  CHECK(r.err.find(kKeyB) == std::string::npos);
}

// ---- fail closed ----

TEST_CASE("a reveal or export whose audit record cannot be written shows nothing",
          "[blackbox][audit][sqlite]") {
  Lockbox box;
  box.init();
  box.set("X", kCanary);
  tamper(box,
         "CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'no'); END;");
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"secrets", "get", "X", "--reveal"},
                                             {"secrets", "get", "X", "--reveal", "--json"},
                                             {"secrets", "export"},
                                             {"secrets", "export", "--format", "json"},
                                             {"secrets", "export", "--format", "yaml"}}) {
    const ProcessResult r = box.run(args);
    INFO(args.back() << ": " << r.err);
    CHECK(r.exit_code != 0);
    CHECK(r.out.empty());
    CHECK(r.err.find(kCanary) == std::string::npos);
  }
  tamper(box, "DROP TRIGGER no_audit");
  CHECK(box.reveal("X") == kCanary);
  CHECK(verify(box).exit_code == 0);
}

// ---- one record per action ----

TEST_CASE("each audited command leaves exactly one record of its action", "[blackbox][audit]") {
  Lockbox box;
  box.init();
  const std::vector<std::string> prod{"--namespace", "prod"};
  struct Step {
    std::string action;
    std::vector<std::string> args;
    std::string stdin_data;
  };
  const fs::path env_file = box.root() / "in.env";
  write_file(env_file, "I1=" + std::string(kCanary) + "-1\nI2=two\nI3=three\n");
  const std::vector<Step> steps = {
      {"secret.set", {"secrets", "set", "K", "--namespace", "prod"}, kCanary},
      {"secret.set", {"secrets", "set", "K", "--namespace", "prod"}, std::string(kCanary) + "-2"},
      {"secret.reveal", {"secrets", "get", "K", "--reveal", "--namespace", "prod"}, ""},
      {"secret.rollback", {"secrets", "rollback", "K", "1", "--namespace", "prod"}, ""},
      {"secret.delete", {"secrets", "delete", "K", "--namespace", "prod"}, ""},
      {"secret.import", {"secrets", "import", env_file.string(), "--namespace", "prod"}, ""},
      {"secret.export", {"secrets", "export", "--namespace", "prod"}, ""},
      {"resolve", {"resolve", "--namespace", "prod"}, ""},
      {"secret.purge", {"secrets", "delete", "I3", "--purge", "--yes", "--namespace", "prod"}, ""},
  };
  for (const Step& step : steps) {
    INFO(step.args[0] << " " << step.args[1]);
    const std::size_t before = count_action(box, step.action);
    const ProcessResult r = box.run_stdin(step.args, step.stdin_data);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    const json::array after = audit_list(box, {"--action", step.action});
    CHECK(after.size() == before + 1);
    const std::string target(after.back().as_object().at("target").as_string());
    if (step.action == "secret.import") {
      CHECK(target == "namespace:prod");  // one record for the whole import, on its scope
    } else {
      CHECK(target.rfind("namespace:prod", 0) == 0);
    }
  }
  CHECK(verify(box).exit_code == 0);
}

TEST_CASE("a launch writes two records: started before the spawn, the exit code after",
          "[blackbox][audit][sqlite]") {
  Lockbox box;
  box.init();
  box.set("K", "v", {"--namespace", "prod"});
  // Not box.run(): it appends --data-dir, which would land after "--", in the child's argv.
  ProcessOptions options;
  options.unset_env = inherited_lockbox_vars();
  const ProcessResult r = run_lockbox({"run", "--data-dir", box.data_dir().string(), "--namespace",
                                       "prod", "--", "/bin/sh", "-c", "exit 3"},
                                      options);
  INFO(r.err);
  REQUIRE(r.exit_code == 3);
  const json::array launches = audit_list(box, {"--action", "launch"});
  REQUIRE(launches.size() == 2);
  CHECK(launches[0].as_object().at("outcome").as_string() == "started");
  CHECK(launches[1].as_object().at("outcome").as_string() == "exit 3");
  CHECK(launches[0].as_object().at("target") == launches[1].as_object().at("target"));
  CHECK(verify(box).exit_code == 0);
}

// ---- never a value ----

TEST_CASE("a canary value never appears in audit list output, JSON or table", "[blackbox][audit]") {
  Lockbox box;
  box.init();
  box.set("K", kCanary, {"--namespace", "prod"});
  box.set("K", std::string(kCanary) + "-v2", {"--namespace", "prod"});
  box.reveal("K", {"--namespace", "prod"});
  REQUIRE(box.run({"secrets", "rollback", "K", "1", "--namespace", "prod"}).exit_code == 0);
  REQUIRE(box.run({"secrets", "export", "--namespace", "prod"}).exit_code == 0);
  REQUIRE(box.run_stdin({"secrets", "import", "-", "--namespace", "dev"},
                        "IMP=" + std::string(kCanary) + "\n")
              .exit_code == 0);
  REQUIRE(box.run({"resolve", "--namespace", "prod"}).exit_code == 0);
  REQUIRE(box.run({"secrets", "delete", "K", "--namespace", "prod"}).exit_code == 0);
  for (const auto& args : std::vector<std::vector<std::string>>{
           {"audit", "list", "--json"}, {"audit", "list"}, {"audit", "list", "--no-pager"}}) {
    const ProcessResult r = box.run(args);
    REQUIRE(r.exit_code == 0);
    CHECK_FALSE(r.out.empty());
    CHECK(r.out.find(kCanary) == std::string::npos);
    CHECK(r.err.find(kCanary) == std::string::npos);
  }
}

// ---- keys ----

TEST_CASE("the audit chain still verifies after a master-key rewrap", "[blackbox][audit][keys]") {
  Lockbox box;
  five_records(box);
  const ProcessResult cp = box.run({"audit", "checkpoint"});
  REQUIRE(cp.exit_code == 0);
  const std::string checkpoint = cp.out.substr(0, cp.out.find('\n'));
  const fs::path new_key = box.root() / "new.key";
  ProcessResult r = box.run({"keys", "generate", "--out", new_key.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  struct stat st {};
  REQUIRE(::stat(new_key.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  r = box.run({"keys", "rewrap", "--new-master-key-file", new_key.string()});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);

  r = box.run(
      {"audit", "verify", "--checkpoint", checkpoint, "--master-key-file", new_key.string()});
  INFO(r.err);
  CHECK(r.exit_code == 0);
  r = box.run(
      {"audit", "list", "--json", "--action", "key.rewrap", "--master-key-file", new_key.string()});
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out).as_array().size() == 1);
  // The old master key is stale now.
  CHECK(verify(box).exit_code == 4);
}

}  // namespace lockbox::testing
