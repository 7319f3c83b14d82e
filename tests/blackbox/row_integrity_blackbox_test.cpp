// Black-box: the rows around the ciphertexts are authenticated (SPEC §17). Each case edits the raw
// SQLite file as someone without the master key could, then drives the real binary: a launch that
// walks a scope whose membership was changed stops (125, naming the scope) instead of falling
// through to a broader value; a secret whose head, tombstone or expiry was edited is exit 5 naming
// it while the others stay readable.

#include <sqlite3.h>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// Runs `sql` on the store file with the sqlite3 C API (no lockbox involved).
void raw_sql(const Lockbox& box, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(box.db_path().c_str(), &db) == SQLITE_OK);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  INFO(sql << ": " << (error != nullptr ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

// `run --namespace prod --function fn -- sh -c 'printf %s "$FLUXBASE_SECRET_DB"'`.
ProcessResult launch(const Lockbox& box) {
  ProcessOptions options;
  options.unset_env = inherited_lockbox_vars();
  return run_lockbox({"run", "--data-dir", box.data_dir().string(), "--namespace", "prod", "--function",
                      "fn", "--", "/bin/sh", "-c", "printf %s \"$FLUXBASE_SECRET_DB\""},
                     options);
}

// `audit verify --checkpoint` exits 5 with one line naming the checkpoint's record (seq 3).
void check_rolled_back(const Lockbox& box, const std::string& checkpoint) {
  const ProcessResult r = box.run({"audit", "verify", "--checkpoint", checkpoint});
  INFO(r.err);
  CHECK(r.exit_code == 5);
  CHECK(r.out.empty());
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.rfind("lockbox: audit trail broken at seq 3: ", 0) == 0);
}

ProcessResult get(const Lockbox& box, const std::string& name) {
  return box.run({"secrets", "get", name, "--namespace", "prod", "--reveal"});
}

namespace fs = std::filesystem;

// The store file with its WAL, copied aside and put back (as an attacker's older snapshot).
void copy_store(const fs::path& from_db, const fs::path& to_db) {
  for (const std::string suffix : {"", "-wal"}) {
    const fs::path from = from_db.string() + suffix;
    const fs::path to = to_db.string() + suffix;
    fs::remove(to);
    if (fs::exists(from)) fs::copy_file(from, to);
  }
  fs::remove(to_db.string() + "-shm");
}

}  // namespace

TEST_CASE("a checkpoint's change counter catches rows rolled back to an older copy", "[sqlite][blackbox][audit][integrity]") {
  Lockbox box;
  box.init();
  box.set("A", "a", {"--namespace", "prod"});
  box.set("B", "b", {"--namespace", "prod"});
  const fs::path old_copy = box.root() / "old.db";
  copy_store(box.db_path(), old_copy);
  box.set("B", "b-new", {"--namespace", "prod"});  // a write after the copy
  const ProcessResult cp = box.run({"audit", "checkpoint"});
  REQUIRE(cp.exit_code == 0);
  const std::string checkpoint = cp.out.substr(0, cp.out.find('\n'));
  REQUIRE(box.run({"audit", "verify", "--checkpoint", checkpoint}).exit_code == 0);

  SECTION("the rows put back, the audit trail kept") {
    raw_sql(box, "ATTACH '" + old_copy.string() + "' AS old; "
                "DELETE FROM versions; INSERT INTO versions SELECT * FROM old.versions; "
                "DELETE FROM secrets; INSERT INTO secrets SELECT * FROM old.secrets; "
                "DELETE FROM scopes; INSERT INTO scopes SELECT * FROM old.scopes; "
                "UPDATE meta SET value = (SELECT value FROM old.meta o WHERE o.key = meta.key) "
                "WHERE key IN ('change_counter', 'change_counter_mac');");
    // Rolled-back rows verify on their own (a snapshot rollback, SPEC §0): only the checkpoint
    // tells.
    CHECK(box.reveal("B", {"--namespace", "prod"}) == "b");
    CHECK(box.run({"audit", "verify"}).exit_code == 0);
    check_rolled_back(box, checkpoint);
    const ProcessResult r = box.run({"audit", "verify", "--checkpoint", checkpoint});
    CHECK(r.err.find("the store was rolled back to an older copy") != std::string::npos);
    CHECK(r.err.find("b-new") == std::string::npos);
    const ProcessResult j = box.run({"audit", "verify", "--checkpoint", checkpoint, "--json"});
    CHECK(j.exit_code == 5);
    CHECK(parse_json(j.out).as_object().at("ok").as_bool() == false);
  }
  SECTION("the whole file put back") {
    copy_store(old_copy, box.db_path());
    check_rolled_back(box, checkpoint);
  }
}

