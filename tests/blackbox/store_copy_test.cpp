// Black-box tests of `lockbox store copy --to URL` (SPEC §11): whole, verified, refusing a
// non-empty target, atomic under kill -9, refusing a tampered source, never echoing a password.
// The suite runs on both backends (blackbox.hpp): on the [pg] pass the source is a PostgreSQL
// database, so copies go PostgreSQL -> SQLite and, through a second empty database, SQLite ->
// PostgreSQL.
#include <sqlite3.h>

#include <filesystem>
#include <string>
#include <vector>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

// Runs `sql` on the box's store directly (a tamperer with write access to its rows).
void exec_sql(const Lockbox& box, const std::string& sql) {
  if (pg_backend()) {
    pg_sql(box.pg_db(), "SET search_path = lockbox; " + sql);
    return;
  }
  const std::filesystem::path db = box.db_path();
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READWRITE, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(h, 10000);
  char* err = nullptr;
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, &err);
  INFO((err != nullptr ? err : ""));
  sqlite3_free(err);
  sqlite3_close(h);
  REQUIRE(rc == SQLITE_OK);
}

// A store with versions, a tombstone, a token and a few audit records.
void populate(const Lockbox& box) {
  box.init();
  box.set("A", "value-a1");
  box.set("A", "value-a2");
  box.set("B", "value-b", {"--namespace", "prod"});
  box.set("GONE", "value-gone");
  REQUIRE(box.run({"secrets", "delete", "GONE"}).exit_code == 0);
  REQUIRE(box.run({"tokens", "create", "--name", "ci", "--role", "admin"}).exit_code == 0);
}

// The same command against the store at `url` (the master key is the data dir's).
ProcessResult at(const Lockbox& box, const std::string& url, std::vector<std::string> args) {
  args.insert(args.end(), {"--store", url});
  return box.run(args);
}

// Everything a user can see of a store, for comparing a copy with its source.
std::string view_of(const Lockbox& box, const std::string& url) {
  std::string out;
  for (const std::vector<std::string>& cmd :
       {std::vector<std::string>{"secrets", "list", "--json", "--include-deleted"},
        {"secrets", "history", "A", "--json"},
        {"secrets", "get", "A", "--reveal"},
        {"secrets", "get", "B", "--namespace", "prod", "--reveal"},
        {"tokens", "list", "--json"},
        {"keys", "status", "--json"}}) {
    const ProcessResult r = url.empty() ? box.run(cmd) : at(box, url, cmd);
    INFO(r.err);
    REQUIRE(r.exit_code == 0);
    out += r.out;
  }
  return out;
}

// The --store URL of `box` on either backend.
std::string source_url(const Lockbox& box) {
  return box.store_url().empty() ? "sqlite:" + box.db_path().string() : box.store_url();
}

// Empty targets for a copy: a new SQLite file, and on the [pg] pass an empty database as well.
std::vector<std::string> empty_targets(const Lockbox& box, const Lockbox& empty_box, const std::string& file) {
  std::vector<std::string> out{"sqlite:" + (box.root() / file).string()};
  if (!empty_box.store_url().empty()) out.push_back(empty_box.store_url());
  return out;
}

}  // namespace

TEST_CASE("store copy into an empty SQLite store gives a store that verifies and shows the same secrets, "
          "versions, tokens and values") {
  Lockbox box;
  populate(box);
  const std::string target = "sqlite:" + (box.root() / "copy.db").string();
  const std::string before = view_of(box, "");
  const std::string source_bytes = box.snapshot();
  const ProcessResult r = box.run({"store", "copy", "--to", target});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.find("verified") != std::string::npos);
  CHECK(view_of(box, target) == before);
  CHECK(box.snapshot() == source_bytes);
  CHECK(at(box, target, {"audit", "verify"}).exit_code == 0);
  // The copy is a working store: it takes new writes and keeps verifying.
  REQUIRE(box.run_stdin({"secrets", "set", "C", "--store", target}, "value-c").exit_code == 0);
  CHECK(at(box, target, {"audit", "verify"}).exit_code == 0);
}

