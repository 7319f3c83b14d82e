// The store contract on PostgreSQL (SPEC §11, §17): a fresh database per test on the cluster
// LOCKBOX_TEST_PG_URL names (scripts/pg-cluster.sh). Without it the binary exits 77 (ctest SKIP).
// Concurrent writers through separate connections, and tamper tests on every cell of the rows
// that decide what is served.
#include <catch2/catch.hpp>
#include <libpq-fe.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <thread>
#include <vector>

#include "store/internal/backend.hpp"
#include "tests/store/sqlite/store_fixture.hpp"

using namespace lockbox;
using lockbox::testing::master_key_from;
using lockbox::testing::set_request;
using lockbox::testing::test_master_key;

namespace {

std::string base_url() {
  const char* url = std::getenv("LOCKBOX_TEST_PG_URL");
  return url == nullptr ? std::string() : std::string(url);
}

const bool kSkipWithoutCluster = [] {
  const char* backend = std::getenv("LOCKBOX_TEST_BACKEND");
  if (backend != nullptr && std::string(backend) == "postgresql" && base_url().empty()) {
    std::fputs("SKIP: LOCKBOX_TEST_PG_URL is not set (scripts/test.sh starts a PostgreSQL cluster)\n", stderr);
    std::_Exit(77);
  }
  return true;
}();

std::string sql(const std::string& db, const std::string& statement) {
  PGconn* conn = PQconnectdb((base_url() + "/" + db).c_str());
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PGresult* r = PQexec(conn, statement.c_str());
  const ExecStatusType st = PQresultStatus(r);
  INFO(statement << ": " << PQresultErrorMessage(r));
  std::string first;
  if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) first = PQgetvalue(r, 0, 0);
  PQclear(r);
  PQfinish(conn);
  REQUIRE((st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK));
  return first;
}

struct PgFixture {
  PgFixture() {
    static std::atomic<int> counter{0};
    db = "lbs_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
    sql("postgres", "DROP DATABASE IF EXISTS " + db);
    sql("postgres", "CREATE DATABASE " + db);
    options.url = base_url() + "/" + db;
    options.actor = "tester";
    options.busy_timeout_ms = 20000;
    auto created = store::Store::create(options, master_key_from(test_master_key()));
    INFO(created.status().message());
    REQUIRE(created.is_ok());
    store = std::move(created).value();
  }
  ~PgFixture() {
    store.reset();
    PGconn* conn = PQconnectdb((base_url() + "/postgres").c_str());
    PQclear(PQexec(conn, ("DROP DATABASE IF EXISTS " + db + " WITH (FORCE)").c_str()));
    PQfinish(conn);
  }
  Result<std::unique_ptr<store::Store>> open() const {
    return store::Store::open(options, master_key_from(test_master_key()));
  }
  std::string db;
  store::StoreOptions options;
  std::unique_ptr<store::Store> store;
};

const Scope kProd = Scope::ns("prod");

}  // namespace

TEST_CASE("a postgresql store keeps versions, tokens and one verifiable audit chain", "[pg]") {
  PgFixture f;
  REQUIRE(f.store->set(set_request(kProd, "DB_URL", "one")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "DB_URL", "two")).is_ok());
  auto reopened = f.open();
  REQUIRE(reopened.is_ok());
  auto revealed = (*reopened)->reveal({kProd, "DB_URL"});
  REQUIRE(revealed.is_ok());
  CHECK(revealed->value.reveal() == "two");
  CHECK(revealed->meta.version == 2);
  CHECK((*reopened)->history({kProd, "DB_URL"})->size() == 2);
  auto token = (*reopened)->create_token("ci", "reader", std::nullopt);
  REQUIRE(token.is_ok());
  CHECK(f.store->authenticate_token(token->token.reveal()).is_ok());
  REQUIRE(f.store->remove({kProd, "DB_URL"}).is_ok());
  CHECK(f.store->reveal({kProd, "DB_URL"}).status().code() == StatusCode::kNotFound);
  auto verified = f.store->verify_audit(std::nullopt);
  REQUIRE(verified.is_ok());
  CHECK_FALSE(verified->first_bad_seq.has_value());
  CHECK(verified->records >= 5);
}

