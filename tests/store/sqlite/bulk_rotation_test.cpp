// Bulk writes (Store::set_many / remove_many: one transaction, all or nothing, the failing item
// named) and rotation reminders (carried to the next version, MACed, due by the clock), SPEC §13.
// Runs on SQLite and, in the [pg] pass, on PostgreSQL.
#include <catch2/catch.hpp>

#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using lockbox::testing::set_request;
using lockbox::testing::StoreFixture;

namespace {
const Scope kProd = Scope::ns("production");
constexpr std::int64_t kDay = 86'400'000;

std::vector<store::AuditRecord> records(store::Store& s, const std::string& action) {
  std::vector<store::AuditRecord> out;
  store::AuditFilter filter;
  filter.action = action;
  REQUIRE(s.for_each_audit(filter, [&](const store::AuditRecord& r) {
             out.push_back(r);
             return Status::ok();
           }).is_ok());
  return out;
}

std::vector<store::SetRequest> three(const std::string& prefix) {
  std::vector<store::SetRequest> out;
  for (const char* n : {"A", "B", "C"})
    out.push_back(set_request(kProd, prefix + n, std::string("v-") + n));
  return out;
}
}  // namespace

TEST_CASE("set_many writes nothing when an item in the middle fails, and names its index",
          "[store][bulk]") {
  StoreFixture f;
  auto batch = three("K_");
  batch[1].expected_version = 4;  // K_B does not exist: a conflict, found inside the transaction
  auto failed = f.store->set_many(std::move(batch));
  REQUIRE_FALSE(failed.is_ok());
  CHECK(failed.status().code() == StatusCode::kBadInput);
  CHECK(failed.status().message().rfind("secrets[1]: version conflict", 0) == 0);
  auto listed = f.store->list({});
  REQUIRE(listed.is_ok());
  CHECK(listed->empty());
  CHECK(records(*f.store, "secret.set").empty());

  auto bad_name = three("K_");
  bad_name[2].address.name = "no spaces";
  auto refused = f.store->set_many(std::move(bad_name));
  REQUIRE_FALSE(refused.is_ok());
  CHECK(refused.status().message().rfind("secrets[2]: ", 0) == 0);
}

TEST_CASE("set_many writes every item in one transaction with one secret.set record each",
          "[store][bulk]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "K_B", "old")).is_ok());
  const auto counter_before = f.store->change_counter();
  REQUIRE(counter_before.is_ok());
  auto written = f.store->set_many(three("K_"));
  REQUIRE(written.is_ok());
  REQUIRE(written->size() == 3);
  CHECK((*written)[0].outcome == store::WriteOutcome::kCreated);
  CHECK((*written)[1].outcome == store::WriteOutcome::kUpdated);
  CHECK((*written)[1].meta.version == 2);
  // One transaction: the change counter moved once.
  CHECK(*f.store->change_counter() == *counter_before + 1);
  const auto sets = records(*f.store, "secret.set");
  REQUIRE(sets.size() == 4);
  CHECK(sets[1].target == "namespace:production/K_A");
  CHECK(sets[1].detail == "v1 created (bulk 3)");
  CHECK(sets[2].detail == "v2 updated (bulk 3)");
  auto verified = f.store->verify_audit(std::nullopt);
  REQUIRE(verified.is_ok());
  CHECK_FALSE(verified->first_bad_seq.has_value());
}

TEST_CASE("set_many refuses the same address twice", "[store][bulk]") {
  StoreFixture f;
  auto batch = three("K_");
  batch[2].address.name = "K_A";
  auto refused = f.store->set_many(std::move(batch));
  REQUIRE_FALSE(refused.is_ok());
  CHECK(refused.status().message() == "secrets[2]: namespace:production/K_A is also secrets[0]");
}

TEST_CASE("remove_many tombstones every item or none", "[store][bulk]") {
  StoreFixture f;
  REQUIRE(f.store->set_many(three("K_")).is_ok());
  const std::vector<store::SecretAddress> with_missing = {
      {kProd, "K_A"}, {kProd, "NOPE"}, {kProd, "K_C"}};
  auto failed = f.store->remove_many(with_missing);
  REQUIRE_FALSE(failed.is_ok());
  CHECK(failed.status().code() == StatusCode::kNotFound);
  CHECK(failed.status().message() == "secrets[1]: no secret namespace:production/NOPE");
  CHECK_FALSE(f.store->get({kProd, "K_A"})->tombstone);

  auto removed = f.store->remove_many({{kProd, "K_A"}, {kProd, "K_C"}});
  REQUIRE(removed.is_ok());
  REQUIRE(removed->size() == 2);
  CHECK((*removed)[1].tombstone);
  CHECK(f.store->get({kProd, "K_C"})->tombstone);
  CHECK_FALSE(f.store->get({kProd, "K_B"})->tombstone);
  const auto deletes = records(*f.store, "secret.delete");
  REQUIRE(deletes.size() == 2);
  CHECK(deletes[0].detail == "v2 tombstone (bulk 2)");
}

