// Row integrity on PostgreSQL rows (issue 11 item 6, SPEC §17): the raw-edit tests of the SQLite
// suite that edit with SQLite-only SQL (tests/store/sqlite/row_integrity_test.cpp and
// token_integrity_test.cpp, tagged [sqlite]), written again for the PostgreSQL schema and run on a
// fresh database of the cluster LOCKBOX_TEST_PG_URL names. The edits that are the same SQL on both
// (head rollback, un-tombstone, unexpire, a deleted narrow-scope row, token role, revocation and
// expiry) already run on PostgreSQL in the store suite's [pg] pass. Plus the import's batched
// writes (pipelined statements, coalesced scope rows and encryption counts): counts right, all or
// nothing.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "tests/store/postgres/pg_test_support.hpp"
#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using lockbox::testing::set_request;
using lockbox::testing::StoreFixture;
using lockbox::testing::pg::check_refused;
using lockbox::testing::pg::put;

namespace {

const Scope kProd = Scope::ns("production");
const Scope kFn = Scope::function("production", "fn");
const Scope kOther = Scope::ns("staging");

std::vector<store::ImportEntry> entries(const std::string& prefix, int n,
                                        const std::string& value) {
  std::vector<store::ImportEntry> out;
  for (int i = 0; i < n; ++i)
    out.push_back({fmt::format("{}_{}", prefix, i), SecretValue(value + std::to_string(i))});
  return out;
}

}  // namespace

TEST_CASE("postgresql: inserting a secret row into a scope is detected when the scope is read",
          "[pg][integrity]") {
  StoreFixture f;
  REQUIRE(lockbox::testing::pg_pass());
  put(*f.store, kProd, "A", "v");
  put(*f.store, kOther, "B", "w");
  f.sql(
      "INSERT INTO secrets(scope, name, uid, head_version, created_at, row_mac) SELECT "
      "'namespace:staging', "
      "name, decode(md5(random()::text), 'hex'), head_version, created_at, row_mac FROM secrets "
      "WHERE name = 'A'; "
      "INSERT INTO versions(secret_id, version, tombstone, key_id, envelope, fingerprint, "
      "description, tags, "
      "metadata, expires_at, created_at, actor, row_rev, row_mac) SELECT (SELECT max(id) FROM "
      "secrets), version, "
      "tombstone, key_id, envelope, fingerprint, description, tags, metadata, expires_at, "
      "created_at, actor, "
      "row_rev, row_mac FROM versions WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A' "
      "AND "
      "scope = 'namespace:production')");
  check_refused(f.store->heads_in_scopes({kOther}), "scope namespace:staging");
  CHECK(f.store->heads_in_scopes({kProd}).is_ok());
}

TEST_CASE("postgresql: every column of a scope row, and the chain, is checked", "[pg][integrity]") {
  StoreFixture f;
  REQUIRE(lockbox::testing::pg_pass());
  put(*f.store, kFn, "A", "v");
  put(*f.store, kProd, "B", "w");
  Scope probe = kProd;
  const std::string where = " WHERE scope = 'namespace:production'";
  SECTION("members") {
    f.sql("UPDATE scopes SET members = members + 1" + where);
  }
  SECTION("digest") {
    f.sql("UPDATE scopes SET digest = decode(repeat('00', 32), 'hex')" + where);
  }
  SECTION("next") {
    f.sql("UPDATE scopes SET next = 'namespace:q'" + where);
  }
  SECTION("change_counter") {
    f.sql("UPDATE scopes SET change_counter = 0" + where);
  }
  SECTION("row_mac of another scope") {
    f.sql("UPDATE scopes SET row_mac = (SELECT row_mac FROM scopes WHERE scope = '')" + where);
  }
  SECTION("the scope row deleted") {
    f.sql("DELETE FROM scopes" + where);
  }
  SECTION("the sentinel deleted") {
    f.sql("DELETE FROM scopes WHERE scope = ''");
    probe = Scope::apikey("k1");
  }
  CHECK_FALSE(f.store->heads_in_scopes({probe}).is_ok());
  CHECK_FALSE(f.reopen()->heads_in_scopes({probe}).is_ok());
  CHECK_FALSE(f.store->list({}).is_ok());
  CHECK_FALSE(f.store->set(set_request(probe, "C", "x")).is_ok());
}

TEST_CASE("postgresql: the change counter can be neither forged nor set back", "[pg][integrity]") {
  StoreFixture f;
  REQUIRE(lockbox::testing::pg_pass());
  put(*f.store, kProd, "A", "v1");
  const std::int64_t before = *f.store->change_counter();
  SECTION("set to a value no write produced") {
    f.sql("UPDATE meta SET num = num + 100 WHERE key = 'change_counter'");
    check_refused(f.store->change_counter(), "change counter");
    check_refused(f.store->set(set_request(kProd, "A", "v2")), "change counter");
  }
  SECTION("replayed with its old MAC after a write: the serving engine sees it go back") {
    // Kept outside the lockbox schema, where an extra table would be refused at open.
    f.sql("CREATE TABLE public.keep AS SELECT * FROM meta WHERE key LIKE 'change_counter%'");
    put(*f.store, kProd, "A", "v2");
    CHECK(*f.store->change_counter() == before + 1);
    f.sql(
        "INSERT INTO meta SELECT * FROM public.keep ON CONFLICT (key) DO UPDATE SET num = "
        "excluded.num, "
        "bin = excluded.bin; DROP TABLE public.keep");
    check_refused(f.store->change_counter(), "went back");
    auto fresh = f.reopen();
    REQUIRE(fresh->heads_in_scopes({kProd}).is_ok());
    check_refused(fresh->change_counter(), "went back");
  }
}