TEST_CASE("concurrent writers on postgresql each get their own version and the audit chain stays one", "[pg]") {
  PgFixture f;
  constexpr int kWriters = 4;
  constexpr int kEach = 10;
  std::vector<std::thread> writers;
  std::atomic<int> failures{0};
  for (int w = 0; w < kWriters; ++w) {
    writers.emplace_back([&f, &failures, w] {
      auto s = f.open();
      if (!s.is_ok()) {
        ++failures;
        return;
      }
      for (int i = 0; i < kEach; ++i) {
        if (!(*s)->set(set_request(kProd, "SHARED", "w" + std::to_string(w) + "-" + std::to_string(i))).is_ok()) {
          ++failures;
        }
      }
    });
  }
  for (auto& t : writers) t.join();
  CHECK(failures == 0);
  auto history = f.store->history({kProd, "SHARED"});
  REQUIRE(history.is_ok());
  REQUIRE(history->size() == kWriters * kEach);
  for (std::size_t i = 0; i < history->size(); ++i) CHECK((*history)[i].version == static_cast<std::int64_t>(i + 1));
  for (std::int64_t v = 1; v <= kWriters * kEach; ++v) CHECK(f.store->decrypt({kProd, "SHARED"}, v).is_ok());
  auto verified = f.store->verify_audit(std::nullopt);
  REQUIRE(verified.is_ok());
  CHECK_FALSE(verified->first_bad_seq.has_value());
  CHECK(verified->records == kWriters * kEach);
}

TEST_CASE("a postgresql write waits for the store's writer lock, then fails with store busy", "[pg]") {
  PgFixture f;
  f.options.busy_timeout_ms = 200;
  auto s = f.open();
  REQUIRE(s.is_ok());
  PGconn* other = PQconnectdb(f.options.url.c_str());
  REQUIRE(PQstatus(other) == CONNECTION_OK);
  PQclear(PQexec(other, "BEGIN; SELECT pg_advisory_xact_lock(x'6c6f636b626f78'::int8)"));
  const auto busy = (*s)->set(set_request(kProd, "A", "alpha"));
  CHECK(busy.status().code() == StatusCode::kRuntime);
  CHECK(busy.status().message().find("store busy") != std::string::npos);
  PQclear(PQexec(other, "ROLLBACK"));
  PQfinish(other);
  CHECK((*s)->set(set_request(kProd, "A", "alpha")).is_ok());
  CHECK((*s)->history({kProd, "A"})->size() == 1);
}

TEST_CASE("a flipped byte in any cell of the postgresql rows never yields a wrong value or a refused token", "[pg]") {
  PgFixture f;
  REQUIRE(f.store->set(set_request(kProd, "A", "value-a-1")).is_ok());
  REQUIRE(f.store->set(set_request(kProd, "A", "value-a-2")).is_ok());
  REQUIRE(f.store->set(set_request(Scope::global(), "A", "value-global")).is_ok());
  auto token = f.store->create_token("ci", "reader", std::nullopt);
  REQUIRE(token.is_ok());
  // Self-inverse edits: applied once to tamper, once more to restore.
  struct Cell {
    std::string table, column, kind;
  };
  const std::vector<Cell> cells = {
      {"secrets", "scope", "text"},        {"secrets", "name", "text"},          {"secrets", "uid", "bytea"},
      {"secrets", "head_version", "int"},  {"secrets", "row_mac", "bytea"},      {"versions", "version", "int"},
      {"versions", "tombstone", "bool"},   {"versions", "key_id", "int"},        {"versions", "envelope", "bytea"},
      {"versions", "tags", "bytea"},       {"versions", "metadata", "bytea"},    {"versions", "expires_at", "int"},
      {"versions", "row_mac", "bytea"},    {"scopes", "members", "int"},         {"scopes", "digest", "bytea"},
      {"scopes", "next", "text"},          {"scopes", "change_counter", "int"},  {"scopes", "row_mac", "bytea"},
      {"tokens", "role", "text"},          {"tokens", "secret_hash", "bytea"},   {"tokens", "revoked_at", "int"},
      {"tokens", "expires_at", "int"},     {"tokens", "row_mac", "bytea"},       {"meta", "num", "int"},
      {"meta", "bin", "bytea"},            {"keyring", "wrapped", "bytea"},      {"master_keys", "kcv", "bytea"},
  };
  for (const Cell& c : cells) {
    const std::string col = c.column;
    std::string edit, undo;
    if (c.kind == "bytea") edit = undo = col + " = set_byte(" + col + ", 0, get_byte(" + col + ", 0) # 1)";
    if (c.kind == "int") {  // NULL <-> a far-future sentinel, otherwise the low bit
      edit = col + " = coalesce(" + col + " # 1, 4102444800000)";
      undo = col + " = CASE WHEN " + col + " = 4102444800000 THEN NULL ELSE " + col + " # 1 END";
    }
    if (c.kind == "bool") edit = undo = col + " = 1 - " + col;
    if (c.kind == "text") {
      edit = col + " = " + col + " || 'x'";
      undo = col + " = left(" + col + ", -1)";
    }
    const std::string where = c.kind == "bytea" ? " WHERE length(" + col + ") > 0" : "";
    DYNAMIC_SECTION(c.table << "." << col) {
      sql(f.db, "UPDATE lockbox." + c.table + " SET " + edit + where);
      auto s = f.open();
      if (s.is_ok()) {
        for (const auto& [scope, value] : {std::pair{kProd, "value-a-2"}, std::pair{Scope::global(), "value-global"}}) {
          auto r = (*s)->reveal({scope, "A"});
          if (r.is_ok()) CHECK(r->value.reveal() == value);  // the right value, or refused
        }
        auto heads = (*s)->heads_in_scopes({kProd, Scope::global()});
        if (heads.is_ok()) {
          for (const auto& m : *heads) {
            auto v = (*s)->decrypt({m.scope, m.name}, m.version);
            if (v.is_ok()) CHECK(v->reveal() == (m.scope == kProd ? "value-a-2" : "value-global"));
          }
        }
        if (c.table == "tokens") CHECK_FALSE((*s)->authenticate_token(token->token.reveal()).is_ok());
      }
      sql(f.db, "UPDATE lockbox." + c.table + " SET " + undo + where);
    }
  }
  auto s = f.open();
  REQUIRE(s.is_ok());
  CHECK((*s)->reveal({kProd, "A"})->value.reveal() == "value-a-2");
}