TEST_CASE("a deleted narrow-scope secret row stops run with 125 naming the scope, never the broader value",
          "[sqlite][blackbox][integrity]") {
  Lockbox box;
  box.init();
  box.set("DB", "global-value");
  box.set("DB", "namespace-value", {"--namespace", "prod"});
  box.set("DB", "function-value", {"--namespace", "prod", "--function", "fn"});
  ProcessResult r = launch(box);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  REQUIRE(r.out == "function-value");

  SECTION("the secrets row deleted") {
    raw_sql(box, "DELETE FROM versions WHERE secret_id = (SELECT id FROM secrets WHERE scope = "
                 "'function:prod/fn'); DELETE FROM secrets WHERE scope = 'function:prod/fn'");
  }
  SECTION("the secrets row and the scope row deleted") {
    raw_sql(box, "DELETE FROM versions WHERE secret_id = (SELECT id FROM secrets WHERE scope = "
                 "'function:prod/fn'); DELETE FROM secrets WHERE scope = 'function:prod/fn'; "
                 "DELETE FROM scopes WHERE scope = 'function:prod/fn'");
  }
  SECTION("the secret moved to another scope") {
    raw_sql(box, "UPDATE secrets SET scope = 'function:prod/other' WHERE scope = 'function:prod/fn'");
  }
  r = launch(box);
  INFO(r.err);
  CHECK(r.exit_code == 125);
  CHECK(contains(r.err, "scope function:prod/fn"));
  CHECK_FALSE(contains(r.out, "namespace-value"));
  CHECK_FALSE(contains(r.out, "global-value"));
  // Scopes the launch does not walk stay readable.
  CHECK(box.reveal("DB", {"--namespace", "prod"}) == "namespace-value");
}

TEST_CASE("an edited head, tombstone or expiry is exit 5 for that secret; the others stay readable",
          "[sqlite][blackbox][integrity]") {
  Lockbox box;
  box.init();
  box.set("OTHER", "other-value", {"--namespace", "prod"});
  std::string victim;
  std::string sql;
  SECTION("the head moved back to an older version") {
    victim = "ROTATED";
    box.set(victim, "old-value", {"--namespace", "prod"});
    box.set(victim, "new-value", {"--namespace", "prod"});
    sql = "UPDATE secrets SET head_version = 1 WHERE name = 'ROTATED'";
  }
  SECTION("the tombstone cleared, with the older version's envelope") {
    victim = "DELETED";
    box.set(victim, "old-value", {"--namespace", "prod"});
    REQUIRE(box.run({"secrets", "delete", victim, "--namespace", "prod"}).exit_code == 0);
    sql = "UPDATE versions SET tombstone = 0, key_id = (SELECT key_id FROM versions v WHERE "
          "v.secret_id = versions.secret_id AND v.version = 1), envelope = (SELECT envelope FROM "
          "versions v WHERE v.secret_id = versions.secret_id AND v.version = 1) WHERE version = 2 AND "
          "secret_id = (SELECT id FROM secrets WHERE name = 'DELETED')";
  }
  SECTION("the expiry cleared") {
    victim = "EXPIRED";
    box.set(victim, "old-value", {"--namespace", "prod", "--expires", "1h"});
    sql = "UPDATE versions SET expires_at = NULL WHERE expires_at IS NOT NULL";
  }
  SECTION("the expiry moved later") {
    victim = "EXPIRED";
    box.set(victim, "old-value", {"--namespace", "prod", "--expires", "1h"});
    sql = "UPDATE versions SET expires_at = expires_at + 86400000 WHERE expires_at IS NOT NULL";
  }
  raw_sql(box, sql);
  const ProcessResult r = get(box, victim);
  INFO(r.err);
  CHECK(r.exit_code == 5);
  CHECK(contains(r.err, "namespace:prod/" + victim));
  CHECK_FALSE(contains(r.out, "old-value"));
  CHECK_FALSE(contains(r.err, "old-value"));
  CHECK(box.reveal("OTHER", {"--namespace", "prod"}) == "other-value");
  const ProcessResult metadata = box.run({"secrets", "get", victim, "--namespace", "prod"});
  CHECK(metadata.exit_code == 5);
}

}  // namespace lockbox::testing
