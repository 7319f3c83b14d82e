// SqliteBackend: connection, schema, transactions, meta, keyring, audit and token rows.
// Secret, version and quarantine rows are in sqlite_rows.cpp.
#include "store/sqlite/sqlite_backend.hpp"

#include <fmt/format.h>

#include "store/sqlite/schema.hpp"

namespace lockbox::store::sqlite {
namespace {

constexpr const char* kKeyColumns =
    "SELECT key_id, purpose, state, kek_generation, wrapped, created_at, encryptions, reserved, "
    "max_encryptions FROM keyring ";

KeyRow read_key(const Statement& st) {
  KeyRow k;
  k.key_id = static_cast<std::uint32_t>(st.int64(0));
  k.purpose = st.text(1);
  k.state = st.text(2);
  k.kek_generation = static_cast<std::uint32_t>(st.int64(3));
  if (!st.is_null(4)) k.wrapped = Bytes(st.blob(4).begin(), st.blob(4).end());
  k.created_at = st.int64(5);
  k.encryptions = st.int64(6);
  k.reserved = st.int64(7);
  k.max_encryptions = st.int64(8);
  return k;
}

constexpr const char* kTokenColumns =
    "SELECT id, name, role, created_at, created_by, expires_at, revoked_at, secret_hash, "
    "hash_scheme, "
    "row_mac FROM tokens ";

TokenRow read_token(const Statement& st) {
  TokenRow row{TokenInfo{st.text(0), st.text(1), st.text(2), st.int64(3), st.text(4),
                         st.optional_int64(5), st.optional_int64(6)},
               Bytes(st.blob(7).begin(), st.blob(7).end()), static_cast<int>(st.int64(8)),
               std::nullopt};
  if (!st.is_null(9)) row.row_mac = Bytes(st.blob(9).begin(), st.blob(9).end());
  return row;
}

// Copies a stored MAC; false when the column does not hold exactly 32 bytes.
bool copy_mac(ByteView stored, Mac& out) {
  if (stored.size() != out.size()) return false;
  std::copy(stored.begin(), stored.end(), out.begin());
  return true;
}

Status insert_meta_value(Db& db, std::string_view key, const auto& value) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)"));
  st.bind(1, key);
  if constexpr (std::is_same_v<std::decay_t<decltype(value)>, Bytes>) {
    st.bind_blob(2, value);
  } else {
    st.bind(2, value);
  }
  return st.run();
}

}  // namespace

SqliteBackend::SqliteBackend(Db db) : db_(std::move(db)) {}

Result<std::unique_ptr<SqliteBackend>> SqliteBackend::open(const std::filesystem::path& path,
                                                           bool create,
                                                           std::int64_t busy_timeout_ms,
                                                           int wal_autocheckpoint_pages) {
  LOCKBOX_ASSIGN_OR_RETURN(Db db, Db::open(path, create, busy_timeout_ms));
  // WAL is persistent in the file: set once at creation, never on the launch path.
  if (create) LOCKBOX_TRY(db.exec("PRAGMA journal_mode=WAL"));
  // Every lockbox process is usually the store's only connection, so each open replays the WAL
  // (recovery reads every frame). A small auto-checkpoint bounds that to ~256 KiB; the sync a
  // checkpoint costs is paid by one write in a few dozen instead of by every process exit.
  LOCKBOX_TRY(db.exec(
      fmt::format("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; "
                  "PRAGMA wal_autocheckpoint={}; PRAGMA journal_size_limit=1048576",
                  wal_autocheckpoint_pages)
          .c_str()));
  return std::unique_ptr<SqliteBackend>(new SqliteBackend(std::move(db)));
}

// ---- schema and transactions ----

Result<int> SqliteBackend::schema_version() {
  return sqlite::schema_version(db_);
}
int SqliteBackend::latest_schema_version() const {
  return kSchemaVersion;
}
Status SqliteBackend::create_schema() {
  return sqlite::migrate(db_);
}
Status SqliteBackend::migrate() {
  return sqlite::migrate(db_);
}

Status SqliteBackend::begin(TxMode mode) {
  // Launch and resolve records may use synchronous=NORMAL (SPEC §6): durable across a process
  // crash, not necessarily across a power loss. Set outside the transaction, as SQLite requires.
  if (mode == TxMode::kWriteRelaxed) LOCKBOX_TRY(db_.exec("PRAGMA synchronous=NORMAL"));
  const Status begun = db_.exec(mode == TxMode::kRead ? "BEGIN DEFERRED" : "BEGIN IMMEDIATE");
  if (!begun.is_ok()) {
    if (mode == TxMode::kWriteRelaxed) (void)db_.exec("PRAGMA synchronous=FULL");
    return begun;
  }
  mode_ = mode;
  in_tx_ = true;
  return Status::ok();
}