namespace {

TEST_CASE("a committed write notifies a listening PostgreSQL connection, and wait_for_change wakes on it") {
  PgFixture f;
  auto rows = store::open_backend_rows(f.options, false);
  REQUIRE(rows.is_ok());
  store::Backend& listener = **rows;
  // The first wait subscribes (LISTEN); nothing has been written since, so nothing arrives.
  auto first = listener.wait_for_notification(0);
  REQUIRE(first.is_ok());
  CHECK_FALSE(*first);
  const std::int64_t seen = f.store->change_counter().value();
  REQUIRE(f.store->set(set_request(Scope::global(), "A", "v")).is_ok());
  // The notification was delivered at commit: the wait returns it without polling to its timeout
  // (the polling fallback of a backend without signals returns false).
  auto woke = listener.wait_for_notification(20'000);
  REQUIRE(woke.is_ok());
  CHECK(*woke);
  auto waiter = f.open();
  REQUIRE(waiter.is_ok());
  auto counter = (*waiter)->wait_for_change(seen, 20'000);
  REQUIRE(counter.is_ok());
  CHECK(*counter == seen + 1);
}

}  // namespace

namespace {

// Ends every server session on `db` but the caller's (what a server restart or failover does).
void drop_connections(const std::string& db) {
  sql("postgres", "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" + db +
                      "' AND pid <> pg_backend_pid()");
}

TEST_CASE("a PostgreSQL store whose connection the server dropped reconnects for its next read and write") {
  PgFixture f;
  REQUIRE(f.store->set(set_request(Scope::global(), "A", "before")).is_ok());
  drop_connections(f.db);
  // A read outside a transaction: reconnected and sent again, so it succeeds.
  auto read = f.store->get({Scope::global(), "A"});
  INFO(read.status().message());
  REQUIRE(read.is_ok());
  drop_connections(f.db);
  // A write: BEGIN on the dead connection reconnects; the transaction runs on the new one.
  auto wrote = f.store->set(set_request(Scope::global(), "A", "after"));
  INFO(wrote.status().message());
  REQUIRE(wrote.is_ok());
  CHECK(wrote->meta.version == 2);
  drop_connections(f.db);
  auto counter = f.store->change_counter();
  REQUIRE(counter.is_ok());
  // LISTEN is sent again on the new session: a later write still wakes a waiter.
  auto rows = store::open_backend_rows(f.options, false);
  REQUIRE(rows.is_ok());
  REQUIRE((*rows)->wait_for_notification(0).is_ok());
  drop_connections(f.db);
  // Its session is gone: the wait notices, subscribes again on a new one and reports a possible
  // change (a spurious wake-up is harmless: the engine re-reads the counter).
  auto noticed = (*rows)->wait_for_notification(20'000);
  INFO(noticed.status().message());
  REQUIRE(noticed.is_ok());
  REQUIRE(f.store->set(set_request(Scope::global(), "A", "fourth")).is_ok());
  auto woke = (*rows)->wait_for_notification(20'000);
  REQUIRE(woke.is_ok());
  CHECK(*woke);
}

}  // namespace
