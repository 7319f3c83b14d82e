#include "store/sqlite/db.hpp"

#include <sqlite3.h>
#include <sys/stat.h>

#include <climits>
#include <utility>

namespace lockbox::store::sqlite {

Status sqlite_error(sqlite3* db, std::string_view context) {
  const int code = db != nullptr ? sqlite3_errcode(db) : SQLITE_ERROR;
  const int primary = code & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) {
    return runtime_error("store busy: another lockbox process held it longer than the busy timeout");
  }
  if (primary == SQLITE_CORRUPT || primary == SQLITE_NOTADB) {
    return integrity_error(std::string(context) + ": the database file is damaged");
  }
  // SQLite messages name tables and columns, never bound values.
  const char* msg = db != nullptr ? sqlite3_errmsg(db) : "out of memory";
  return runtime_error(std::string(context) + ": " + msg);
}

Statement::~Statement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

Statement::Statement(Statement&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), stmt_(std::exchange(other.stmt_, nullptr)) {}

Statement& Statement::operator=(Statement&& other) noexcept {
  if (this != &other) {
    if (stmt_ != nullptr) sqlite3_finalize(stmt_);
    db_ = std::exchange(other.db_, nullptr);
    stmt_ = std::exchange(other.stmt_, nullptr);
  }
  return *this;
}

Statement& Statement::bind(int index, std::int64_t value) {
  sqlite3_bind_int64(stmt_, index, value);
  return *this;
}

Statement& Statement::bind(int index, std::string_view text) {
  sqlite3_bind_text64(stmt_, index, text.data(), text.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
  return *this;
}

Statement& Statement::bind_blob(int index, ByteView blob) {
  // A zero-length blob must still be a blob, not NULL: pass a non-null pointer.
  static const std::uint8_t kEmpty = 0;
  sqlite3_bind_blob64(stmt_, index, blob.empty() ? &kEmpty : blob.data(), blob.size(), SQLITE_TRANSIENT);
  return *this;
}

Statement& Statement::bind_null(int index) {
  sqlite3_bind_null(stmt_, index);
  return *this;
}

Statement& Statement::bind_optional(int index, const std::optional<std::int64_t>& value) {
  return value ? bind(index, *value) : bind_null(index);
}

Result<bool> Statement::step() {
  const int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return sqlite_error(db_, "query");
}

Status Statement::run() {
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, step());
  (void)row;
  reset();
  return Status::ok();
}

void Statement::reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
}

bool Statement::is_null(int col) const { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
std::int64_t Statement::int64(int col) const { return sqlite3_column_int64(stmt_, col); }

std::string Statement::text(int col) const {
  const auto* p = reinterpret_cast<const char*>(sqlite3_column_text(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? std::string() : std::string(p, static_cast<std::size_t>(n));
}

ByteView Statement::blob(int col) const {
  const auto* p = static_cast<const std::uint8_t*>(sqlite3_column_blob(stmt_, col));
  const int n = sqlite3_column_bytes(stmt_, col);
  return p == nullptr ? ByteView() : ByteView(p, static_cast<std::size_t>(n));
}

std::optional<std::int64_t> Statement::optional_int64(int col) const {
  if (is_null(col)) return std::nullopt;
  return int64(col);
}

void Db::close() {
  cache_.clear();  // finalize statements before the connection
  if (db_ != nullptr) sqlite3_close_v2(db_);
  db_ = nullptr;
}

Db::~Db() { close(); }

Db::Db(Db&& other) noexcept
    : db_(std::exchange(other.db_, nullptr)), cache_(std::move(other.cache_)) {}

Db& Db::operator=(Db&& other) noexcept {
  if (this != &other) {
    close();
    db_ = std::exchange(other.db_, nullptr);
    cache_ = std::move(other.cache_);
  }
  return *this;
}

Result<Statement*> Db::cached(const char* sql) {
  auto it = cache_.find(sql);
  if (it == cache_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return sqlite_error(db_, "prepare");
    }
    it = cache_.emplace(sql, std::make_unique<Statement>(db_, stmt)).first;
  }
  it->second->reset();
  return it->second.get();
}

Result<Borrowed> Db::borrow(const char* sql) {
  LOCKBOX_ASSIGN_OR_RETURN(Statement * stmt, cached(sql));
  return Borrowed(stmt);
}

Result<Db> Db::open(const std::filesystem::path& path, bool create, std::int64_t busy_timeout_ms) {
  if (!create) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
      return runtime_error("no store at " + path.string() + " (run lockbox init)");
    }
  }
  sqlite3* raw = nullptr;
  const int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX | (create ? SQLITE_OPEN_CREATE : 0);
  const mode_t old_umask = ::umask(077);
  const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
  ::umask(old_umask);
  Db db(raw);
  if (rc != SQLITE_OK) return sqlite_error(raw, "cannot open store " + path.string());
  sqlite3_extended_result_codes(raw, 1);
  // Launch path: keep the -wal file when the last connection closes and do not checkpoint on
  // close. Otherwise every short-lived lockbox process deletes the WAL at exit and the next one
  // re-creates it (a WAL header sync and a directory sync) after a checkpoint (a database sync).
  // Checkpoints still run automatically every 1000 pages, and explicitly after a purge.
  int one = 1;
  sqlite3_file_control(raw, "main", SQLITE_FCNTL_PERSIST_WAL, &one);
  sqlite3_db_config(raw, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
  sqlite3_busy_timeout(raw, static_cast<int>(busy_timeout_ms > INT_MAX ? INT_MAX : busy_timeout_ms));
  return db;
}

Status Db::exec(const char* sql) {
  if (sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) != SQLITE_OK) return sqlite_error(db_, "exec");
  return Status::ok();
}

Result<Statement> Db::prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_prepare_v3(db_, sql.data(), static_cast<int>(sql.size()), 0, &stmt, nullptr) != SQLITE_OK) {
    return sqlite_error(db_, "prepare");
  }
  return Statement(db_, stmt);
}

void Db::set_rollback_hook(void (*fn)(void*), void* arg) { sqlite3_rollback_hook(db_, fn, arg); }

std::int64_t Db::last_insert_rowid() const { return sqlite3_last_insert_rowid(db_); }
int Db::changes() const { return sqlite3_changes(db_); }

Result<std::unique_ptr<Transaction>> Transaction::begin(Db& db) {
  LOCKBOX_TRY(db.exec("BEGIN IMMEDIATE"));
  return std::unique_ptr<Transaction>(new Transaction(db));
}

Transaction::~Transaction() {
  if (!done_) (void)db_->exec("ROLLBACK");
}

Status Transaction::commit() {
  LOCKBOX_TRY(db_->exec("COMMIT"));
  done_ = true;
  return Status::ok();
}

}  // namespace lockbox::store::sqlite