Status SqliteBackend::commit() {
  LOCKBOX_TRY(db_.exec("COMMIT"));
  in_tx_ = false;
  if (mode_ == TxMode::kWriteRelaxed) LOCKBOX_TRY(db_.exec("PRAGMA synchronous=FULL"));
  return Status::ok();
}

void SqliteBackend::rollback() {
  if (!in_tx_) return;
  (void)db_.exec("ROLLBACK");  // fails harmlessly when SQLite already rolled back by itself
  in_tx_ = false;
  if (mode_ == TxMode::kWriteRelaxed) (void)db_.exec("PRAGMA synchronous=FULL");
  if (mode_ != TxMode::kRead && rollback_hook_) rollback_hook_();
}

void SqliteBackend::set_rollback_hook(std::function<void()> hook) {
  rollback_hook_ = std::move(hook);
}

Status SqliteBackend::maintenance() {
  return db_.exec("PRAGMA wal_checkpoint(PASSIVE)");
}

Status SqliteBackend::compact() {
  // Move zeroed or rewritten pages into the database file and truncate the WAL, so old frames
  // (e.g. a purged ciphertext) do not linger and later opens need not replay them.
  return db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
}

// ---- meta ----

Result<MetaRow> SqliteBackend::read_meta() {
  MetaRow meta;
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT key, value FROM meta"));
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) break;
    const std::string key = st.text(0);
    if (key == "store_id") meta.store_id.assign(st.blob(1).begin(), st.blob(1).end());
    if (key == "key_kind") meta.key_kind = st.text(1);
    if (key == "kdf_salt") meta.kdf_salt.assign(st.blob(1).begin(), st.blob(1).end());
    if (key == "kdf_iterations") meta.kdf_iterations = st.int64(1);
    if (key == "created_at") meta.created_at = st.int64(1);
  }
  return meta;
}

Status SqliteBackend::insert_meta(const MetaRow& meta) {
  LOCKBOX_TRY(insert_meta_value(db_, "store_id", meta.store_id));
  LOCKBOX_TRY(insert_meta_value(db_, "change_counter", std::int64_t{0}));
  LOCKBOX_TRY(insert_meta_value(db_, "created_at", meta.created_at));
  LOCKBOX_TRY(insert_meta_value(db_, "key_kind", std::string_view(meta.key_kind)));
  if (meta.key_kind == "passphrase") {
    LOCKBOX_TRY(insert_meta_value(db_, "kdf_salt", meta.kdf_salt));
    LOCKBOX_TRY(insert_meta_value(db_, "kdf_iterations", meta.kdf_iterations));
  }
  return Status::ok();
}

// ---- master keys and keyring ----

Result<std::vector<MasterKeyRow>> SqliteBackend::master_keys() {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.borrow("SELECT generation, kcv, state, created_at FROM master_keys ORDER BY generation"));
  std::vector<MasterKeyRow> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
    if (!row) return out;
    out.push_back({static_cast<std::uint32_t>(st->int64(0)),
                   Bytes(st->blob(1).begin(), st->blob(1).end()), st->text(2), st->int64(3)});
  }
}

Status SqliteBackend::insert_master_key(const MasterKeyRow& row) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.prepare(
          "INSERT INTO master_keys(generation, kcv, state, created_at) VALUES (?, ?, ?, ?)"));
  st.bind(1, std::int64_t{row.generation})
      .bind_blob(2, row.kcv)
      .bind(3, row.state)
      .bind(4, row.created_at);
  return st.run();
}

Status SqliteBackend::set_master_key_state(std::uint32_t generation, std::string_view state) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st,
                           db_.prepare("UPDATE master_keys SET state = ? WHERE generation = ?"));
  st.bind(1, state).bind(2, std::int64_t{generation});
  return st.run();
}

Result<std::optional<KeyRow>> SqliteBackend::key(std::uint32_t key_id) {
  static constexpr const char* kSql =
      "SELECT key_id, purpose, state, kek_generation, wrapped, created_at, encryptions, reserved, "
      "max_encryptions FROM keyring WHERE key_id = ?";
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow(kSql));
  st->bind(1, std::int64_t{key_id});
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<KeyRow>();
  return std::optional<KeyRow>(read_key(*st));
}

Result<std::vector<KeyRow>> SqliteBackend::keys(std::string_view purpose) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare(std::string(kKeyColumns) +
                                                "WHERE ?1 = '' OR purpose = ?1 ORDER BY key_id"));
  st.bind(1, purpose);
  std::vector<KeyRow> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return out;
    out.push_back(read_key(st));
  }
}

