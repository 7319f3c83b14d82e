#include "tests/store/sqlite/legacy_store.hpp"

#include <fmt/format.h>

#include <catch2/catch.hpp>

#include "core/random.hpp"
#include "store/crypto.hpp"
#include "store/envelope.hpp"
#include "store/key_schedule.hpp"

namespace lockbox::testing {
namespace {

std::string hex_of(store::ByteView bytes) {
  std::string out;
  for (std::uint8_t b : bytes) out += fmt::format("{:02x}", b);
  return out;
}

store::Bytes blob(const StoreFixture& f, const std::string& query) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(f.db_path().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(st) == SQLITE_ROW);
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(st, 0));
  store::Bytes out(p, p + sqlite3_column_bytes(st, 0));
  sqlite3_finalize(st);
  sqlite3_close(db);
  return out;
}

// Wraps the key of `purpose` again under `new_id` (the id is bound into the wrapping).
void move_key(StoreFixture& f, const SecureKey& kek, const store::Bytes& store_id,
              const char* purpose, std::uint32_t new_id) {
  const auto old_id = static_cast<std::uint32_t>(f.count(fmt::format(
      "SELECT key_id FROM keyring WHERE purpose = '{}' AND state = 'active'", purpose)));
  const store::Bytes wrapped =
      blob(f, fmt::format("SELECT wrapped FROM keyring WHERE key_id = {}", old_id));
  auto key = store::open_wrapped_key(kek, 1, purpose, old_id, store_id, wrapped);
  REQUIRE(key.is_ok());
  OsRandom random;
  auto again = store::wrap_key(kek, 1, purpose, new_id, store_id, *key, random);
  REQUIRE(again.is_ok());
  f.sql(fmt::format("UPDATE keyring SET key_id = {}, wrapped = X'{}' WHERE key_id = {}", new_id,
                    hex_of(*again), old_id));
}

}  // namespace

void make_legacy(StoreFixture& f, const std::vector<std::string>& tokens) {
  f.store.reset();
  const store::Bytes store_id = blob(f, "SELECT value FROM meta WHERE key = 'store_id'");
  auto kek = store::derive_kek(test_master_key(), store_id, 1);
  REQUIRE(kek.is_ok());
  constexpr std::uint32_t kOldAudit = 0x80000001;  // kServiceKeyIds + 1, created before fingerprint
  move_key(f, *kek, store_id, "fingerprint", 0x80000002);
  move_key(f, *kek, store_id, "audit", kOldAudit);
  for (const std::string& token : tokens) {
    const std::string id = token.substr(4, 16);
    const std::string secret = token.substr(21);
    const store::Mac digest = store::sha256(store::as_bytes(secret));
    f.sql(fmt::format("UPDATE tokens SET hash_scheme = 1, secret_hash = X'{}' WHERE id = '{}'",
                      hex_of(digest), id));
  }
  f.sql(
      "DELETE FROM meta WHERE key = 'change_counter_mac'; DROP TABLE scopes; "
      "DROP INDEX tokens_live_name; "
      "ALTER TABLE tokens DROP COLUMN row_mac; ALTER TABLE tokens DROP COLUMN hash_scheme; "
      "CREATE UNIQUE INDEX tokens_live_name ON tokens(name) WHERE revoked_at IS NULL; "
      "ALTER TABLE secrets DROP COLUMN row_mac; ALTER TABLE versions DROP COLUMN row_mac; "
      "ALTER TABLE versions DROP COLUMN rotate_every; ALTER TABLE versions DROP COLUMN "
      "notify_before; "
      "PRAGMA user_version = 2;");
}

}  // namespace lockbox::testing