TEST_CASE("postgresql: a trigger, view, table or index lockbox did not create is refused at open",
          "[pg][integrity]") {
  StoreFixture f;
  REQUIRE(lockbox::testing::pg_pass());
  put(*f.store, kProd, "A", "v");
  f.store.reset();
  SECTION("trigger") {
    f.sql(
        "CREATE FUNCTION public.keep_old() RETURNS trigger LANGUAGE plpgsql AS $$BEGIN RETURN OLD; "
        "END$$; "
        "CREATE TRIGGER keep_old BEFORE UPDATE ON secrets FOR EACH ROW EXECUTE FUNCTION "
        "public.keep_old()");
  }
  SECTION("view") {
    f.sql("CREATE VIEW v AS SELECT * FROM secrets");
  }
  SECTION("table") {
    f.sql("CREATE TABLE stash(x int)");
  }
  SECTION("index") {
    f.sql("CREATE INDEX extra ON versions(actor)");
  }
  auto opened = f.try_open(7);
  REQUIRE_FALSE(opened.is_ok());
  CHECK(opened.status().code() == StatusCode::kIntegrity);
}

TEST_CASE("postgresql: a token whose MAC, hash scheme or hash is edited is refused",
          "[pg][integrity]") {
  StoreFixture f;
  REQUIRE(lockbox::testing::pg_pass());
  auto t = f.store->create_token("ci", "reader", std::nullopt);
  REQUIRE(t.is_ok());
  SECTION("MAC cleared") {
    f.sql("UPDATE tokens SET row_mac = NULL");
  }
  SECTION("MAC zeroed") {
    f.sql("UPDATE tokens SET row_mac = decode(repeat('00', 32), 'hex')");
  }
  SECTION("scheme set to legacy") {
    f.sql("UPDATE tokens SET hash_scheme = 1");
  }
  SECTION("secret hash replaced") {
    f.sql("UPDATE tokens SET secret_hash = decode(repeat('00', 32), 'hex')");
  }
  const auto r = f.store->authenticate_token(t->token.reveal());
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::kDenied);
}

TEST_CASE(
    "postgresql: a batched import counts right, and a failure among its queued writes writes "
    "nothing",
    "[pg][import]") {
  StoreFixture f;
  REQUIRE(lockbox::testing::pg_pass());
  const auto data_encryptions = [&] {
    return f.count("SELECT sum(encryptions) FROM keyring WHERE purpose = 'data'");
  };
  // More rows than one pipeline holds (256 statements), so several flushes happen mid-import.
  auto first = f.store->import(kProd, entries("OLD", 600, "v1-"));
  REQUIRE(first.is_ok());
  CHECK(first->created == 600);
  CHECK(data_encryptions() == 600);
  CHECK(f.count("SELECT members FROM scopes WHERE scope = 'namespace:production'") == 600);
  REQUIRE(f.reopen()->heads_in_scopes({kProd})->size() == 600);
  const std::int64_t audit_before = f.count("SELECT count(*) FROM audit");
  const std::int64_t counter_before = *f.store->change_counter();

  // 300 new secrets first (their writes queue and succeed), then updates to version 2, which a
  // constraint refuses: the error comes back from a queued INSERT, after hundreds of others.
  f.sql("ALTER TABLE versions ADD CONSTRAINT only_v1 CHECK (version < 2)");
  const auto batch = [] {
    auto out = entries("NEW", 300, "n-");
    for (auto& e : entries("OLD", 600, "v2-")) out.push_back(std::move(e));
    return out;
  };
  auto failed = f.store->import(kProd, batch());
  REQUIRE_FALSE(failed.is_ok());
  CHECK(f.count("SELECT count(*) FROM secrets WHERE name LIKE 'NEW%'") == 0);
  CHECK(f.count("SELECT count(*) FROM versions") == 600);
  CHECK(f.count("SELECT count(*) FROM audit") == audit_before);
  CHECK(f.count("SELECT members FROM scopes WHERE scope = 'namespace:production'") == 600);
  CHECK(data_encryptions() == 600);
  // The same engine (its coalesced rows dropped with the rollback) and a new one read it intact.
  CHECK(*f.store->change_counter() == counter_before);
  REQUIRE(f.store->heads_in_scopes({kProd})->size() == 600);
  REQUIRE(f.reopen()->heads_in_scopes({kProd})->size() == 600);
  CHECK(f.store->reveal({kProd, "OLD_599"})->value.reveal() == "v1-599");

  f.sql("ALTER TABLE versions DROP CONSTRAINT only_v1");
  auto second = f.store->import(kProd, batch());
  REQUIRE(second.is_ok());
  CHECK(second->created == 300);
  CHECK(second->updated == 600);
  CHECK(data_encryptions() == 1500);
  CHECK(f.count("SELECT members FROM scopes WHERE scope = 'namespace:production'") == 900);
  auto fresh = f.reopen();
  REQUIRE(fresh->heads_in_scopes({kProd})->size() == 900);
  CHECK(fresh->reveal({kProd, "OLD_599"})->value.reveal() == "v2-599");
  CHECK(fresh->reveal({kProd, "NEW_299"})->value.reveal() == "n-299");
  auto verified = fresh->verify_audit(std::nullopt);
  REQUIRE(verified.is_ok());
  CHECK_FALSE(verified->first_bad_seq.has_value());
}
