// Rows around the ciphertexts are authenticated (SPEC §17): someone who can edit the store file
// but has no master key cannot roll a secret back, undelete, unexpire, hide a narrow-scope secret
// so a launch falls through to a broader one, pin the change counter, or plant a trigger. Each
// case edits the raw database, then proves lockbox refuses instead of serving the edited answer.
#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "tests/store/sqlite/legacy_store.hpp"

using namespace lockbox;
using lockbox::testing::set_request;
using lockbox::testing::StoreFixture;

namespace {

const Scope kProd = Scope::ns("production");
const Scope kFn = Scope::function("production", "fn");
const Scope kOther = Scope::ns("staging");

void put(store::Store& s, const Scope& scope, const std::string& name, const std::string& value,
         std::optional<UnixMillis> expires_at = std::nullopt) {
  store::SetRequest r = set_request(scope, name, value);
  r.expires_at = expires_at;
  REQUIRE(s.set(std::move(r)).is_ok());
}

// kIntegrity, with a message naming `what`.
template <typename R>
void check_refused(const R& result, const std::string& what) {
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == StatusCode::kIntegrity);
  INFO(result.status().message());
  CHECK(result.status().message().find(what) != std::string::npos);
}

std::int64_t secret_id(const StoreFixture& f, const Scope& scope, const std::string& name) {
  return f.count(fmt::format("SELECT id FROM secrets WHERE scope = '{}' AND name = '{}'",
                             scope.address(), name));
}

}  // namespace

TEST_CASE("a head version edited back is exit 5 for that secret and stops a walk of its scope",
          "[store][integrity]") {
  StoreFixture f;
  put(*f.store, kProd, "A", "old");
  put(*f.store, kProd, "A", "new");
  put(*f.store, kOther, "B", "b");
  f.sql("UPDATE secrets SET head_version = 1 WHERE name = 'A'");
  check_refused(f.store->get({kProd, "A"}, std::nullopt), "namespace:production/A");
  check_refused(f.store->reveal({kProd, "A"}), "namespace:production/A");
  check_refused(f.store->heads_in_scopes({kProd}), "scope namespace:production");
  check_refused(f.store->set(set_request(kProd, "A", "x")), "namespace:production/A");
  // The others stay readable.
  CHECK(f.store->reveal({kOther, "B"}).is_ok());
  CHECK(f.store->heads_in_scopes({kOther}).is_ok());
}

TEST_CASE("clearing a tombstone or an expiry does not undelete or unexpire", "[store][integrity]") {
  StoreFixture f;
  put(*f.store, kProd, "GONE", "v");
  REQUIRE(f.store->remove({kProd, "GONE"}).is_ok());
  put(*f.store, kProd, "EXPIRING", "v", f.clock.now() - 1000);
  const std::int64_t gone = secret_id(f, kProd, "GONE");
  SECTION("tombstone cleared, with the old value's envelope") {
    f.sql(fmt::format(
        "UPDATE versions SET tombstone = 0, key_id = (SELECT key_id FROM versions WHERE "
        "secret_id = {0} AND version = 1), envelope = (SELECT envelope FROM versions WHERE "
        "secret_id = {0} AND version = 1), fingerprint = (SELECT fingerprint FROM versions "
        "WHERE secret_id = {0} AND version = 1) WHERE secret_id = {0} AND version = 2",
        gone));
    check_refused(f.store->get({kProd, "GONE"}, std::nullopt), "namespace:production/GONE@v2");
  }
  SECTION("expiry cleared") {
    f.sql("UPDATE versions SET expires_at = NULL WHERE expires_at IS NOT NULL");
    check_refused(f.store->get({kProd, "EXPIRING"}, std::nullopt),
                  "namespace:production/EXPIRING@v1");
  }
  SECTION("expiry moved later") {
    f.sql("UPDATE versions SET expires_at = expires_at + 86400000 WHERE expires_at IS NOT NULL");
  }
  check_refused(f.store->heads_in_scopes({kProd}), "namespace:production/");
  check_refused(f.store->list({}), "namespace:production/");
}

