#include "tests/store/sqlite/store_fixture.hpp"

#include <catch2/catch.hpp>

#include <vector>

namespace lockbox::testing {

SecureKey test_master_key(std::uint8_t seed) {
  std::vector<std::uint8_t> bytes(32);
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] = static_cast<std::uint8_t>(seed + i * 3);
  return SecureKey(bytes);
}

store::MasterKey master_key_from(const SecureKey& key, const std::string& source) {
  store::MasterKey mk;
  mk.kind = store::MasterKeyKind::kKey;
  mk.key = key.clone();
  mk.source = source;
  return mk;
}

StoreFixture::StoreFixture() {
  options.data_dir = dir.path();
  options.actor = "tester";
  options.clock = &clock;
  options.busy_timeout_ms = 2000;
  auto created = store::Store::create(options, master_key_from(test_master_key()));
  REQUIRE(created.is_ok());
  store = std::move(created).value();
}

Result<std::unique_ptr<store::Store>> StoreFixture::try_open(std::uint8_t seed) {
  return store::Store::open(options, master_key_from(test_master_key(seed)));
}

std::unique_ptr<store::Store> StoreFixture::reopen(std::uint8_t seed) {
  auto opened = try_open(seed);
  REQUIRE(opened.is_ok());
  return std::move(opened).value();
}

void StoreFixture::sql(const std::string& statement) const {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path().c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* err = nullptr;
  const int rc = sqlite3_exec(db, statement.c_str(), nullptr, nullptr, &err);
  const std::string message = err != nullptr ? err : "";
  sqlite3_free(err);
  sqlite3_close(db);
  INFO(message);
  REQUIRE(rc == SQLITE_OK);
}

std::int64_t StoreFixture::count(const std::string& query) const {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, query.c_str(), -1, &st, nullptr) == SQLITE_OK);
  std::int64_t n = -1;
  if (sqlite3_step(st) == SQLITE_ROW) n = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n;
}

std::string StoreFixture::all_file_bytes() const {
  std::string all;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir.path())) {
    if (entry.is_regular_file()) all += read_file(entry.path());
  }
  return all;
}

store::SetRequest set_request(const Scope& scope, const std::string& name, const std::string& value) {
  store::SetRequest r;
  r.address = {scope, name};
  r.value = SecretValue(value);
  return r;
}

}  // namespace lockbox::testing
