// Reading and verifying the audit trail (SPEC §7, CRYPTO.md test 17): every kind of tampering a
// row-level attacker can do (edit, delete, insert, reorder, renumber) makes verify_audit name the
// first bad seq; a cut tail is caught only against a checkpoint; for_each_audit filters.
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "store/bytes.hpp"
#include "tests/store/sqlite/audit_test_support.hpp"
#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using lockbox::testing::check_broken_at;
using lockbox::testing::checkpoint_of;
using lockbox::testing::set_request;
using lockbox::testing::StoreFixture;
using lockbox::testing::verify;

namespace {

const Scope kProd = Scope::ns("production");
const Scope kDev = Scope::ns("dev");
constexpr std::int64_t kHour = 3'600'000;

// Five records: set A, set B, set A, reveal A, delete B.
void write_five(StoreFixture& f) {
  REQUIRE(f.store->set(set_request(kProd, "A", "a1")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "B", "b1")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "A", "a2")).is_ok());
  REQUIRE(f.store->reveal({kProd, "A"}).is_ok());
  REQUIRE(f.store->remove({kProd, "B"}).is_ok());
  REQUIRE(f.count("SELECT count(*) FROM audit") == 5);
}

std::vector<store::AuditRecord> records(StoreFixture& f, const store::AuditFilter& filter = {}) {
  std::vector<store::AuditRecord> out;
  REQUIRE(f.store
              ->for_each_audit(filter,
                               [&](const store::AuditRecord& r) {
                                 out.push_back(r);
                                 return Status::ok();
                               })
              .is_ok());
  return out;
}

std::vector<std::int64_t> seqs(const std::vector<store::AuditRecord>& rs) {
  std::vector<std::int64_t> out;
  for (const auto& r : rs) out.push_back(r.seq);
  return out;
}

}  // namespace

// ---- verify: intact ----

TEST_CASE("an empty audit trail verifies, and its checkpoint is seq 0 with a zero MAC",
          "[store][sqlite][audit]") {
  StoreFixture f;
  const store::AuditVerifyResult r = verify(f);
  CHECK_FALSE(r.first_bad_seq);
  CHECK(r.records == 0);
  CHECK(r.last_seq == 0);
  const store::AuditCheckpoint cp = checkpoint_of(f);
  CHECK(cp.seq == 0);
  CHECK(cp.mac == store::Mac{});
  CHECK_FALSE(verify(f, cp).first_bad_seq);
}