TEST_CASE("every column a version's MAC covers is checked", "[store][integrity]") {
  StoreFixture f;
  store::SetRequest r = set_request(kProd, "A", "v");
  r.description = "primary";
  r.tags = std::vector<std::string>{"db"};
  r.metadata = std::map<std::string, std::string>{{"owner", "team-a"}};
  REQUIRE(f.store->set(std::move(r)).is_ok());
  put(*f.store, kProd, "B", "w");  // B@v1 has empty tags and metadata: valid cells to copy
  const std::int64_t b = secret_id(f, kProd, "B");
  const std::string where = fmt::format(" WHERE secret_id = {}", secret_id(f, kProd, "A"));
  SECTION("description") {
    f.sql("UPDATE versions SET description = 'x'" + where);
  }
  SECTION("tags") {
    f.sql(fmt::format("UPDATE versions SET tags = (SELECT tags FROM versions WHERE secret_id = {})",
                      b) +
          where);
  }
  SECTION("metadata") {
    f.sql(fmt::format(
              "UPDATE versions SET metadata = (SELECT metadata FROM versions WHERE secret_id = {})",
              b) +
          where);
  }
  SECTION("fingerprint") {
    f.sql(fmt::format("UPDATE versions SET fingerprint = (SELECT fingerprint FROM versions WHERE "
                      "secret_id = {})",
                      b) +
          where);
  }
  SECTION("created_at") {
    f.sql("UPDATE versions SET created_at = created_at + 1" + where);
  }
  SECTION("actor") {
    f.sql("UPDATE versions SET actor = 'someone'" + where);
  }
  SECTION("row_mac cleared") {
    f.sql("UPDATE versions SET row_mac = NULL" + where);
  }
  SECTION("row_mac copied from B") {
    f.sql(fmt::format(
              "UPDATE versions SET row_mac = (SELECT row_mac FROM versions WHERE secret_id = {})",
              b) +
          where);
  }
  check_refused(f.store->get({kProd, "A"}, std::nullopt), "namespace:production/A@v1");
  check_refused(f.store->history({kProd, "A"}), "namespace:production/A@v1");
  CHECK(f.store->get({kProd, "B"}, std::nullopt).is_ok());
}

TEST_CASE("every column a head's MAC covers is checked", "[store][integrity]") {
  StoreFixture f;
  put(*f.store, kProd, "A", "v");
  put(*f.store, kProd, "B", "w");
  SECTION("created_at") {
    f.sql("UPDATE secrets SET created_at = created_at + 1 WHERE name = 'A'");
  }
  SECTION("row_mac cleared") {
    f.sql("UPDATE secrets SET row_mac = NULL WHERE name = 'A'");
  }
  SECTION("row_mac of B") {
    f.sql(
        "UPDATE secrets SET row_mac = (SELECT row_mac FROM secrets WHERE name = 'B') WHERE name = "
        "'A'");
  }
  SECTION("names swapped") {
    f.sql(
        "UPDATE secrets SET name = 'T' WHERE name = 'A'; UPDATE secrets SET name = 'A' WHERE name "
        "= 'B'; "
        "UPDATE secrets SET name = 'B' WHERE name = 'T'");
  }
  check_refused(f.store->get({kProd, "A"}, std::nullopt), "namespace:production/A");
}

