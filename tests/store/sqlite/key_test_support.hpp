#pragma once
// Helpers shared by the key lifecycle tests (key_lifecycle_test.cpp, key_recovery_test.cpp): read
// the database directly, damage rows, and build stores with a small nonce budget.
#include <sqlite3.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <filesystem>
#include <string>
#include <vector>

#include "store/store.hpp"
#include "tests/store/sqlite/store_fixture.hpp"

namespace lockbox::testing::keys {
using namespace lockbox;
namespace fs = std::filesystem;

inline const Scope kProd = Scope::ns("production");
inline const auto at = [](const std::string& name) { return store::SecretAddress{kProd, name}; };

using Rows = std::vector<std::vector<std::string>>;

// Every row of `query`, each column as text (blobs as hex, NULL as "NULL"), read-only.
inline Rows rows(const fs::path& db, const std::string& query) {
  if (const std::string pg = pg_database_of(db); !pg.empty()) return pg_rows(pg, query);
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr) == SQLITE_OK);
  sqlite3_busy_timeout(h, 10000);
  sqlite3_stmt* st = nullptr;
  const int prepared = sqlite3_prepare_v2(h, query.c_str(), -1, &st, nullptr);
  const std::string error = sqlite3_errmsg(h);
  Rows out;
  int rc = SQLITE_DONE;
  while (prepared == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
    std::vector<std::string> row;
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const int type = sqlite3_column_type(st, c);  // before any conversion
      const auto* p = static_cast<const std::uint8_t*>(
          type == SQLITE_BLOB ? sqlite3_column_blob(st, c) : sqlite3_column_text(st, c));
      const auto n = static_cast<std::size_t>(sqlite3_column_bytes(st, c));
      row.push_back(type == SQLITE_NULL   ? "NULL"
                    : type == SQLITE_BLOB ? store::to_hex({p, n})
                                          : std::string(reinterpret_cast<const char*>(p), n));
    }
    out.push_back(std::move(row));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  INFO(query << ": " << error);
  REQUIRE(prepared == SQLITE_OK);
  REQUIRE(rc == SQLITE_DONE);
  return out;
}

// All rows of `query` as one comparable string.
inline std::string dump(const fs::path& db, const std::string& query) {
  std::string out;
  for (const auto& row : rows(db, query)) {
    for (const auto& column : row) out += column + "|";
    out += "\n";
  }
  return out;
}

inline std::int64_t number(const fs::path& db, const std::string& query) {
  const Rows r = rows(db, query);
  REQUIRE(r.size() == 1);
  return std::stoll(r[0][0]);
}

inline std::int64_t audit_count(const fs::path& db, const std::string& action) {
  return number(db, "SELECT count(*) FROM audit WHERE action = '" + action + "'");
}

inline void exec(const fs::path& db, const std::string& sql) {
  if (const std::string pg = pg_database_of(db); !pg.empty()) {
    pg_rows(pg, sql + "; SELECT 1");
    return;
  }
  sqlite3* h = nullptr;
  REQUIRE(sqlite3_open(db.c_str(), &h) == SQLITE_OK);
  sqlite3_busy_timeout(h, 10000);
  const int rc = sqlite3_exec(h, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(h);
  REQUIRE(rc == SQLITE_OK);
}

// Changes one ciphertext byte (offset 25) of NAME@vVERSION's envelope in place.
inline void damage_envelope(const fs::path& db, const std::string& name, std::int64_t version) {
  const std::string where = " WHERE version = " + std::to_string(version) +
                            " AND secret_id = (SELECT id FROM secrets WHERE name = '" + name + "')";
  std::string hex = rows(db, "SELECT envelope FROM versions" + where).at(0).at(0);
  hex[51] = hex[51] == '0' ? '1' : '0';
  const bool pg = !pg_database_of(db).empty();
  exec(db, "UPDATE versions SET envelope = " + (pg ? "decode('" + hex + "', 'hex')" : "x'" + hex + "'") + where);
}

inline std::string reveal(store::Store& s, const std::string& name) {
  auto r = s.reveal(at(name));
  INFO(name << ": " << r.status().message());
  REQUIRE(r.is_ok());
  return std::string(r->value.reveal());
}

inline std::string decrypted(store::Store& s, const std::string& name, std::int64_t version) {
  auto r = s.decrypt(at(name), version);
  INFO(name << "@v" << version << ": " << r.status().message());
  REQUIRE(r.is_ok());
  return std::string(r->reveal());
}

inline store::WriteResult write(store::Store& s, const std::string& name, const std::string& value) {
  auto r = s.set(set_request(kProd, name, value));
  INFO(name << ": " << r.status().message());
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

inline store::KeyStatus status_of(store::Store& s) {
  auto r = s.key_status();
  REQUIRE(r.is_ok());
  return std::move(r).value();
}

// "VERSION:STATE:VERSIONS_ENCRYPTED" of every data key, e.g. "1:decrypt_only:2 2:active:1".
inline std::string keyring_of(const store::KeyStatus& status) {
  std::string out;
  for (const auto& k : status.keys) {
    out += (out.empty() ? "" : " ") + std::to_string(k.version) + ":" + k.state + ":" +
           std::to_string(k.versions_encrypted);
  }
  return out;
}

inline void rotate(store::Store& s) {
  auto r = s.rotate_data_key(std::nullopt, "test");
  REQUIRE(r.is_ok());
  REQUIRE(r->rotated);
}

// A random source that can be switched to failing (a broken RNG must fail closed).
class SwitchableRandom final : public Random {
 public:
  Status fill(std::span<std::uint8_t> out) override {
    if (failing) return runtime_error("test random source failure");
    return OsRandom::instance().fill(out);
  }
  std::atomic<bool> failing{false};
};

// A store created with a small nonce budget and fixed blocks (StoreFixture's has the default).
struct BudgetStore {
  BudgetStore(std::int64_t budget, std::int64_t block, Random* random = nullptr) {
    options = {dir.path(), "", 2000, "tester", &clock, random, {}, budget, block};
    auto created = store::Store::create(options, master_key_from(test_master_key()));
    REQUIRE(created.is_ok());
    store = std::move(created).value();
  }
  std::unique_ptr<store::Store> open() {
    auto opened = store::Store::open(options, master_key_from(test_master_key()));
    REQUIRE(opened.is_ok());
    return std::move(opened).value();
  }
  [[nodiscard]] fs::path db() const { return dir.path() / "lockbox.db"; }
  // "reserved/encryptions" of data key 1.
  [[nodiscard]] std::string budget() const {
    const Rows r = rows(db(), "SELECT reserved, encryptions FROM keyring WHERE key_id = 1");
    return r.at(0).at(0) + "/" + r.at(0).at(1);
  }

  lockbox::testing::TempDir dir;
  FakeClock clock{1'767'225'600'000};
  store::StoreOptions options;
  std::unique_ptr<store::Store> store;
};

inline const char* const kFingerprints = "SELECT fingerprint FROM versions ORDER BY secret_id, version";
inline const char* const kEveryVersion =
    "SELECT secret_id, version, key_id, envelope, row_rev FROM versions ORDER BY 1, 2";
}  // namespace lockbox::testing::keys