TEST_CASE("a rotation reminder is carried to the next version, persisted, and cleared with 0",
          "[store][rotation]") {
  StoreFixture f;
  auto first = set_request(kProd, "API_KEY", "one");
  first.rotate_every_ms = 30 * kDay;
  first.notify_before_ms = 7 * kDay;
  auto written = f.store->set(std::move(first));
  REQUIRE(written.is_ok());
  CHECK(written->meta.rotate_every_ms == 30 * kDay);
  CHECK(*written->meta.rotation_due_at() == f.clock.now() + 23 * kDay);

  f.clock.advance(kDay);
  auto second = f.store->set(set_request(kProd, "API_KEY", "two"));
  REQUIRE(second.is_ok());
  CHECK(second->meta.rotate_every_ms == 30 * kDay);
  CHECK(second->meta.notify_before_ms == 7 * kDay);
  // Due counts from the newest value: a day later than the first.
  CHECK(*second->meta.rotation_due_at() == f.clock.now() + 23 * kDay);

  auto reopened = f.reopen();
  auto head = reopened->get({kProd, "API_KEY"});
  REQUIRE(head.is_ok());
  CHECK(head->notify_before_ms == 7 * kDay);
  CHECK_FALSE(head->rotation_due(f.clock.now() + 23 * kDay - 1));
  CHECK(head->rotation_due(f.clock.now() + 23 * kDay));
  auto history = reopened->history({kProd, "API_KEY"});
  REQUIRE(history.is_ok());
  CHECK((*history)[0].rotate_every_ms == 30 * kDay);

  auto clear = set_request(kProd, "API_KEY", "three");
  clear.rotate_every_ms = 0;
  auto cleared = reopened->set(std::move(clear));
  REQUIRE(cleared.is_ok());
  CHECK_FALSE(cleared->meta.rotate_every_ms.has_value());
  CHECK_FALSE(cleared->meta.notify_before_ms.has_value());
  CHECK_FALSE(cleared->meta.rotation_due_at().has_value());
}

TEST_CASE("a rotation notice needs a longer rotation period", "[store][rotation]") {
  StoreFixture f;
  auto alone = set_request(kProd, "K", "v");
  alone.notify_before_ms = kDay;
  CHECK(f.store->set(std::move(alone)).status().message() ==
        "a rotation notice needs a rotation period");
  auto longer = set_request(kProd, "K", "v");
  longer.rotate_every_ms = kDay;
  longer.notify_before_ms = kDay;
  CHECK(f.store->set(std::move(longer)).status().code() == StatusCode::kBadInput);
  CHECK(f.store->list({})->empty());
}

TEST_CASE("the rotation columns are covered by the version row's MAC", "[store][rotation]") {
  StoreFixture f;
  auto request = set_request(kProd, "K", "v");
  request.rotate_every_ms = 30 * kDay;
  REQUIRE(f.store->set(std::move(request)).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "PLAIN", "v")).is_ok());
  // Removing the reminder (or adding one) outside lockbox makes the row fail authentication.
  f.sql("UPDATE versions SET rotate_every = NULL WHERE rotate_every IS NOT NULL");
  f.sql("UPDATE versions SET rotate_every = 1000 WHERE rotate_every IS NULL");
  auto reopened = f.reopen();
  CHECK(reopened->get({kProd, "K"}).status().code() == StatusCode::kIntegrity);
  CHECK(reopened->get({kProd, "PLAIN"}).status().code() == StatusCode::kIntegrity);
}

TEST_CASE("a store of schema v3 upgrades to v4 at open and keeps its secrets",
          "[store][rotation]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "OLD", "value")).is_ok());
  f.store.reset();
  if (lockbox::testing::pg_pass()) {
    f.sql(
        "ALTER TABLE versions DROP COLUMN rotate_every, DROP COLUMN notify_before; "
        "UPDATE schema_version SET version = 3");
    CHECK(f.count("SELECT version FROM schema_version") == 3);
  } else {
    f.sql(
        "ALTER TABLE versions DROP COLUMN rotate_every; ALTER TABLE versions DROP COLUMN "
        "notify_before; "
        "PRAGMA user_version = 3");
    CHECK(f.count("PRAGMA user_version") == 3);
  }
  auto reopened = f.reopen();
  CHECK(f.count(lockbox::testing::pg_pass() ? "SELECT version FROM schema_version"
                                            : "PRAGMA user_version") == 4);
  auto old = reopened->get({kProd, "OLD"});
  REQUIRE(old.is_ok());
  CHECK_FALSE(old->rotate_every_ms.has_value());
  auto request = set_request(kProd, "OLD", "new");
  request.rotate_every_ms = kDay;
  REQUIRE(reopened->set(std::move(request)).is_ok());
  CHECK(reopened->get({kProd, "OLD"})->rotate_every_ms == kDay);
}
