#pragma once
// A fresh SQLite store in a temp dir, with a fixed master key and an injectable clock.

#include <sqlite3.h>

#include <memory>
#include <string>

#include "core/clock.hpp"
#include "store/store.hpp"
#include "tests/support/temp_dir.hpp"

namespace lockbox::testing {

SecureKey test_master_key(std::uint8_t seed = 7);
store::MasterKey master_key_from(const SecureKey& key, const std::string& source = "test key");

struct StoreFixture {
  StoreFixture();
  // Opens the existing store again (a new process would do the same).
  std::unique_ptr<store::Store> reopen(std::uint8_t seed = 7);
  Result<std::unique_ptr<store::Store>> try_open(std::uint8_t seed);
  [[nodiscard]] std::filesystem::path db_path() const { return dir.path() / "lockbox.db"; }
  // Runs SQL directly on the database file (to tamper, inspect, or hold a lock).
  void sql(const std::string& statement) const;
  [[nodiscard]] std::int64_t count(const std::string& query) const;
  // Every byte of every file in the data dir, concatenated (for canary searches).
  [[nodiscard]] std::string all_file_bytes() const;

  TempDir dir;
  FakeClock clock{1'767'225'600'000};  // 2026-01-01T00:00:00Z
  store::StoreOptions options;
  std::unique_ptr<store::Store> store;
};

store::SetRequest set_request(const Scope& scope, const std::string& name, const std::string& value);

}  // namespace lockbox::testing