Result<std::optional<KeyRow>> SqliteBackend::active_key(std::string_view purpose) {
  static constexpr const char* kSql =
      "SELECT key_id, purpose, state, kek_generation, wrapped, created_at, encryptions, reserved, "
      "max_encryptions FROM keyring WHERE purpose = ? AND state = 'active'";
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow(kSql));
  st->bind(1, purpose);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<KeyRow>();
  return std::optional<KeyRow>(read_key(*st));
}

Result<std::optional<std::uint32_t>> SqliteBackend::max_key_id(std::int64_t lo, std::int64_t hi) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.prepare("SELECT max(key_id) FROM keyring WHERE key_id >= ? AND key_id < ?"));
  st.bind(1, lo).bind(2, hi);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
  if (!row || st.is_null(0)) return std::optional<std::uint32_t>();
  return std::optional<std::uint32_t>(static_cast<std::uint32_t>(st.int64(0)));
}

Status SqliteBackend::insert_key(const KeyRow& row) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st,
                           db_.prepare("INSERT INTO keyring(key_id, purpose, state, "
                                       "kek_generation, wrapped, created_at, max_encryptions) "
                                       "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  st.bind(1, std::int64_t{row.key_id})
      .bind(2, row.purpose)
      .bind(3, row.state)
      .bind(4, std::int64_t{row.kek_generation})
      .bind(6, row.created_at)
      .bind(7, row.max_encryptions);
  if (row.wrapped) {
    st.bind_blob(5, *row.wrapped);
  } else {
    st.bind_null(5);
  }
  return st.run();
}

Status SqliteBackend::set_key_state(std::uint32_t key_id, std::string_view state) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.borrow("UPDATE keyring SET state = ?, row_rev = row_rev + 1 WHERE key_id = ?"));
  st->bind(1, state).bind(2, std::int64_t{key_id});
  return st->run();
}

Status SqliteBackend::destroy_key(std::uint32_t key_id) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE keyring SET state = 'destroyed', wrapped = "
                                                "NULL, row_rev = row_rev + 1 WHERE key_id = ?"));
  st.bind(1, std::int64_t{key_id});
  return st.run();
}

Status SqliteBackend::set_key_wrapping(std::uint32_t key_id, std::uint32_t generation,
                                       ByteView wrapped) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow("UPDATE keyring SET wrapped = ?, kek_generation = "
                                               "?, row_rev = row_rev + 1 WHERE key_id = ?"));
  st->bind_blob(1, wrapped).bind(2, std::int64_t{generation}).bind(3, std::int64_t{key_id});
  return st->run();
}

Result<bool> SqliteBackend::reserve_encryptions(std::uint32_t key_id, std::int64_t expected,
                                                std::int64_t granted) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.borrow("UPDATE keyring SET reserved = reserved + ? WHERE key_id = ? AND reserved = ?"));
  st->bind(1, granted).bind(2, std::int64_t{key_id}).bind(3, expected);
  LOCKBOX_TRY(st->run());
  return db_.changes() == 1;
}

Status SqliteBackend::count_encryptions(std::uint32_t key_id, std::int64_t n) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.borrow("UPDATE keyring SET encryptions = encryptions + ? WHERE key_id = ?"));
  st->bind(1, n).bind(2, std::int64_t{key_id});
  return st->run();
}

Result<std::map<std::uint32_t, std::int64_t>> SqliteBackend::versions_per_key() {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.prepare(
          "SELECT key_id, count(*) FROM versions WHERE key_id IS NOT NULL GROUP BY key_id"));
  std::map<std::uint32_t, std::int64_t> counts;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return counts;
    counts[static_cast<std::uint32_t>(st.int64(0))] = st.int64(1);
  }
}

Result<std::vector<std::uint32_t>> SqliteBackend::retire_unused_keys() {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.prepare(
          "UPDATE keyring SET state = 'retired', row_rev = row_rev + 1 WHERE purpose = 'data' AND "
          "state = 'decrypt_only' AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.key_id = "
          "keyring.key_id) RETURNING key_id"));
  std::vector<std::uint32_t> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return out;
    out.push_back(static_cast<std::uint32_t>(st.int64(0)));
  }
}

// ---- audit ----

Result<std::optional<Backend::AuditTail>> SqliteBackend::audit_tail() {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.borrow("SELECT seq, entry_mac FROM audit ORDER BY seq DESC LIMIT 1"));
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<AuditTail>();
  return std::optional<AuditTail>(
      AuditTail{st->int64(0), Bytes(st->blob(1).begin(), st->blob(1).end())});
}

