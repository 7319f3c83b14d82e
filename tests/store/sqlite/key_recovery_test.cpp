// Recovery paths of the key lifecycle, each from an attacker-style review: a rolled-back automatic
// rotation must not leave its key cached, the quarantine is re-checked on every re-encryption (a
// restored row or a planted entry is released), versions under a retired key still move, a
// keyring with no nonce budget fails instead of rotating for ever, and a tampered keyring row is
// damage (exit 5), not a master-key problem (exit 4).
#include <sqlite3.h>

#include <catch2/catch.hpp>

#include "tests/store/sqlite/key_test_support.hpp"
#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using namespace lockbox::testing::keys;
using lockbox::testing::set_request;
using lockbox::testing::StoreFixture;

namespace {

// The envelope of `name`'s version as a hex literal, to put it back later.
std::string envelope_literal(const fs::path& db, const std::string& name, std::int64_t version) {
  return "x'" +
         rows(db, "SELECT envelope FROM versions WHERE version = " + std::to_string(version) +
                      " AND secret_id = (SELECT id FROM secrets WHERE name = '" + name + "')")
             .at(0)
             .at(0) +
         "'";
}

}  // namespace

TEST_CASE("a rolled-back automatic rotation leaves no stale data key behind", "[keys]") {
  BudgetStore b(2, 1);
  write(*b.store, "K1", "v1");
  write(*b.store, "K2", "v2");  // key 1's budget is used up: the next encryption rotates
  // The import's second entry is a damaged row: the import, and its rotation to key 2, roll back.
  exec(b.db(), "UPDATE versions SET tags = x'ff' WHERE secret_id = (SELECT id FROM secrets WHERE name = 'K2')");
  std::vector<store::ImportEntry> entries;
  entries.push_back({"NEW", SecretValue("n")});
  entries.push_back({"K2", SecretValue("w")});
  CHECK(b.store->import(kProd, std::move(entries)).status().code() == StatusCode::kIntegrity);
  CHECK(number(b.db(), "SELECT count(*) FROM keyring WHERE purpose = 'data'") == 1);
  // The same store rotates again: key 2 is a new key with new bytes, never the rolled-back one.
  const store::WriteResult after = write(*b.store, "AFTER", "committed-value");
  CHECK(after.meta.key_id == 2);
  auto fresh = b.open();
  const auto value = fresh->decrypt(at("AFTER"), 1);
  INFO(value.status().message());
  REQUIRE(value.is_ok());
  CHECK(value->reveal() == "committed-value");
}

TEST_CASE("a quarantined version restored from a backup is released and re-encrypted", "[keys][sqlite]") {
  StoreFixture f;
  write(*f.store, "A", "alpha");
  write(*f.store, "B", "bravo");
  const std::string backup = envelope_literal(f.db_path(), "A", 1);
  rotate(*f.store);
  damage_envelope(f.db_path(), "A", 1);
  REQUIRE(f.store->reencrypt({}).is_ok());
  REQUIRE(status_of(*f.store).quarantined.size() == 1);
  // Restore the row, then run again: the entry is released, the version moves, key 1 retires.
  exec(f.db_path(), "UPDATE versions SET envelope = " + backup +
                        " WHERE version = 1 AND secret_id = (SELECT id FROM secrets WHERE name = 'A')");
  const auto summary = f.store->reencrypt({});
  REQUIRE(summary.is_ok());
  CHECK(summary->reencrypted == 1);
  const store::KeyStatus status = status_of(*f.store);
  CHECK(status.quarantined.empty());
  CHECK(keyring_of(status) == "1:retired:0 2:active:2");
  CHECK(reveal(*f.reopen(), "A") == "alpha");
}

TEST_CASE("a quarantine entry planted for a healthy version does not pin it", "[keys]") {
  StoreFixture f;
  write(*f.store, "A", "alpha");
  rotate(*f.store);
  exec(f.db_path(), "INSERT INTO quarantine VALUES ((SELECT id FROM secrets WHERE name = 'A'), 1, 1, "
                    "'planted', 0)");
  const auto summary = f.store->reencrypt({});
  REQUIRE(summary.is_ok());
  CHECK(summary->reencrypted == 1);
  CHECK(status_of(*f.store).quarantined.empty());
  CHECK(keyring_of(status_of(*f.store)) == "1:retired:0 2:active:1");
}

TEST_CASE("a version put back under a retired key is re-encrypted again", "[keys][sqlite]") {
  StoreFixture f;
  write(*f.store, "A", "alpha");
  const std::string backup = envelope_literal(f.db_path(), "A", 1);
  rotate(*f.store);
  REQUIRE(f.store->reencrypt({}).is_ok());
  REQUIRE(keyring_of(status_of(*f.store)) == "1:retired:0 2:active:1");
  // A restore from a backup taken before the re-encryption: the row is under key 1 again.
  exec(f.db_path(), "UPDATE versions SET key_id = 1, envelope = " + backup +
                        " WHERE secret_id = (SELECT id FROM secrets WHERE name = 'A')");
  const auto summary = f.store->reencrypt({});
  REQUIRE(summary.is_ok());
  CHECK(summary->reencrypted == 1);
  CHECK(keyring_of(status_of(*f.store)) == "1:retired:0 2:active:1");
  CHECK(reveal(*f.reopen(), "A") == "alpha");
}

TEST_CASE("a keyring whose new data key has no nonce budget fails the write instead of looping",
          "[keys]") {
  BudgetStore b(1, 1);
  write(*b.store, "K1", "v1");  // key 1 is now exhausted
  exec(b.db(), "CREATE TRIGGER no_budget AFTER INSERT ON keyring BEGIN UPDATE keyring SET "
               "max_encryptions = 0 WHERE key_id = NEW.key_id; END;");
  const auto result = b.store->set(set_request(kProd, "K2", "v2"));
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == StatusCode::kIntegrity);
  CHECK(number(b.db(), "SELECT count(*) FROM keyring WHERE purpose = 'data'") == 1);  // rolled back
}

TEST_CASE("a keyring row moved to a generation that does not exist is damage, not a stale key",
          "[keys]") {
  StoreFixture f;
  write(*f.store, "A", "alpha");
  exec(f.db_path(), "UPDATE keyring SET kek_generation = 7 WHERE key_id = 1");
  auto store = f.reopen();
  const auto revealed = store->reveal(at("A"));
  REQUIRE_FALSE(revealed.is_ok());
  CHECK(revealed.status().code() == StatusCode::kIntegrity);
}

TEST_CASE("a passphrase store is not rewrapped to a key: exit 2 and nothing changes", "[keys]") {
  lockbox::testing::TempDir dir;
  FakeClock clock{1'767'225'600'000};
  store::StoreOptions options;
  options.data_dir = dir.path();
  options.actor = "tester";
  options.clock = &clock;
  store::MasterKey passphrase;
  passphrase.kind = store::MasterKeyKind::kPassphrase;
  passphrase.passphrase = SecretValue("correct horse battery staple");
  passphrase.source = "LOCKBOX_MASTER_PASSPHRASE";
  auto created = store::Store::create(options, std::move(passphrase));
  REQUIRE(created.is_ok());
  const fs::path db = dir.path() / "lockbox.db";
  const std::string before = dump(db, "SELECT generation, kcv, state FROM master_keys");
  const auto result = (*created)->rewrap(lockbox::testing::master_key_from(lockbox::testing::test_master_key()));
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == StatusCode::kBadInput);
  CHECK(dump(db, "SELECT generation, kcv, state FROM master_keys") == before);
  CHECK(number(db, "SELECT count(*) FROM audit WHERE action = 'key.rewrap'") == 0);
}
