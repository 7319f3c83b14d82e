// Black-box: the exit codes of the management commands (SPEC §5, §10). Every bad input is exit 2
// with exactly one line on stderr, changes nothing, and never echoes the value.

#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

namespace fs = std::filesystem;

struct BadInput {
  std::string what;
  std::vector<std::string> args;
  std::string stdin_data;
};

std::vector<std::string> many_tags(int n) {
  std::vector<std::string> args;
  for (int i = 0; i < n; ++i) {
    args.emplace_back("--tag");
    args.push_back("t" + std::to_string(i));
  }
  return args;
}

std::vector<BadInput> bad_inputs() {
  const std::string canary = kCanary;
  std::vector<std::string> tags = {"secrets", "set", "OK"};
  const auto t33 = many_tags(33);
  tags.insert(tags.end(), t33.begin(), t33.end());
  return {
      {"invalid name", {"secrets", "set", "bad name!"}, canary},
      {"reencrypt batch of zero", {"keys", "reencrypt", "--batch-size", "0"}, ""},
      {"reencrypt batch too large", {"keys", "reencrypt", "--batch-size", "100001"}, ""},
      {"value pasted as a name", {"secrets", "set", canary + "=x"}, canary},
      {"dotted name", {"secrets", "set", "a.b"}, canary},
      {"name too long", {"secrets", "set", std::string(257, 'N')}, canary},
      {"empty name", {"secrets", "set", ""}, canary},
      {"value too large", {"secrets", "set", "OK"}, canary + std::string(64 * 1024, 'x')},
      {"value not UTF-8", {"secrets", "set", "OK"}, canary + "\xff\xfe"},
      {"value with NUL", {"secrets", "set", "OK"}, canary + std::string(1, '\0') + "x"},
      {"description too long",
       {"secrets", "set", "OK", "--description", std::string(1025, 'd')},
       canary},
      {"33 tags", tags, canary},
      {"unknown scope kind", {"secrets", "set", "OK", "--scope", "cluster:x"}, canary},
      {"unknown scope", {"secrets", "set", "OK", "--scope", "everything"}, canary},
      {"bad scope identifier", {"secrets", "set", "OK", "--scope", "namespace:a b"}, canary},
      {"--scope with --namespace",
       {"secrets", "set", "OK", "--scope", "global", "--namespace", "x"},
       canary},
      {"--apikey with --group", {"secrets", "set", "OK", "--apikey", "k", "--group", "g"}, canary},
      {"--apikey with --namespace",
       {"secrets", "set", "OK", "--apikey", "k", "--namespace", "n"},
       canary},
      {"--group with --function",
       {"secrets", "set", "OK", "--group", "g", "--function", "f"},
       canary},
      {"malformed busy timeout", {"secrets", "set", "OK", "--busy-timeout", "10"}, canary},
      {"zero duration", {"secrets", "set", "OK", "--busy-timeout", "0s"}, canary},
      {"fractional duration", {"secrets", "set", "OK", "--busy-timeout", "1.5h"}, canary},
      {"bad --expires", {"secrets", "set", "OK", "--expires", "tomorrow"}, canary},
      {"--expires in the past",
       {"secrets", "set", "OK", "--expires", "2001-01-01T00:00:00Z"},
       canary},
      {"bad --meta", {"secrets", "set", "OK", "--meta", "novalue"}, canary},
      {"unknown option", {"secrets", "set", "OK", "--bogus"}, canary},
      {"unknown store URL", {"secrets", "set", "OK", "--store", "mysql://x"}, canary},
      {"bad get name", {"secrets", "get", canary + "!"}, ""},
      {"bad export format", {"secrets", "export", "--format", "xml"}, ""},
  };
}

TEST_CASE("every bad input is exit 2, one line, no change, no echo", "[blackbox][exit2]") {
  Lockbox box;
  box.init();
  box.set("OK", "original");
  const std::string before = box.snapshot();
  for (const BadInput& bad : bad_inputs()) {
    const ProcessResult r = box.run_stdin(bad.args, bad.stdin_data);
    INFO(bad.what << ": " << r.err);
    CHECK(r.exit_code == 2);
    CHECK(line_count(r.err) == 1);
    CHECK(r.err.rfind("lockbox: ", 0) == 0);
    CHECK(r.out.empty());
    CHECK(r.err.find(kCanary) == std::string::npos);
  }
  CHECK(box.snapshot() == before);
  CHECK(box.reveal("OK") == "original");
}

TEST_CASE("bad input fails before the master key is needed", "[blackbox][exit2]") {
  Lockbox box;  // no init, no key
  const ProcessResult r = box.run_stdin({"secrets", "set", "bad name"}, kCanary);
  CHECK(r.exit_code == 2);
}

TEST_CASE("limits at the boundary are accepted", "[blackbox][exit2]") {
  Lockbox box;
  box.init();
  box.set("BIG", std::string(64 * 1024, 'v'));
  box.set(std::string(256, 'N'), "x", {"--description", std::string(1024, 'd')});
  std::vector<std::string> tags = many_tags(32);
  box.set("TAGS", "x", tags);
  box.set("UTF8", "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x94\x91");
  CHECK(box.reveal("UTF8") == "h\xc3\xa9llo \xe2\x9c\x93 \xf0\x9f\x94\x91");
}

TEST_CASE("a missing secret is exit 3", "[blackbox][exit3]") {
  Lockbox box;
  box.init();
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"secrets", "get", "NOPE"},
                                             {"secrets", "get", "NOPE", "--reveal"},
                                             {"secrets", "delete", "NOPE"},
                                             {"secrets", "history", "NOPE"},
                                             {"secrets", "rollback", "NOPE", "1"}}) {
    const ProcessResult r = box.run(args);
    INFO(args[1]);
    CHECK(r.exit_code == 3);
    CHECK(line_count(r.err) == 1);
  }
}

