#pragma once
// A fresh store with a fixed master key and an injectable clock: SQLite in a temp dir, or, when
// LOCKBOX_TEST_BACKEND=postgresql (the suite's [pg] pass), a fresh database on the cluster
// LOCKBOX_TEST_PG_URL names (dropped at the end). Tests that read the SQLite file itself are
// tagged [sqlite] and left out of that pass.

#include <sqlite3.h>

#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace lockbox::testing {

SecureKey test_master_key(std::uint8_t seed = 7);
store::MasterKey master_key_from(const SecureKey& key, const std::string& source = "test key");

struct StoreFixture {
  StoreFixture();
  ~StoreFixture();
  StoreFixture(const StoreFixture&) = delete;
  StoreFixture& operator=(const StoreFixture&) = delete;
  // Opens the existing store again (a new process would do the same).
  std::unique_ptr<store::Store> reopen(std::uint8_t seed = 7);
  Result<std::unique_ptr<store::Store>> try_open(std::uint8_t seed);
  [[nodiscard]] std::filesystem::path db_path() const { return dir.path() / "lockbox.db"; }
  // Runs SQL directly on the database (to tamper, inspect, or hold a lock); on PostgreSQL with
  // search_path lockbox, so the table names are the same.
  void sql(const std::string& statement) const;
  [[nodiscard]] std::int64_t count(const std::string& query) const;
  // Every byte of every file in the data dir, concatenated (for canary searches).
  [[nodiscard]] std::string all_file_bytes() const;

  TempDir dir;
  FakeClock clock{1'767'225'600'000};  // 2026-01-01T00:00:00Z
  store::StoreOptions options;
  std::unique_ptr<store::Store> store;
  std::string pg_db;  // the [pg] pass's database ("" on SQLite)
};

// True on the [pg] pass (LOCKBOX_TEST_BACKEND=postgresql).
bool pg_pass();
// The [pg] pass's database behind a live fixture's db_path() ("" for none: a SQLite file).
std::string pg_database_of(const std::filesystem::path& db_path);
// Every row of `query` on database `db` (search_path lockbox), each cell as text: bytea as
// lowercase hex without "\\x", NULL as "NULL" (the form the SQLite helpers use).
std::vector<std::vector<std::string>> pg_rows(const std::string& db, const std::string& query);

store::SetRequest set_request(const Scope& scope, const std::string& name, const std::string& value);

}  // namespace lockbox::testing
