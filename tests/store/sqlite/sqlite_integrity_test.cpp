// Integrity of the SQLite store: master-key checks, tampered and swapped rows, file hygiene, busy.
#include <sqlite3.h>
#include <sys/stat.h>

#include <catch2/catch.hpp>

#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using lockbox::testing::set_request;
using lockbox::testing::StoreFixture;

namespace {
const Scope kProd = Scope::ns("production");
constexpr const char* kCanary = "canary-9f2c41d7e0b3";

// The database and its WAL, byte for byte. Not the -shm file: it is SQLite's shared-memory index,
// rebuilt by any connection that opens the store (even one that only reads), not store content.
std::string snapshot(const StoreFixture& f) {
  return lockbox::testing::read_file(f.db_path()) + "|" +
         lockbox::testing::read_file(f.db_path().string() + "-wal");
}
}  // namespace

TEST_CASE("a wrong master key is exit 4 and leaves the store byte-identical", "[store][sqlite][crypto]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "K", "v")).is_ok());
  f.store.reset();
  const std::string before = snapshot(f);
  auto wrong = f.try_open(99);
  CHECK(wrong.status().code() == StatusCode::kKey);
  CHECK(wrong.status().message().find("wrong master key") != std::string::npos);
  CHECK(snapshot(f) == before);
}

TEST_CASE("a store created with a key refuses a passphrase", "[store][sqlite][crypto]") {
  StoreFixture f;
  store::MasterKey pass;
  pass.kind = store::MasterKeyKind::kPassphrase;
  pass.passphrase = SecretValue("correct horse battery staple");
  pass.source = "LOCKBOX_MASTER_PASSPHRASE";
  const auto opened = store::Store::open(f.options, std::move(pass));
  CHECK(opened.status().code() == StatusCode::kKey);
  CHECK(opened.status().message().find("passphrase") != std::string::npos);
}

TEST_CASE("a tampered value row is exit 5 naming the secret, others stay readable", "[store][sqlite][crypto]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "VICTIM", "v1")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "BYSTANDER", "fine")).is_ok());
  f.sql("UPDATE versions SET envelope = CAST(substr(envelope, 1, 25) || "
        "CASE WHEN substr(envelope, 26, 1) = x'00' THEN x'01' ELSE x'00' END || substr(envelope, 27) "
        "AS BLOB) WHERE secret_id = (SELECT id FROM secrets WHERE name = 'VICTIM')");
  auto store = f.reopen();
  const auto damaged = store->reveal({kProd, "VICTIM"});
  CHECK(damaged.status().code() == StatusCode::kIntegrity);
  CHECK(damaged.status().message().find("namespace:production/VICTIM@v1") != std::string::npos);
  const auto ok = store->reveal({kProd, "BYSTANDER"});
  REQUIRE(ok.is_ok());
  CHECK(ok->value.reveal() == "fine");
}

TEST_CASE("ciphertexts swapped between secrets or versions fail to decrypt", "[store][sqlite][crypto]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "A", "alpha")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "B", "bravo")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "B", "bravo2")).is_ok());
  SECTION("between secrets") {
    f.sql("UPDATE versions SET envelope = (SELECT envelope FROM versions WHERE secret_id = "
          "(SELECT id FROM secrets WHERE name = 'B') AND version = 1) "
          "WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A')");
    CHECK(f.reopen()->reveal({kProd, "A"}).status().code() == StatusCode::kIntegrity);
  }
  SECTION("between versions of one secret") {
    f.sql("UPDATE versions SET envelope = (SELECT envelope FROM versions v2 WHERE v2.secret_id = "
          "versions.secret_id AND v2.version = 1) WHERE version = 2");
    CHECK(f.reopen()->reveal({kProd, "B"}).status().code() == StatusCode::kIntegrity);
  }
  SECTION("between scopes") {
    f.sql("UPDATE secrets SET scope = 'namespace:staging' WHERE name = 'A'");
    CHECK(f.reopen()->reveal({Scope::ns("staging"), "A"}).status().code() == StatusCode::kIntegrity);
  }
  SECTION("into a secret recreated after a purge") {
    f.sql("CREATE TABLE saved AS SELECT envelope, key_id FROM versions WHERE secret_id = "
          "(SELECT id FROM secrets WHERE name = 'A')");
    REQUIRE(f.store->purge({kProd, "A"}).is_ok());
    REQUIRE(f.store->set(set_request(kProd, "A", "other")).is_ok());
    f.sql("UPDATE versions SET envelope = (SELECT envelope FROM saved) "
          "WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A'); DROP TABLE saved");
    CHECK(f.reopen()->reveal({kProd, "A"}).status().code() == StatusCode::kIntegrity);
  }
}