TEST_CASE("an intact chain verifies, also after reopening and against its checkpoint",
          "[store][sqlite][audit]") {
  StoreFixture f;
  write_five(f);
  REQUIRE(f.store->append_audit({"launch", "function:production/fn", "started", "A@v2"}, false)
              .is_ok());
  const store::AuditVerifyResult r = verify(f);
  CHECK_FALSE(r.first_bad_seq);
  CHECK(r.problem.empty());
  CHECK(r.records == 6);
  CHECK(r.last_seq == 6);
  const store::AuditCheckpoint cp = checkpoint_of(f);
  CHECK(cp.seq == 6);
  CHECK(store::to_hex(cp.mac) == [&] {
    // The stored entry_mac of record 6, read independently of the store.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(f.db_path().c_str(), &db) == SQLITE_OK);
    sqlite3_stmt* st = nullptr;
    sqlite3_prepare_v2(db, "SELECT lower(hex(entry_mac)) FROM audit WHERE seq = 6", -1, &st,
                       nullptr);
    REQUIRE(sqlite3_step(st) == SQLITE_ROW);
    std::string hex(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return hex;
  }());
  CHECK_FALSE(verify(f, cp).first_bad_seq);
  // An older checkpoint still verifies after more records were appended.
  REQUIRE(f.store->set(set_request(kProd, "C", "c")).is_ok());
  CHECK_FALSE(verify(f, cp).first_bad_seq);
  CHECK(verify(f).records == 7);
}

// ---- verify: edits ----

TEST_CASE("editing any column of a record names that record", "[store][sqlite][audit]") {
  const std::vector<std::string> edits = {
      "actor = 'mallory'",  "action = 'secret.reveal'", "target = 'namespace:production/Z'",
      "outcome = 'denied'", "detail = 'v9 created'",    "ts = ts + 1"};
  for (const std::string& edit : edits) {
    INFO(edit);
    StoreFixture f;
    write_five(f);
    f.sql("UPDATE audit SET " + edit + " WHERE seq = 3");
    check_broken_at(f, 3, "record 3 was edited");
  }
}

TEST_CASE("editing a record's MACs names that record", "[store][sqlite][audit]") {
  SECTION("entry_mac replaced") {
    StoreFixture f;
    write_five(f);
    f.sql("UPDATE audit SET entry_mac = randomblob(32) WHERE seq = 4");
    check_broken_at(f, 4, "record 4 was edited");
  }
  SECTION("prev_mac replaced") {
    StoreFixture f;
    write_five(f);
    f.sql("UPDATE audit SET prev_mac = randomblob(32) WHERE seq = 4");
    check_broken_at(f, 4, "record 4 does not follow record 3");
  }
  SECTION("the first record's prev_mac is not zero") {
    StoreFixture f;
    write_five(f);
    f.sql("UPDATE audit SET prev_mac = randomblob(32) WHERE seq = 1");
    check_broken_at(f, 1, "record 1");
  }
  SECTION("a MAC of the wrong length") {
    StoreFixture f;
    write_five(f);
    f.sql("UPDATE audit SET entry_mac = x'00' WHERE seq = 2");
    check_broken_at(f, 2, "record 2 is damaged");
  }
}

// ---- verify: deletions, insertions, reordering ----

TEST_CASE("deleting a record names the missing seq", "[store][sqlite][audit]") {
  SECTION("a middle record") {
    StoreFixture f;
    write_five(f);
    f.sql("DELETE FROM audit WHERE seq = 3");
    check_broken_at(f, 3, "record 3 is missing");
  }
  SECTION("the first record") {
    StoreFixture f;
    write_five(f);
    f.sql("DELETE FROM audit WHERE seq = 1");
    check_broken_at(f, 1, "record 1 is missing");
  }
  SECTION("a middle record, then the later ones renumbered to close the gap") {
    StoreFixture f;
    write_five(f);
    f.sql(
        "DELETE FROM audit WHERE seq = 3; UPDATE audit SET seq = -(seq - 1) WHERE seq > 3; "
        "UPDATE audit SET seq = -seq WHERE seq < 0");
    check_broken_at(f, 3, "record 3 does not follow record 2");
  }
}

TEST_CASE("a forged record names its seq", "[store][sqlite][audit]") {
  SECTION("inserted in the middle, chained to its predecessor") {
    StoreFixture f;
    write_five(f);
    // Make room at seq 3, then insert a record whose prev_mac is record 2's real entry_mac.
    f.sql(
        "UPDATE audit SET seq = -(seq + 1) WHERE seq >= 3; UPDATE audit SET seq = -seq WHERE seq < "
        "0; "
        "INSERT INTO audit SELECT 3, ts, actor, 'secret.set', 'namespace:production/X', 'ok', "
        "'v1 created', entry_mac, randomblob(32) FROM audit WHERE seq = 2");
    check_broken_at(f, 3, "record 3 was edited");
  }
  SECTION("appended at the end") {
    StoreFixture f;
    write_five(f);
    f.sql(
        "INSERT INTO audit SELECT 6, ts + 1, actor, 'secret.set', 'namespace:production/X', 'ok', "
        "'v1 created', entry_mac, randomblob(32) FROM audit WHERE seq = 5");
    check_broken_at(f, 6, "record 6 was edited");
  }
  SECTION("a copy of a real record replayed at the end") {
    StoreFixture f;
    write_five(f);
    f.sql(
        "INSERT INTO audit SELECT 6, ts, actor, action, target, outcome, detail, prev_mac, "
        "entry_mac "
        "FROM audit WHERE seq = 5");
    check_broken_at(f, 6, "record 6 does not follow record 5");
  }
}

TEST_CASE("reordering records names the first moved seq", "[store][sqlite][audit]") {
  SECTION("two rows swap their seq numbers") {
    StoreFixture f;
    write_five(f);
    f.sql(
        "UPDATE audit SET seq = 100 WHERE seq = 2; UPDATE audit SET seq = 2 WHERE seq = 4; "
        "UPDATE audit SET seq = 4 WHERE seq = 100");
    check_broken_at(f, 2, "record 2 does not follow record 1");
  }
  SECTION("two rows swap their contents, MACs kept in place") {
    StoreFixture f;
    write_five(f);
    f.sql(
        "CREATE TEMP TABLE saved AS SELECT * FROM audit WHERE seq IN (2, 4); "
        "UPDATE audit SET (ts, actor, action, target, outcome, detail) = "
        "(SELECT ts, actor, action, target, outcome, detail FROM saved WHERE saved.seq = 6 - "
        "audit.seq) "
        "WHERE seq IN (2, 4)");
    check_broken_at(f, 2, "record 2 was edited");
  }
}

TEST_CASE("renumbering every record names seq 1", "[store][sqlite][audit]") {
  SECTION("shifted up") {
    StoreFixture f;
    write_five(f);
    f.sql("UPDATE audit SET seq = -(seq + 10); UPDATE audit SET seq = -seq");
    check_broken_at(f, 1, "record 1 is missing");
  }
  SECTION("shifted down to start at 0") {
    StoreFixture f;
    write_five(f);
    f.sql("UPDATE audit SET seq = -(seq - 1); UPDATE audit SET seq = -seq WHERE seq < 0");
    check_broken_at(f, 1, "record 1");
  }
}

TEST_CASE("verify keeps counting after the first bad record", "[store][sqlite][audit]") {
  StoreFixture f;
  write_five(f);
  f.sql("UPDATE audit SET detail = 'x' WHERE seq = 2; UPDATE audit SET detail = 'y' WHERE seq = 4");
  const store::AuditVerifyResult r = verify(f);
  CHECK(r.first_bad_seq == std::optional<std::int64_t>(2));
  CHECK(r.records == 5);
  CHECK(r.last_seq == 5);
}

// ---- checkpoints ----

TEST_CASE("a cut tail is caught only against a checkpoint, naming the checkpoint seq",
          "[store][sqlite][audit]") {
  StoreFixture f;
  write_five(f);
  const store::AuditCheckpoint cp = checkpoint_of(f);
  REQUIRE(cp.seq == 5);
  f.sql("DELETE FROM audit WHERE seq >= 4");
  const store::AuditVerifyResult plain = verify(f);
  CHECK_FALSE(plain.first_bad_seq);  // what is left is a valid chain
  CHECK(plain.records == 3);
  check_broken_at(f, 5, "the trail ends at record 3, before the checkpoint", cp);

  SECTION("and stays caught when new records refill the cut seqs") {
    auto store = f.reopen();
    for (const char* name : {"N1", "N2", "N3"}) {
      REQUIRE(store->set(set_request(kProd, name, "n")).is_ok());
    }
    CHECK_FALSE(verify(f).first_bad_seq);
    check_broken_at(f, 5, "record 5 does not match the checkpoint", cp);
  }
  SECTION("and a trail cut to nothing") {
    f.sql("DELETE FROM audit");
    CHECK_FALSE(verify(f).first_bad_seq);
    check_broken_at(f, 5, "the trail is empty", cp);
  }
}

TEST_CASE("a checkpoint with a wrong MAC fails at its seq", "[store][sqlite][audit]") {
  StoreFixture f;
  write_five(f);
  store::AuditCheckpoint cp = checkpoint_of(f);
  cp.seq = 3;  // record 3 with record 5's MAC
  check_broken_at(f, 3, "record 3 does not match the checkpoint", cp);
  cp = checkpoint_of(f);
  cp.mac[0] ^= 0x01;
  check_broken_at(f, 5, "record 5 does not match the checkpoint", cp);
  // An earlier chain failure comes first.
  f.sql("UPDATE audit SET outcome = 'x' WHERE seq = 2");
  check_broken_at(f, 2, "record 2 was edited", cp);
}

TEST_CASE("checkpoint seq 0 must carry the zero MAC; a negative seq is bad input",
          "[store][sqlite][audit]") {
  StoreFixture f;
  write_five(f);
  CHECK_FALSE(verify(f, store::AuditCheckpoint{0, {}}).first_bad_seq);
  store::AuditCheckpoint nonzero{0, {}};
  nonzero.mac[31] = 1;
  const auto malformed = f.store->verify_audit(nonzero);  // names no record: bad input, not damage
  REQUIRE_FALSE(malformed.is_ok());
  CHECK(malformed.status().code() == StatusCode::kBadInput);
  const auto negative = f.store->verify_audit(store::AuditCheckpoint{-1, {}});
  REQUIRE_FALSE(negative.is_ok());
  CHECK(negative.status().code() == StatusCode::kBadInput);
}

TEST_CASE("verify reads one snapshot: an uncommitted forged record is not seen",
          "[store][sqlite][audit]") {
  StoreFixture f;
  write_five(f);
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(f.db_path().c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other,
                       "BEGIN IMMEDIATE; INSERT INTO audit SELECT 6, ts, actor, action, target, "
                       "outcome, detail, entry_mac, randomblob(32) FROM audit WHERE seq = 5",
                       nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto r = f.store->verify_audit(std::nullopt);  // a writer holds the lock: readers go on
  REQUIRE(r.is_ok());
  CHECK_FALSE(r->first_bad_seq);
  CHECK(r->records == 5);
  REQUIRE(sqlite3_exec(other, "COMMIT", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(other);
  check_broken_at(f, 6, "record 6 was edited");
}

TEST_CASE("the chain survives a master-key rewrap", "[store][sqlite][audit][keys]") {
  StoreFixture f;
  write_five(f);
  const store::AuditCheckpoint cp = checkpoint_of(f);
  const auto generation =
      f.store->rewrap(lockbox::testing::master_key_from(lockbox::testing::test_master_key(9)));
  INFO(generation.status().message());
  REQUIRE(generation.is_ok());
  auto reopened = f.reopen(9);
  REQUIRE(reopened->set(set_request(kProd, "AFTER", "x")).is_ok());
  const auto r = reopened->verify_audit(cp);
  REQUIRE(r.is_ok());
  CHECK_FALSE(r->first_bad_seq);
  CHECK(r->last_seq >= 7);  // the five, key.rewrap, the set after it
}

// ---- for_each_audit ----

TEST_CASE("for_each_audit lists oldest first and filters by since, action and target",
          "[store][sqlite][audit]") {
  StoreFixture f;
  const UnixMillis t0 = f.clock.now();
  REQUIRE(f.store->set(set_request(kProd, "DB_URL", "p")).is_ok());  // 1, t0
  REQUIRE(f.store->set(set_request(kDev, "DB_URL", "d")).is_ok());   // 2, t0
  f.clock.advance(2 * kHour);
  REQUIRE(f.store->reveal({kProd, "DB_URL"}).is_ok());                // 3, t0+2h
  REQUIRE(f.store->set(set_request(kProd, "API_KEY", "k")).is_ok());  // 4, t0+2h
  f.clock.advance(kHour);
  REQUIRE(
      f.store->append_audit({"launch", "function:production/fn", "0", "DB_URL@v1"}).is_ok());  // 5

  CHECK(seqs(records(f)) == std::vector<std::int64_t>{1, 2, 3, 4, 5});
  const auto all = records(f);
  CHECK(all[0].ts == t0);
  CHECK(all[0].actor == "tester");
  CHECK(all[0].action == "secret.set");
  CHECK(all[0].target == "namespace:production/DB_URL");
  CHECK(all[4].outcome == "0");
  CHECK(all[4].detail == "DB_URL@v1");

  store::AuditFilter since;
  since.since = t0 + 2 * kHour;  // inclusive
  CHECK(seqs(records(f, since)) == std::vector<std::int64_t>{3, 4, 5});
  since.since = t0 + 2 * kHour + 1;
  CHECK(seqs(records(f, since)) == std::vector<std::int64_t>{5});

  store::AuditFilter action;
  action.action = "secret.set";
  CHECK(seqs(records(f, action)) == std::vector<std::int64_t>{1, 2, 4});
  action.action = "secret";  // exact, not a prefix
  CHECK(records(f, action).empty());

  store::AuditFilter target;
  target.target = "namespace:production/DB_URL";
  CHECK(seqs(records(f, target)) == std::vector<std::int64_t>{1, 3});
  target.target = "namespace:production/*";
  CHECK(seqs(records(f, target)) == std::vector<std::int64_t>{1, 3, 4});
  target.target = "*/DB_*";
  CHECK(seqs(records(f, target)) == std::vector<std::int64_t>{1, 2, 3});
  target.target = "*:*/*_*";
  CHECK(seqs(records(f, target)) == std::vector<std::int64_t>{1, 2, 3, 4});
  target.target = "namespace:production";  // exact: no prefix match
  CHECK(records(f, target).empty());
  target.target = "function:*";
  CHECK(seqs(records(f, target)) == std::vector<std::int64_t>{5});

  store::AuditFilter combined;
  combined.since = t0 + kHour;
  combined.action = "secret.set";
  combined.target = "namespace:*";
  CHECK(seqs(records(f, combined)) == std::vector<std::int64_t>{4});
}

TEST_CASE("for_each_audit stops at the visitor's first error and returns it",
          "[store][sqlite][audit]") {
  StoreFixture f;
  write_five(f);
  int visited = 0;
  const Status st = f.store->for_each_audit({}, [&](const store::AuditRecord&) {
    return ++visited == 2 ? runtime_error("stop") : Status::ok();
  });
  CHECK(st.code() == StatusCode::kRuntime);
  CHECK(visited == 2);
}

// ---- never a value ----

TEST_CASE("a canary secret value never appears in any audit column", "[store][sqlite][audit]") {
  StoreFixture f;
  const std::string canary = "audit-canary-7Hq2xLw0-DO-NOT-LEAK";
  REQUIRE(f.store->set(set_request(kProd, "K", canary)).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "K", canary + "-2")).is_ok());
  REQUIRE(f.store->reveal({kProd, "K"}).is_ok());
  store::ListFilter filter;
  filter.scope = kProd;
  REQUIRE(f.store->export_values(filter).is_ok());
  std::vector<store::ImportEntry> entries;
  entries.push_back({"I1", SecretValue(canary + "-3")});
  entries.push_back({"I2", SecretValue(canary + "-4")});
  REQUIRE(f.store->import(kProd, std::move(entries)).is_ok());
  REQUIRE(f.store->rollback({kProd, "K"}, 1).is_ok());
  REQUIRE(f.store->remove({kProd, "K"}).is_ok());
  REQUIRE(f.store->purge({kProd, "I2"}).is_ok());

  const auto all = records(f);
  REQUIRE(all.size() >= 8);
  for (const auto& r : all) {
    const std::string columns =
        r.actor + "|" + r.action + "|" + r.target + "|" + r.outcome + "|" + r.detail;
    INFO(columns);
    CHECK(columns.find(canary) == std::string::npos);
  }
  // The raw table too (any column, any encoding SQLite stores text in).
  CHECK(f.count("SELECT count(*) FROM audit WHERE instr(actor || action || target || outcome || "
                "detail, '" +
                canary + "') > 0") == 0);
  CHECK_FALSE(verify(f).first_bad_seq);
}