Status SqliteBackend::insert_audit(const AuditRecord& r) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.borrow(
          "INSERT INTO audit(seq, ts, actor, action, target, outcome, detail, prev_mac, entry_mac) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  st->bind(1, r.seq)
      .bind(2, r.ts)
      .bind(3, r.actor)
      .bind(4, r.action)
      .bind(5, r.target)
      .bind(6, r.outcome)
      .bind(7, r.detail)
      .bind_blob(8, r.prev_mac)
      .bind_blob(9, r.entry_mac);
  return st->run();
}

Status SqliteBackend::scan_audit(const AuditFilter& filter, const AuditVisitor& visit) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.prepare(
          "SELECT seq, ts, actor, action, target, outcome, detail, prev_mac, entry_mac FROM audit "
          "WHERE (?1 IS NULL OR ts >= ?1) AND (?2 IS NULL OR action = ?2) AND (?3 IS NULL OR "
          "target = ?3) "
          "ORDER BY seq"));
  st.bind_optional(1, filter.since);
  if (filter.action) {
    st.bind(2, *filter.action);
  } else {
    st.bind_null(2);
  }
  if (filter.target) {
    st.bind(3, *filter.target);
  } else {
    st.bind_null(3);
  }
  // One statement reads one snapshot: records committed during the walk are not visited.
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return Status::ok();
    AuditRecord r;
    r.seq = st.int64(0);
    r.ts = st.int64(1);
    r.actor = st.text(2);
    r.action = st.text(3);
    r.target = st.text(4);
    r.outcome = st.text(5);
    r.detail = st.text(6);
    const bool prev_ok = copy_mac(st.blob(7), r.prev_mac);
    const bool entry_ok = copy_mac(st.blob(8), r.entry_mac);
    LOCKBOX_TRY(visit(r, prev_ok && entry_ok));
  }
}

// ---- tokens ----

Result<std::optional<TokenRow>> SqliteBackend::token(std::string_view id) {
  static constexpr const char* kSql =
      "SELECT id, name, role, created_at, created_by, expires_at, revoked_at, secret_hash, "
      "hash_scheme, "
      "row_mac FROM tokens WHERE id = ?";
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow(kSql));
  st->bind(1, id);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<TokenRow>();
  return std::optional<TokenRow>(read_token(*st));
}

Result<bool> SqliteBackend::live_token_named(std::string_view name) {
  LOCKBOX_ASSIGN_OR_RETURN(auto token, live_token_by_name(name));
  return token.has_value();
}

Result<std::optional<TokenRow>> SqliteBackend::live_token_by_name(std::string_view name) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.prepare(std::string(kTokenColumns) + "WHERE name = ? AND revoked_at IS NULL"));
  st.bind(1, name);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
  if (!row) return std::optional<TokenRow>();
  return std::optional<TokenRow>(read_token(st));
}

Status SqliteBackend::insert_token(const TokenRow& row) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.prepare("INSERT INTO tokens(id, name, role, secret_hash, created_at, "
                           "created_by, expires_at, revoked_at, "
                           "hash_scheme, row_mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  const TokenInfo& t = row.info;
  st.bind(1, t.id)
      .bind(2, t.name)
      .bind(3, t.role)
      .bind_blob(4, row.secret_hash)
      .bind(5, t.created_at)
      .bind(6, t.created_by)
      .bind_optional(7, t.expires_at)
      .bind_optional(8, t.revoked_at)
      .bind(9, std::int64_t{row.hash_scheme});
  if (row.row_mac) {
    st.bind_blob(10, *row.row_mac);
  } else {
    st.bind_null(10);
  }
  return st.run();
}

Status SqliteBackend::set_token_revoked(std::string_view id, UnixMillis at, ByteView row_mac) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.prepare("UPDATE tokens SET revoked_at = ?, row_mac = ? WHERE id = ?"));
  st.bind(1, at).bind_blob(2, row_mac).bind(3, id);
  return st.run();
}

Status SqliteBackend::set_token_mac(std::string_view id, ByteView row_mac) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE tokens SET row_mac = ? WHERE id = ?"));
  st.bind_blob(1, row_mac).bind(2, id);
  return st.run();
}

Result<std::vector<TokenRow>> SqliteBackend::tokens() {
  LOCKBOX_ASSIGN_OR_RETURN(auto st,
                           db_.prepare(std::string(kTokenColumns) + "ORDER BY created_at, rowid"));
  std::vector<TokenRow> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return out;
    out.push_back(read_token(st));
  }
}

}  // namespace lockbox::store::sqlite
