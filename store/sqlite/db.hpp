#pragma once
// Private to lockbox_store: a thin RAII layer over the SQLite C API. Bound parameters only; every
// SQLite error becomes a Status through sqlite_error(); SQLITE_BUSY after the busy timeout becomes
// kRuntime "store busy", never a user-visible "database is locked".
// Thread-safety: one Db per thread.

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.hpp"
#include "store/bytes.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace lockbox::store::sqlite {

class Statement {
 public:
  Statement() = default;
  Statement(sqlite3* db, sqlite3_stmt* stmt) : db_(db), stmt_(stmt) {}
  ~Statement();
  Statement(Statement&& other) noexcept;
  Statement& operator=(Statement&& other) noexcept;
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  // Parameters are 1-based, as in SQLite.
  Statement& bind(int index, std::int64_t value);
  Statement& bind(int index, std::string_view text);
  Statement& bind_blob(int index, ByteView blob);
  Statement& bind_null(int index);
  Statement& bind_optional(int index, const std::optional<std::int64_t>& value);

  // true when a row is available, false when done.
  Result<bool> step();
  // Steps to completion, expecting no row.
  Status run();
  void reset();

  [[nodiscard]] bool is_null(int col) const;
  [[nodiscard]] std::int64_t int64(int col) const;
  [[nodiscard]] std::string text(int col) const;
  [[nodiscard]] ByteView blob(int col) const;
  [[nodiscard]] std::optional<std::int64_t> optional_int64(int col) const;

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* stmt_ = nullptr;
};

// A cached statement borrowed for one use: reset (bindings cleared, read snapshot released) when
// the borrow ends, on every return path, so no early return can leave a statement mid-step.
class Borrowed {
 public:
  explicit Borrowed(Statement* stmt) : stmt_(stmt) {}
  ~Borrowed() {
    if (stmt_ != nullptr) stmt_->reset();
  }
  Borrowed(Borrowed&& other) noexcept : stmt_(other.stmt_) { other.stmt_ = nullptr; }
  Borrowed& operator=(Borrowed&&) = delete;
  Borrowed(const Borrowed&) = delete;
  Borrowed& operator=(const Borrowed&) = delete;
  Statement* operator->() const { return stmt_; }
  Statement& operator*() const { return *stmt_; }

 private:
  Statement* stmt_;
};

class Db {
 public:
  Db() = default;
  ~Db();
  Db(Db&& other) noexcept;
  Db& operator=(Db&& other) noexcept;
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;

  // Opens `path` read-write; with `create`, creates it (mode 0600 via umask 077, so the -wal and
  // -shm files are private too). Without `create`, a missing file is kRuntime "no store at PATH".
  static Result<Db> open(const std::filesystem::path& path, bool create, std::int64_t busy_timeout_ms);

  Status exec(const char* sql);
  Result<Statement> prepare(std::string_view sql);
  // A prepared statement kept for the connection's life (reset, bindings cleared); for statements
  // run many times, e.g. per row of an import. The pointer stays valid until the Db is destroyed.
  Result<Statement*> cached(const char* sql);
  // cached(), borrowed: reset automatically when the Borrowed goes out of scope.
  Result<Borrowed> borrow(const char* sql);
  [[nodiscard]] std::int64_t last_insert_rowid() const;
  [[nodiscard]] int changes() const;
  [[nodiscard]] sqlite3* handle() const { return db_; }
  // Calls fn(arg) whenever a transaction of this connection rolls back (sqlite3_rollback_hook).
  void set_rollback_hook(void (*fn)(void*), void* arg);

 private:
  explicit Db(sqlite3* db) : db_(db) {}
  void close();
  sqlite3* db_ = nullptr;
  std::map<const char*, std::unique_ptr<Statement>> cache_;  // keyed by the literal's address
};

// A BEGIN IMMEDIATE transaction that rolls back unless committed.
class Transaction {
 public:
  static Result<std::unique_ptr<Transaction>> begin(Db& db);
  ~Transaction();
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Status commit();

 private:
  explicit Transaction(Db& db) : db_(&db) {}
  Db* db_;
  bool done_ = false;
};

// The Status for the last error on `db` during `context`.
Status sqlite_error(sqlite3* db, std::string_view context);

}  // namespace lockbox::store::sqlite