// Initialises with LOCKBOX_MASTER_KEY=kKeyA (so no master.key file exists) and stores a canary.
void init_with_key_a(const Lockbox& box) {
  ProcessOptions options;
  options.env["LOCKBOX_MASTER_KEY"] = kKeyA;
  REQUIRE(box.run({"init"}, options).exit_code == 0);
  options.stdin_data = kCanary;
  REQUIRE(box.run({"secrets", "set", "S"}, options).exit_code == 0);
}

void check_key_refused(const ProcessResult& r) {
  INFO(r.err);
  CHECK(r.exit_code == 4);
  CHECK(line_count(r.err) == 1);
  CHECK(r.out.empty());
  CHECK(r.err.find(kCanary) == std::string::npos);
  CHECK(r.err.find(kKeyA) == std::string::npos);
  CHECK(r.err.find(kKeyB) == std::string::npos);
}

TEST_CASE("master key problems are exit 4", "[blackbox][exit4]") {
  Lockbox box;
  init_with_key_a(box);
  const std::vector<std::string> reveal = {"secrets", "get", "S", "--reveal"};

  SECTION("no master key configured") {
    const ProcessResult r = box.run(reveal);
    check_key_refused(r);
    CHECK(r.err.find("no master key") != std::string::npos);
  }
  SECTION("another valid key") {
    ProcessOptions options;
    options.env["LOCKBOX_MASTER_KEY"] = kKeyB;
    check_key_refused(box.run(reveal, options));
  }
  SECTION("malformed LOCKBOX_MASTER_KEY") {
    ProcessOptions options;
    options.env["LOCKBOX_MASTER_KEY"] = "not-a-key";
    check_key_refused(box.run(reveal, options));
  }
  SECTION("a key file readable by others") {
    const fs::path file = box.root() / "open.key";
    write_file(file, std::string(kKeyA) + "\n", 0644);
    check_key_refused(
        box.run({"secrets", "get", "S", "--reveal", "--master-key-file", file.string()}));
  }
  SECTION("a key file that is a symlink") {
    const fs::path file = box.root() / "real.key";
    write_file(file, std::string(kKeyA) + "\n", 0600);
    fs::create_symlink(file, box.root() / "link.key");
    check_key_refused(box.run({"secrets", "get", "S", "--reveal", "--master-key-file",
                               (box.root() / "link.key").string()}));
  }
  SECTION("the right key in a proper file works") {
    const fs::path file = box.root() / "good.key";
    write_file(file, std::string(kKeyA) + "\n", 0600);
    const ProcessResult r =
        box.run({"secrets", "get", "S", "--reveal", "--master-key-file", file.string()});
    CHECK(r.exit_code == 0);
    CHECK(r.out == kCanary);
  }
}

TEST_CASE("a wrong master key writes nothing", "[blackbox][exit4]") {
  Lockbox box;
  init_with_key_a(box);
  ProcessOptions wrong;
  wrong.env["LOCKBOX_MASTER_KEY"] = kKeyB;
  wrong.stdin_data = "new";
  CHECK(box.run({"secrets", "set", "S"}, wrong).exit_code == 4);
  ProcessOptions right;
  right.env["LOCKBOX_MASTER_KEY"] = kKeyA;
  const ProcessResult r = box.run({"secrets", "history", "S", "--json"}, right);
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out).as_array().size() == 1);
}

TEST_CASE("runtime failures are exit 1", "[blackbox][exit1]") {
  SECTION("no store in the data dir") {
    Lockbox box;
    ProcessOptions options;
    options.env["LOCKBOX_MASTER_KEY"] = kKeyA;
    const ProcessResult r = box.run({"secrets", "list"}, options);
    CHECK(r.exit_code == 1);
    CHECK(line_count(r.err) == 1);
  }
  SECTION("the data dir is a file") {
    Lockbox box;
    write_file(box.data_dir(), "not a dir");
    ProcessOptions options;
    options.env["LOCKBOX_MASTER_KEY"] = kKeyA;
    const ProcessResult r = box.run({"secrets", "list"}, options);
    CHECK(r.exit_code == 1);
    CHECK(line_count(r.err) == 1);
  }
}

TEST_CASE("a store busy past --busy-timeout is exit 1, never 'database is locked'",
          "[blackbox][exit1][sqlite]") {
  Lockbox box;
  box.init();
  box.set("B", "before");
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(box.db_path().c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r = box.run_stdin({"secrets", "set", "B", "--busy-timeout", "1s"}, "after");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(db);
  INFO(r.err);
  CHECK(r.exit_code == 1);
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.find("database is locked") == std::string::npos);
  CHECK(elapsed >= std::chrono::milliseconds(900));
  CHECK(elapsed < std::chrono::seconds(30));
  CHECK(box.reveal("B") == "before");
}


TEST_CASE("a tampered row is exit 5 naming the secret; others stay readable", "[blackbox][exit5]") {
  Lockbox box;
  box.init();
  box.set("VICTIM", kCanary);
  box.set("BYSTANDER", "still fine");
  tamper_envelope(box.db_path(), "VICTIM");
  const ProcessResult r = box.run({"secrets", "get", "VICTIM", "--reveal"});
  INFO(r.err);
  CHECK(r.exit_code == 5);
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.find("VICTIM") != std::string::npos);
  CHECK(r.out.empty());
  CHECK(r.err.find(kCanary) == std::string::npos);
  CHECK(box.reveal("BYSTANDER") == "still fine");
}

}  // namespace
}  // namespace lockbox::testing