TEST_CASE("store copy into a target that holds a store exits 2 and leaves it unchanged") {
  Lockbox box;
  populate(box);
  Lockbox other;
  other.init();
  other.set("OTHER", "other-value");
  const std::string target = source_url(other);
  const std::string before = other.snapshot();
  const ProcessResult r = box.run({"store", "copy", "--to", target});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find("not empty") != std::string::npos);
  CHECK(other.snapshot() == before);
  // The source itself is a non-empty target too.
  CHECK(box.run({"store", "copy", "--to", source_url(box)}).exit_code == 2);
}

TEST_CASE("a store copy killed in the middle leaves the target empty, and a second copy succeeds") {
  Lockbox box;
  populate(box);
  for (int i = 0; i < 30; ++i) box.set("BULK_" + std::to_string(i), "bulk-value");
  const Lockbox empty_box;
  for (const std::string& target : empty_targets(box, empty_box, "copy.db")) {
    INFO(target);
    ProcessOptions dying;
    dying.env["LOCKBOX_FAULT"] = "store-copy.row:20";
    const ProcessResult killed = box.run({"store", "copy", "--to", target}, dying);
    REQUIRE(killed.exit_code == 128 + 9);
    // No schema was committed: the target is no store, and counts as empty.
    CHECK(at(box, target, {"secrets", "list"}).exit_code == 1);
    const ProcessResult again = box.run({"store", "copy", "--to", target});
    INFO(again.err);
    REQUIRE(again.exit_code == 0);
    CHECK(at(box, target, {"secrets", "list", "--json", "--include-deleted"}).out ==
          box.run({"secrets", "list", "--json", "--include-deleted"}).out);
  }
}

TEST_CASE("store copy refuses a source with a tampered row (exit 5) and writes no target") {
  Lockbox box;
  populate(box);
  exec_sql(box, "UPDATE versions SET description = 'edited' WHERE version = 1");
  const std::string target = "sqlite:" + (box.root() / "copy.db").string();
  const ProcessResult r = box.run({"store", "copy", "--to", target});
  CHECK(r.exit_code == 5);
  CHECK(r.err.find("refusing to copy") != std::string::npos);
  CHECK(at(box, target, {"secrets", "list"}).exit_code == 1);
}

TEST_CASE("store copy never shows a target URL's password") {
  Lockbox box;
  populate(box);
  const ProcessResult r =
      box.run({"store", "copy", "--to", "postgresql://lockbox:hunter2-pw@127.0.0.1:1/none?password=pw-two"});
  CHECK(r.exit_code != 0);
  CHECK(r.err.find("hunter2-pw") == std::string::npos);
  CHECK(r.err.find("pw-two") == std::string::npos);
  const ProcessResult bad = box.run({"store", "copy", "--to", "mysql://u:hunter2-pw@h/db"});
  CHECK(bad.exit_code == 2);
  CHECK(bad.err.find("hunter2-pw") == std::string::npos);
  CHECK(bad.err.find("***") != std::string::npos);
}

TEST_CASE("store copy to the other backend and back keeps secrets, values, tokens and the audit chain") {
  Lockbox box;
  populate(box);
  const std::string before = view_of(box, "");
  // SQLite pass: SQLite -> SQLite -> SQLite. [pg] pass: PostgreSQL -> SQLite -> an empty PostgreSQL.
  const std::string middle = "sqlite:" + (box.root() / "middle.db").string();
  const Lockbox empty_box;
  const std::string back =
      empty_box.store_url().empty() ? "sqlite:" + (box.root() / "back.db").string() : empty_box.store_url();
  const ProcessResult there = box.run({"store", "copy", "--to", middle});
  INFO(there.err);
  REQUIRE(there.exit_code == 0);
  CHECK(view_of(box, middle) == before);
  const ProcessResult home = box.run({"store", "copy", "--store", middle, "--to", back});
  INFO(home.err);
  REQUIRE(home.exit_code == 0);
  CHECK(view_of(box, back) == before);
  CHECK(at(box, back, {"audit", "verify"}).exit_code == 0);
  // The copy takes new writes and keeps verifying.
  REQUIRE(box.run_stdin({"secrets", "set", "C", "--store", back}, "value-c").exit_code == 0);
  CHECK(at(box, back, {"audit", "verify"}).exit_code == 0);
}

}  // namespace lockbox::testing