TEST_CASE("deleting a narrow-scope secret does not let a walk fall through to the broader one",
          "[store][integrity]") {
  StoreFixture f;
  put(*f.store, kFn, "DB", "narrow");
  put(*f.store, kProd, "DB", "broad");
  REQUIRE(f.store->heads_in_scopes({kFn, kProd}).is_ok());
  SECTION("the secret's rows") {
    f.sql("DELETE FROM secrets WHERE scope = 'function:production/fn'");
  }
  SECTION("the secret's rows and its scope row") {
    f.sql(
        "DELETE FROM secrets WHERE scope = 'function:production/fn'; "
        "DELETE FROM scopes WHERE scope = 'function:production/fn'");
  }
  SECTION("its head version row") {
    f.sql(fmt::format("DELETE FROM versions WHERE secret_id = {}", secret_id(f, kFn, "DB")));
  }
  SECTION("moved to another scope") {
    f.sql(
        "UPDATE secrets SET scope = 'function:production/other' WHERE scope = "
        "'function:production/fn'");
  }
  check_refused(f.store->heads_in_scopes({kFn, kProd}), "scope function:production/fn");
  check_refused(f.store->list({}), "function:production/");
}

TEST_CASE("inserting a secret row into a scope is detected when the scope is read",
          "[store][integrity][sqlite]") {
  StoreFixture f;
  put(*f.store, kProd, "A", "v");
  put(*f.store, kOther, "B", "w");
  // A copy of production/A's rows planted in staging, where a launch would now find it.
  f.sql(
      "INSERT INTO secrets(scope, name, uid, head_version, created_at, row_mac) SELECT "
      "'namespace:staging', "
      "name, randomblob(16), head_version, created_at, row_mac FROM secrets WHERE name = 'A'; "
      "INSERT INTO versions SELECT (SELECT max(id) FROM secrets), version, tombstone, key_id, "
      "envelope, "
      "fingerprint, description, tags, metadata, expires_at, created_at, actor, row_rev, row_mac, "
      "rotate_every, "
      "notify_before FROM "
      "versions WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A' AND scope = "
      "'namespace:production')");
  check_refused(f.store->heads_in_scopes({kOther}), "scope namespace:staging");
  CHECK(f.store->heads_in_scopes({kProd}).is_ok());
}

TEST_CASE("every column of a scope row, and the chain, is checked", "[store][integrity][sqlite]") {
  StoreFixture f;
  put(*f.store, kFn, "A", "v");
  put(*f.store, kProd, "B", "w");
  Scope probe = kProd;
  SECTION("members") {
    f.sql("UPDATE scopes SET members = members + 1 WHERE scope = 'namespace:production'");
  }
  SECTION("digest") {
    f.sql("UPDATE scopes SET digest = zeroblob(32) WHERE scope = 'namespace:production'");
  }
  SECTION("next") {
    f.sql("UPDATE scopes SET next = 'namespace:q' WHERE scope = 'namespace:production'");
  }
  SECTION("change_counter") {
    f.sql("UPDATE scopes SET change_counter = 0 WHERE scope = 'namespace:production'");
  }
  SECTION("row_mac of another scope") {
    f.sql(
        "UPDATE scopes SET row_mac = (SELECT row_mac FROM scopes WHERE scope = '') "
        "WHERE scope = 'namespace:production'");
  }
  SECTION("the sentinel deleted") {
    // Only a scope before the first real one is proved absent by the sentinel.
    f.sql("DELETE FROM scopes WHERE scope = ''");
    probe = Scope::apikey("k1");
  }
  CHECK_FALSE(f.store->heads_in_scopes({probe}).is_ok());
  CHECK_FALSE(f.store->list({}).is_ok());
  CHECK_FALSE(f.store->set(set_request(probe, "C", "x")).is_ok());
}

TEST_CASE("purge takes a secret out of its scope, and the scope row stays for the chain",
          "[store][integrity]") {
  StoreFixture f;
  put(*f.store, kProd, "A", "v");
  REQUIRE(f.store->purge({kProd, "A"}).is_ok());
  CHECK(f.store->heads_in_scopes({kProd})->empty());
  CHECK(f.count("SELECT members FROM scopes WHERE scope = 'namespace:production'") == 0);
  f.sql("DELETE FROM scopes WHERE scope = 'namespace:production'");
  check_refused(f.reopen()->heads_in_scopes({kProd}), "scope namespace:production");
}

