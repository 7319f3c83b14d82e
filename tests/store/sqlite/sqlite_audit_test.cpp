// Every write appends exactly one HMAC-chained audit record in its own transaction; reveals are
// recorded before the value is returned. Here the chain is recomputed from the keyring directly,
// independently of the store's own verify_audit (tested in audit_verify_test.cpp).
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "store/audit_chain.hpp"
#include "store/envelope.hpp"
#include "store/key_schedule.hpp"
#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using lockbox::testing::set_request;
using lockbox::testing::StoreFixture;

namespace {
const Scope kProd = Scope::ns("production");

struct Row {
  store::AuditRecord rec;
};

std::vector<store::AuditRecord> read_audit(const StoreFixture& f, store::Bytes& store_id,
                                           store::Bytes& wrapped_audit, std::uint32_t& audit_key_id) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(f.db_path().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  auto blob = [&](int col) {
    const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, col));
    return store::Bytes(p, p + sqlite3_column_bytes(st, col));
  };
  auto text = [&](int col) { return std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, col))); };
  sqlite3_prepare_v2(db, "SELECT value FROM meta WHERE key = 'store_id'", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  store_id = blob(0);
  sqlite3_finalize(st);
  sqlite3_prepare_v2(db, "SELECT key_id, wrapped FROM keyring WHERE purpose = 'audit'", -1, &st, nullptr);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  audit_key_id = static_cast<std::uint32_t>(sqlite3_column_int64(st, 0));
  wrapped_audit = blob(1);
  sqlite3_finalize(st);
  std::vector<store::AuditRecord> out;
  sqlite3_prepare_v2(db, "SELECT seq, ts, actor, action, target, outcome, detail, prev_mac, entry_mac "
                         "FROM audit ORDER BY seq", -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    store::AuditRecord r;
    r.seq = sqlite3_column_int64(st, 0);
    r.ts = sqlite3_column_int64(st, 1);
    r.actor = text(2);
    r.action = text(3);
    r.target = text(4);
    r.outcome = text(5);
    r.detail = text(6);
    const auto prev = blob(7), mac = blob(8);
    REQUIRE(prev.size() == 32);
    REQUIRE(mac.size() == 32);
    std::copy(prev.begin(), prev.end(), r.prev_mac.begin());
    std::copy(mac.begin(), mac.end(), r.entry_mac.begin());
    out.push_back(r);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// Recomputes the chain with the audit key unwrapped from the keyring.
std::vector<store::AuditRecord> verified_audit(const StoreFixture& f) {
  store::Bytes store_id, wrapped;
  std::uint32_t key_id = 0;
  auto records = read_audit(f, store_id, wrapped, key_id);
  const auto kek = store::derive_kek(lockbox::testing::test_master_key(), store_id, 1);
  REQUIRE(kek.is_ok());
  const auto audit_key = store::open_wrapped_key(kek.value(), 1, "audit", key_id, store_id, wrapped);
  REQUIRE(audit_key.is_ok());
  const auto chain_key = store::derive_audit_chain_key(audit_key.value(), store_id);
  REQUIRE(chain_key.is_ok());
  store::Mac prev{};
  std::int64_t seq = 1;
  for (const auto& r : records) {
    CHECK(r.seq == seq++);
    CHECK(r.prev_mac == prev);
    CHECK(store::audit_entry_mac(chain_key.value(), prev, r) == r.entry_mac);
    prev = r.entry_mac;
  }
  return records;
}

}  // namespace

TEST_CASE("each write appends exactly one chained audit record", "[store][sqlite][audit]") {
  StoreFixture f;
  const std::string canary = "audit-canary-51f0e";
  REQUIRE(f.store->set(set_request(kProd, "K", canary)).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "K", canary + "2")).is_ok());
  REQUIRE(f.store->remove({kProd, "K"}).is_ok());
  REQUIRE(f.store->rollback({kProd, "K"}, 1).is_ok());
  REQUIRE(f.store->reveal({kProd, "K"}).is_ok());
  std::vector<store::ImportEntry> entries;
  entries.push_back({"I1", SecretValue(canary)});
  entries.push_back({"I2", SecretValue(canary)});
  REQUIRE(f.store->import(kProd, std::move(entries)).is_ok());
  store::ListFilter filter;
  filter.scope = kProd;
  REQUIRE(f.store->export_values(filter).is_ok());
  REQUIRE(f.store->purge({kProd, "I2"}).is_ok());

  const auto records = verified_audit(f);
  std::vector<std::string> actions;
  for (const auto& r : records) {
    actions.push_back(r.action);
    CHECK(r.actor == "tester");
    CHECK(r.outcome == "ok");
    CHECK((r.detail + r.target).find(canary) == std::string::npos);
  }
  const std::vector<std::string> expected = {
      "secret.set", "secret.set", "secret.delete", "secret.rollback", "secret.reveal",
      "secret.import", "secret.export", "secret.purge"};
  CHECK(actions == expected);
  CHECK(records[0].target == "namespace:production/K");
  // One record per import and per export, naming every secret they touched.
  CHECK(records[5].target == "namespace:production");
  CHECK(records[5].detail == "2 created, 0 updated, 0 unchanged: I1@v1, I2@v1");
  CHECK(records[6].target == "namespace:production");
  CHECK(records[6].detail ==
        "3 secrets: namespace:production/I1@v1, namespace:production/I2@v1, namespace:production/K@v4");
}

TEST_CASE("a refused write leaves no audit record", "[store][sqlite][audit]") {
  StoreFixture f;
  CHECK_FALSE(f.store->set(set_request(kProd, "bad.name", "v")).is_ok());
  CHECK_FALSE(f.store->remove({kProd, "MISSING"}).is_ok());
  CHECK(f.count("SELECT count(*) FROM audit") == 0);
}

TEST_CASE("a reveal whose audit record cannot be written returns no value", "[store][sqlite][audit]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "K", "secret")).is_ok());
  // Make every audit insert fail while the store is open (a store with a trigger is refused at
  // open, see row_integrity_test.cpp): the reveal must fail closed.
  auto store = f.reopen();
  f.sql("CREATE TRIGGER no_audit BEFORE INSERT ON audit BEGIN SELECT RAISE(ABORT, 'audit disabled'); END;");
  const auto revealed = store->reveal({kProd, "K"});
  CHECK_FALSE(revealed.is_ok());
}

TEST_CASE("launch records may be appended with relaxed durability and still chain", "[store][sqlite][audit]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "K", "v")).is_ok());
  REQUIRE(f.store->append_audit({"launch", "function:production/fn", "0", "K@v1"}, false).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "K", "w")).is_ok());
  const auto records = verified_audit(f);
  REQUIRE(records.size() == 3);
  CHECK(records[1].action == "launch");
}
