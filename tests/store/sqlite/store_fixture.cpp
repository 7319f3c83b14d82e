#include "tests/store/sqlite/store_fixture.hpp"

#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>
#include <vector>

namespace lockbox::testing {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// The [pg] pass without a cluster: skipped, visibly (ctest SKIP_RETURN_CODE 77).
const bool kSkipWithoutCluster = [] {
  if (env_or_empty("LOCKBOX_TEST_BACKEND") == "postgresql" &&
      env_or_empty("LOCKBOX_TEST_PG_URL").empty()) {
    std::fputs(
        "SKIP: LOCKBOX_TEST_PG_URL is not set (scripts/test.sh starts a PostgreSQL cluster)\n",
        stderr);
    std::_Exit(77);
  }
  return true;
}();

// Runs `statement` on database `db`; returns the first cell ("" when none). REQUIREs success.
std::string pg_exec(const std::string& db, const std::string& statement) {
  PGconn* conn = PQconnectdb((env_or_empty("LOCKBOX_TEST_PG_URL") + "/" + db).c_str());
  INFO(PQerrorMessage(conn));
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PGresult* r = PQexec(conn, statement.c_str());
  const ExecStatusType st = PQresultStatus(r);
  INFO(statement << ": " << PQresultErrorMessage(r));
  std::string first;
  if (st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0 && !PQgetisnull(r, 0, 0))
    first = PQgetvalue(r, 0, 0);
  PQclear(r);
  PQfinish(conn);
  REQUIRE((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK));
  return first;
}

std::mutex registry_mutex;
std::map<std::string, std::string>& registry() {
  static std::map<std::string, std::string> boxes;
  return boxes;
}

}  // namespace

std::string pg_database_of(const std::filesystem::path& db_path) {
  const std::lock_guard lock(registry_mutex);
  const auto it = registry().find(db_path.string());
  return it == registry().end() ? std::string() : it->second;
}

std::vector<std::vector<std::string>> pg_rows(const std::string& db, const std::string& query) {
  PGconn* conn = PQconnectdb((env_or_empty("LOCKBOX_TEST_PG_URL") + "/" + db).c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PGresult* r = PQexec(conn, ("SET search_path = lockbox; " + query).c_str());
  const ExecStatusType st = PQresultStatus(r);
  INFO(query << ": " << PQresultErrorMessage(r));
  std::vector<std::vector<std::string>> out;
  for (int i = 0; st == PGRES_TUPLES_OK && i < PQntuples(r); ++i) {
    std::vector<std::string> row;
    for (int c = 0; c < PQnfields(r); ++c) {
      std::string cell = PQgetisnull(r, i, c) ? "NULL" : PQgetvalue(r, i, c);
      if (PQftype(r, c) == 17 && cell.starts_with("\\x")) cell = cell.substr(2);  // bytea
      row.push_back(std::move(cell));
    }
    out.push_back(std::move(row));
  }
  PQclear(r);
  PQfinish(conn);
  REQUIRE(st == PGRES_TUPLES_OK);
  return out;
}

bool pg_pass() {
  return env_or_empty("LOCKBOX_TEST_BACKEND") == "postgresql";
}

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
  if (pg_pass()) {
    static std::atomic<int> counter{0};
    pg_db = "lbf_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    pg_exec("postgres", "DROP DATABASE IF EXISTS " + pg_db);
    pg_exec("postgres", "CREATE DATABASE " + pg_db);
    options.url = env_or_empty("LOCKBOX_TEST_PG_URL") + "/" + pg_db;
    const std::lock_guard lock(registry_mutex);
    registry()[db_path().string()] = pg_db;
  }
  auto created = store::Store::create(options, master_key_from(test_master_key()));
  INFO(created.status().message());
  REQUIRE(created.is_ok());
  store = std::move(created).value();
}

StoreFixture::~StoreFixture() {
  store.reset();
  if (pg_db.empty()) return;
  {
    const std::lock_guard lock(registry_mutex);
    registry().erase(db_path().string());
  }
  PGconn* conn = PQconnectdb((env_or_empty("LOCKBOX_TEST_PG_URL") + "/postgres").c_str());
  PQclear(PQexec(conn, ("DROP DATABASE IF EXISTS " + pg_db + " WITH (FORCE)").c_str()));
  PQfinish(conn);
}

Result<std::unique_ptr<store::Store>> StoreFixture::try_open(std::uint8_t seed) {
  return store::Store::open(options, master_key_from(test_master_key(seed)));
}

std::unique_ptr<store::Store> StoreFixture::reopen(std::uint8_t seed) {
  auto opened = try_open(seed);
  INFO(opened.status().message());
  REQUIRE(opened.is_ok());
  return std::move(opened).value();
}

void StoreFixture::sql(const std::string& statement) const {
  if (!pg_db.empty()) {
    pg_exec(pg_db, "SET search_path = lockbox; " + statement);
    return;
  }
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
  if (!pg_db.empty()) {
    const std::string first = pg_exec(pg_db, "SET search_path = lockbox; " + query);
    return first.empty() ? -1 : std::stoll(first);
  }
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

store::SetRequest set_request(const Scope& scope, const std::string& name,
                              const std::string& value) {
  store::SetRequest r;
  r.address = {scope, name};
  r.value = SecretValue(value);
  return r;
}

}  // namespace lockbox::testing