TEST_CASE("the change counter can be neither forged nor set back", "[store][integrity][sqlite]") {
  StoreFixture f;
  put(*f.store, kProd, "A", "v1");
  const std::int64_t before = *f.store->change_counter();
  SECTION("set to a value no write produced") {
    f.sql("UPDATE meta SET value = value + 100 WHERE key = 'change_counter'");
    check_refused(f.store->change_counter(), "change counter");
    check_refused(f.store->set(set_request(kProd, "A", "v2")), "change counter");
  }
  SECTION("replayed with its old MAC after a write: the serving engine sees it go back") {
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(f.db_path().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db,
                         "CREATE TABLE keep AS SELECT * FROM meta WHERE key LIKE 'change_counter%'",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    put(*f.store, kProd, "A", "v2");
    CHECK(*f.store->change_counter() == before + 1);
    REQUIRE(sqlite3_exec(db, "INSERT OR REPLACE INTO meta SELECT * FROM keep; DROP TABLE keep",
                         nullptr, nullptr, nullptr) == SQLITE_OK);
    sqlite3_close(db);
    check_refused(f.store->change_counter(), "went back");
    // A new engine that reads the scope written at before + 1 knows it too.
    auto fresh = f.reopen();
    REQUIRE(fresh->heads_in_scopes({kProd}).is_ok());
    check_refused(fresh->change_counter(), "went back");
  }
}

TEST_CASE("a trigger, view, table or index lockbox did not create is refused at open",
          "[store][integrity][sqlite]") {
  StoreFixture f;
  put(*f.store, kProd, "A", "v");
  f.store.reset();
  std::string object;
  SECTION("trigger") {
    f.sql("CREATE TRIGGER keep_old AFTER UPDATE ON secrets BEGIN SELECT 1; END");
    object = "trigger";
  }
  SECTION("view") {
    f.sql("CREATE VIEW v AS SELECT * FROM secrets");
    object = "view";
  }
  SECTION("table") {
    f.sql("CREATE TABLE stash(x)");
    object = "table";
  }
  SECTION("index") {
    f.sql("CREATE INDEX extra ON versions(actor)");
    object = "index";
  }
  auto opened = f.try_open(7);
  check_refused(opened, object);
}

TEST_CASE("a store from before row authentication is migrated once, and then edits are caught",
          "[store][integrity][sqlite]") {
  StoreFixture f;
  put(*f.store, kFn, "A", "narrow");
  put(*f.store, kProd, "A", "broad");
  put(*f.store, kProd, "B", "b1");
  put(*f.store, kProd, "B", "b2");
  REQUIRE(f.store->remove({kProd, "B"}).is_ok());
  put(*f.store, kOther, "E", "e", f.clock.now() + 60'000);
  const std::int64_t counter = *f.store->change_counter();
  testing::make_legacy(f);
  auto store = f.reopen();
  CHECK(f.count("PRAGMA user_version") == 4);
  CHECK(*store->change_counter() == counter);
  CHECK(store->heads_in_scopes({kFn, kProd, kOther})->size() == 3);
  CHECK(store->list({})->size() == 3);
  CHECK(store->history({kProd, "B"})->size() == 3);
  CHECK(store->reveal({kFn, "A"})->value.reveal() == "narrow");
  CHECK(store->verify_audit(std::nullopt)->first_bad_seq == std::nullopt);
  CHECK(f.count("SELECT count(*) FROM audit WHERE action = 'store.migrate'") == 1);
  // Writes after the migration keep every MAC current; edits are caught as in a new store.
  put(*store, kProd, "C", "c");
  put(*store, Scope::group("g1"), "G", "g");
  CHECK(store->list({})->size() == 5);
  store.reset();
  (void)f.reopen();  // no second migration
  CHECK(f.count("SELECT count(*) FROM audit WHERE action = 'store.migrate'") == 1);
  f.sql("DELETE FROM secrets WHERE scope = 'function:production/fn'");
  check_refused(f.reopen()->heads_in_scopes({kFn, kProd}), "scope function:production/fn");
}