TEST_CASE("wrapped keys swapped between keyring rows are rejected", "[store][sqlite][crypto]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "A", "alpha")).is_ok());
  f.store.reset();
  f.sql("CREATE TABLE w AS SELECT key_id, wrapped FROM keyring;"
        "UPDATE keyring SET wrapped = (SELECT wrapped FROM w WHERE w.key_id = 1) WHERE purpose = 'fingerprint';");
  const auto opened = f.try_open(7);
  CHECK(opened.status().code() == StatusCode::kIntegrity);
}

TEST_CASE("the database files are private and hold no plaintext", "[store][sqlite]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "CANARY", kCanary)).is_ok());
  auto revealed = f.store->reveal({kProd, "CANARY"});
  REQUIRE(revealed.is_ok());
  for (const char* suffix : {"", "-wal", "-shm"}) {
    struct stat st {};
    const std::string path = f.db_path().string() + suffix;
    REQUIRE(::stat(path.c_str(), &st) == 0);
    INFO(path);
    CHECK((st.st_mode & 0777) == 0600);
  }
  CHECK(f.all_file_bytes().find(kCanary) == std::string::npos);
  CHECK(f.count(std::string("SELECT count(*) FROM audit WHERE instr(detail || target || actor, '") +
                kCanary + "') > 0") == 0);
}

TEST_CASE("creating a store where one exists changes nothing", "[store][sqlite]") {
  StoreFixture f;
  REQUIRE(f.store->set(set_request(kProd, "A", "alpha")).is_ok());
  f.store.reset();
  const std::string before = snapshot(f);
  const auto again = store::Store::create(f.options, lockbox::testing::master_key_from(lockbox::testing::test_master_key()));
  CHECK(again.status().code() == StatusCode::kBadInput);
  CHECK(again.status().message().find("already exists") != std::string::npos);
  CHECK(snapshot(f) == before);
}

TEST_CASE("opening a missing store or an unbuilt backend fails clearly", "[store][sqlite]") {
  lockbox::testing::TempDir dir;
  store::StoreOptions options;
  options.data_dir = dir.path();
  const auto missing = store::Store::open(options, lockbox::testing::master_key_from(lockbox::testing::test_master_key()));
  CHECK(missing.status().code() == StatusCode::kRuntime);
  CHECK(missing.status().message().find("lockbox init") != std::string::npos);
  CHECK_FALSE(std::filesystem::exists(dir.path() / "lockbox.db"));
  // A PostgreSQL server nobody runs: one line naming host, port and database, never the password.
  options.url = "postgresql://u:hunter2@127.0.0.1:1/lockbox";
  const auto pg = store::Store::open(options, lockbox::testing::master_key_from(lockbox::testing::test_master_key()));
  CHECK(pg.status().code() == StatusCode::kRuntime);
  CHECK(pg.status().message().find("host 127.0.0.1 port 1 database lockbox") != std::string::npos);
  CHECK(pg.status().message().find("hunter2") == std::string::npos);
  CHECK(pg.status().message().find('\n') == std::string::npos);
}

TEST_CASE("a write waits for a busy store, then fails with store busy", "[store][sqlite]") {
  StoreFixture f;
  f.options.busy_timeout_ms = 200;
  auto store = f.reopen();
  sqlite3* other = nullptr;
  REQUIRE(sqlite3_open(f.db_path().c_str(), &other) == SQLITE_OK);
  REQUIRE(sqlite3_exec(other, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
  const auto busy = store->set(set_request(kProd, "A", "alpha"));
  CHECK(busy.status().code() == StatusCode::kRuntime);
  CHECK(busy.status().message().find("store busy") != std::string::npos);
  sqlite3_exec(other, "ROLLBACK", nullptr, nullptr, nullptr);
  sqlite3_close(other);
  CHECK(store->set(set_request(kProd, "A", "alpha")).is_ok());
}
