// PgBackend: connection, schema, transactions, meta, keyring, audit and token rows.
// Secret, version, quarantine and scope rows are in pg_rows.cpp.
#include "store/postgres/pg_backend.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cstdlib>

#include "store/postgres/pg_schema.hpp"

namespace lockbox::store::postgres {
namespace {

// The store-wide writer lock: pg_advisory_xact_lock(kWriterLock), per database ("lockbox").
constexpr std::int64_t kWriterLock = 0x6c6f636b626f78;

#define LOCKBOX_KEY_COLUMNS                                                                     \
  "SELECT key_id, purpose, state, kek_generation, wrapped, created_at, encryptions, reserved, " \
  "max_encryptions FROM lockbox.keyring "

KeyRow read_key(const Rows& r, int i) {
  KeyRow k;
  k.key_id = static_cast<std::uint32_t>(r.i64(i, 0));
  k.purpose = r.text(i, 1);
  k.state = r.text(i, 2);
  k.kek_generation = static_cast<std::uint32_t>(r.i64(i, 3));
  k.wrapped = r.opt_bytes(i, 4);
  k.created_at = r.i64(i, 5);
  k.encryptions = r.i64(i, 6);
  k.reserved = r.i64(i, 7);
  k.max_encryptions = r.i64(i, 8);
  return k;
}

std::optional<KeyRow> first_key(const Rows& r) {
  if (r.size() == 0) return std::nullopt;
  return read_key(r, 0);
}

#define LOCKBOX_TOKEN_COLUMNS                                                            \
  "SELECT id, name, role, created_at, created_by, expires_at, revoked_at, secret_hash, " \
  "hash_scheme, "                                                                        \
  "row_mac FROM lockbox.tokens "

TokenRow read_token(const Rows& r, int i) {
  return TokenRow{TokenInfo{r.text(i, 0), r.text(i, 1), r.text(i, 2), r.i64(i, 3), r.text(i, 4),
                            r.opt_i64(i, 5), r.opt_i64(i, 6)},
                  r.copy(i, 7), static_cast<int>(r.i64(i, 8)), r.opt_bytes(i, 9)};
}

bool copy_mac(ByteView stored, Mac& out) {
  if (stored.size() != out.size()) return false;
  std::copy(stored.begin(), stored.end(), out.begin());
  return true;
}

}  // namespace

PgBackend::PgBackend(std::unique_ptr<Conn> conn) : db_(std::move(conn)) {}

Result<std::unique_ptr<PgBackend>> PgBackend::open(const std::string& url,
                                                   std::int64_t busy_timeout_ms) {
  LOCKBOX_ASSIGN_OR_RETURN(auto conn, Conn::connect(url, busy_timeout_ms));
  return std::unique_ptr<PgBackend>(new PgBackend(std::move(conn)));
}

// ---- schema and transactions ----

Result<int> PgBackend::schema_version() {
  return postgres::schema_version(*db_);
}
int PgBackend::latest_schema_version() const {
  return kPgSchemaVersion;
}
Status PgBackend::create_schema() {
  return postgres::migrate(*db_);
}
Status PgBackend::migrate() {
  return postgres::migrate(*db_);
}
Status PgBackend::verify_schema_objects() {
  return verify_objects(*db_);
}

Status PgBackend::begin_failed(Status status) {
  if (db_->alive()) (void)db_->exec("ROLLBACK");
  return status;
}

Status PgBackend::begin(TxMode mode) {
  if (mode == TxMode::kRead) {
    LOCKBOX_TRY(db_->exec("BEGIN ISOLATION LEVEL REPEATABLE READ"));
  } else {
    // One round trip: the transaction, its lock wait bound, durability, then the writer lock.
    const std::int64_t wait = std::max<std::int64_t>(1, db_->busy_timeout_ms());
    const Status begun = db_->exec(fmt::format(
        "BEGIN; SET LOCAL lock_timeout = '{}ms'; {}SELECT pg_advisory_xact_lock({})", wait,
        mode == TxMode::kWriteRelaxed ? "SET LOCAL synchronous_commit = off; " : "", kWriterLock));
    if (!begun.is_ok()) return begin_failed(begun);
  }
  mode_ = mode;
  in_tx_ = true;
  db_->set_in_transaction(true);
  return Status::ok();
}

Status PgBackend::notify_change(std::int64_t counter) {
  return db_->queue("SELECT pg_notify('lockbox_changes', $1)",
                    Params().text(std::to_string(counter)));
}

Result<bool> PgBackend::wait_for_notification(std::int64_t timeout_ms) {
  // A reconnection (Conn::generation) starts a new server session without the LISTEN.
  if (!listening_ || !db_->alive() || listen_generation_ != db_->generation()) {
    LOCKBOX_TRY(db_->exec("LISTEN lockbox_changes"));
    listening_ = true;
    listen_generation_ = db_->generation();
  }
  auto got = db_->wait_notification(timeout_ms);
  if (got.is_ok() || db_->alive()) return got;
  // The session ended while waiting: subscribe again on a new one, and report a possible change
  // (a notification sent in between is lost; the caller re-reads the counter either way).
  LOCKBOX_TRY(db_->exec("LISTEN lockbox_changes"));
  listen_generation_ = db_->generation();
  return true;
}

Status PgBackend::after_bulk_load() {
  // A freshly filled table has no statistics until autovacuum gets to it; without them the
  // planner hash-joins whole tables for a launch's head queries (5 ms each at 10,000 secrets).
  return db_->exec(
      "ANALYZE lockbox.secrets, lockbox.versions, lockbox.scopes, lockbox.audit, lockbox.tokens");
}

Status PgBackend::commit() {
#ifdef LOCKBOX_TEST_SEAMS
  // Test seam: the server drops this connection after the transaction's writes, before COMMIT.
  if (mode_ != TxMode::kRead && std::getenv("LOCKBOX_TEST_PG_DROP_BEFORE_COMMIT") != nullptr) {
    (void)db_->exec("SELECT pg_terminate_backend(pg_backend_pid())");
  }
#endif
  // With writes queued, COMMIT joins them: one round trip for their answers and the commit; a
  // failure among them aborts the pipeline before COMMIT runs, and is the transaction's.
  // COMMIT of a transaction in which a statement failed would answer ROLLBACK as a success.
  if (db_->failed_transaction())
    return runtime_error("a statement of the write failed; nothing was written");
  const Status committed = db_->queued() ? db_->run("COMMIT").status() : db_->exec("COMMIT");
  if (!committed.is_ok() && !db_->alive()) {
    return runtime_error(
        fmt::format("lost the connection to the PostgreSQL store at {} while committing: the "
                    "write was not confirmed (it is saved whole or not at all)",
                    db_->where()));
  }
  if (!committed.is_ok()) return committed;
  in_tx_ = false;
  db_->set_in_transaction(false);
  return Status::ok();
}

void PgBackend::rollback() {
  if (!in_tx_) return;
  (void)db_->flush();                             // queued answers, read and dropped
  if (db_->alive()) (void)db_->exec("ROLLBACK");  // a lost connection rolled back by itself
  in_tx_ = false;
  db_->set_in_transaction(false);
  if (mode_ != TxMode::kRead && rollback_hook_) rollback_hook_();
}

void PgBackend::set_rollback_hook(std::function<void()> hook) {
  rollback_hook_ = std::move(hook);
}

// Autovacuum reclaims dead rows; nothing to do on the request path or after a purge.
Status PgBackend::maintenance() {
  return Status::ok();
}
Status PgBackend::compact() {
  return Status::ok();
}

// ---- meta ----

Result<MetaRow> PgBackend::read_meta() {
  MetaRow meta;
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run("SELECT key, num, bin, txt FROM lockbox.meta"));
  for (int i = 0; i < r.size(); ++i) {
    const std::string key = r.text(i, 0);
    if (key == "store_id") meta.store_id = r.copy(i, 2);
    if (key == "key_kind") meta.key_kind = r.text(i, 3);
    if (key == "kdf_salt") meta.kdf_salt = r.copy(i, 2);
    if (key == "kdf_iterations") meta.kdf_iterations = r.i64(i, 1);
    if (key == "created_at") meta.created_at = r.i64(i, 1);
  }
  return meta;
}

Status PgBackend::insert_meta(const MetaRow& meta) {
  const std::string sql = "INSERT INTO lockbox.meta(key, num, bin, txt) VALUES ($1, $2, $3, $4)";
  LOCKBOX_TRY(db_->run(sql, Params().text("store_id").null_i64().bytes(meta.store_id).null_text())
                  .status());
  LOCKBOX_TRY(
      db_->run(sql, Params().text("change_counter").i64(0).null_bytes().null_text()).status());
  LOCKBOX_TRY(
      db_->run(sql, Params().text("created_at").i64(meta.created_at).null_bytes().null_text())
          .status());
  LOCKBOX_TRY(db_->run(sql, Params().text("key_kind").null_i64().null_bytes().text(meta.key_kind))
                  .status());
  if (meta.key_kind == "passphrase") {
    LOCKBOX_TRY(db_->run(sql, Params().text("kdf_salt").null_i64().bytes(meta.kdf_salt).null_text())
                    .status());
    LOCKBOX_TRY(
        db_->run(sql,
                 Params().text("kdf_iterations").i64(meta.kdf_iterations).null_bytes().null_text())
            .status());
  }
  return Status::ok();
}

// ---- master keys and keyring ----

Result<std::vector<MasterKeyRow>> PgBackend::master_keys() {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run("SELECT generation, kcv, state, created_at FROM "
                                            "lockbox.master_keys ORDER BY generation"));
  std::vector<MasterKeyRow> out;
  for (int i = 0; i < r.size(); ++i) {
    out.push_back(
        {static_cast<std::uint32_t>(r.i64(i, 0)), r.copy(i, 1), r.text(i, 2), r.i64(i, 3)});
  }
  return out;
}

Status PgBackend::insert_master_key(const MasterKeyRow& row) {
  return db_
      ->run(
          "INSERT INTO lockbox.master_keys(generation, kcv, state, created_at) VALUES ($1, $2, $3, "
          "$4)",
          Params().i64(row.generation).bytes(row.kcv).text(row.state).i64(row.created_at))
      .status();
}

Status PgBackend::set_master_key_state(std::uint32_t generation, std::string_view state) {
  return db_
      ->run("UPDATE lockbox.master_keys SET state = $1 WHERE generation = $2",
            Params().text(state).i64(generation))
      .status();
}

Result<std::optional<KeyRow>> PgBackend::key(std::uint32_t key_id) {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r,
                           db_->run(LOCKBOX_KEY_COLUMNS "WHERE key_id = $1", Params().i64(key_id)));
  return first_key(r);
}

Result<std::vector<KeyRow>> PgBackend::keys(std::string_view purpose) {
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r, db_->run(LOCKBOX_KEY_COLUMNS "WHERE $1 = '' OR purpose = $1 ORDER BY key_id",
                       Params().text(purpose)));
  std::vector<KeyRow> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(read_key(r, i));
  return out;
}

Result<std::optional<KeyRow>> PgBackend::active_key(std::string_view purpose) {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r,
                           db_->run(LOCKBOX_KEY_COLUMNS "WHERE purpose = $1 AND state = 'active'",
                                    Params().text(purpose)));
  return first_key(r);
}

Result<std::optional<std::uint32_t>> PgBackend::max_key_id(std::int64_t lo, std::int64_t hi) {
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r, db_->run("SELECT max(key_id) FROM lockbox.keyring WHERE key_id >= $1 AND key_id < $2",
                       Params().i64(lo).i64(hi)));
  if (r.size() == 0 || r.null(0, 0)) return std::optional<std::uint32_t>();
  return std::optional<std::uint32_t>(static_cast<std::uint32_t>(r.i64(0, 0)));
}

Status PgBackend::insert_key(const KeyRow& row) {
  return db_
      ->run(
          "INSERT INTO lockbox.keyring(key_id, purpose, state, kek_generation, wrapped, "
          "created_at, "
          "max_encryptions) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          Params()
              .i64(row.key_id)
              .text(row.purpose)
              .text(row.state)
              .i64(row.kek_generation)
              .opt_bytes(row.wrapped)
              .i64(row.created_at)
              .i64(row.max_encryptions))
      .status();
}

Status PgBackend::set_key_state(std::uint32_t key_id, std::string_view state) {
  return db_
      ->run("UPDATE lockbox.keyring SET state = $1, row_rev = row_rev + 1 WHERE key_id = $2",
            Params().text(state).i64(key_id))
      .status();
}

Status PgBackend::destroy_key(std::uint32_t key_id) {
  return db_
      ->run(
          "UPDATE lockbox.keyring SET state = 'destroyed', wrapped = NULL, row_rev = row_rev + 1 "
          "WHERE key_id = $1",
          Params().i64(key_id))
      .status();
}

Status PgBackend::set_key_wrapping(std::uint32_t key_id, std::uint32_t generation,
                                   ByteView wrapped) {
  return db_
      ->run(
          "UPDATE lockbox.keyring SET wrapped = $1, kek_generation = $2, row_rev = row_rev + 1 "
          "WHERE key_id = $3",
          Params().bytes(wrapped).i64(generation).i64(key_id))
      .status();
}

Status PgBackend::set_key_counts(std::uint32_t key_id, std::int64_t encryptions,
                                 std::int64_t reserved) {
  return db_
      ->run("UPDATE lockbox.keyring SET encryptions = $1, reserved = $2 WHERE key_id = $3",
            Params().i64(encryptions).i64(reserved).i64(key_id))
      .status();
}

Result<bool> PgBackend::reserve_encryptions(std::uint32_t key_id, std::int64_t expected,
                                            std::int64_t granted) {
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r,
      db_->run(
          "UPDATE lockbox.keyring SET reserved = reserved + $1 WHERE key_id = $2 AND reserved = $3",
          Params().i64(granted).i64(key_id).i64(expected)));
  return r.affected() == 1;
}

Status PgBackend::count_encryptions(std::uint32_t key_id, std::int64_t n) {
  return db_->queue("UPDATE lockbox.keyring SET encryptions = encryptions + $1 WHERE key_id = $2",
                    Params().i64(n).i64(key_id));
}

Result<std::map<std::uint32_t, std::int64_t>> PgBackend::versions_per_key() {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run("SELECT key_id, count(*) FROM lockbox.versions WHERE "
                                            "key_id IS NOT NULL GROUP BY key_id"));
  std::map<std::uint32_t, std::int64_t> counts;
  for (int i = 0; i < r.size(); ++i) counts[static_cast<std::uint32_t>(r.i64(i, 0))] = r.i64(i, 1);
  return counts;
}

Result<std::vector<std::uint32_t>> PgBackend::retire_unused_keys() {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run("UPDATE lockbox.keyring k SET state = 'retired', "
                                            "row_rev = row_rev + 1 WHERE purpose = 'data' AND "
                                            "state = 'decrypt_only' AND NOT EXISTS (SELECT 1 FROM "
                                            "lockbox.versions v WHERE v.key_id = k.key_id) "
                                            "RETURNING key_id"));
  std::vector<std::uint32_t> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(static_cast<std::uint32_t>(r.i64(i, 0)));
  std::sort(out.begin(), out.end());
  return out;
}

// ---- audit ----

Result<std::optional<Backend::AuditTail>> PgBackend::audit_tail() {
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r, db_->run("SELECT seq, entry_mac FROM lockbox.audit ORDER BY seq DESC LIMIT 1"));
  if (r.size() == 0) return std::optional<AuditTail>();
  return std::optional<AuditTail>(AuditTail{r.i64(0, 0), r.copy(0, 1)});
}

Status PgBackend::insert_audit(const AuditRecord& a) {
  return insert_audits({a});  // one statement either way (pg_batch.cpp)
}

Status PgBackend::scan_audit(const AuditFilter& filter, const AuditVisitor& visit) {
  Params p;
  p.opt_i64(filter.since);
  if (filter.action) {
    p.text(*filter.action);
  } else {
    p.null_text();
  }
  if (filter.target) {
    p.text(*filter.target);
  } else {
    p.null_text();
  }
  // One statement reads one snapshot: records committed during the walk are not visited.
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r,
      db_->run("SELECT seq, ts, actor, action, target, outcome, detail, prev_mac, entry_mac FROM "
               "lockbox.audit "
               "WHERE ($1::int8 IS NULL OR ts >= $1) AND ($2::text IS NULL OR action = $2) AND "
               "($3::text IS NULL OR target = $3) ORDER BY seq",
               p));
  for (int i = 0; i < r.size(); ++i) {
    AuditRecord a;
    a.seq = r.i64(i, 0);
    a.ts = r.i64(i, 1);
    a.actor = r.text(i, 2);
    a.action = r.text(i, 3);
    a.target = r.text(i, 4);
    a.outcome = r.text(i, 5);
    a.detail = r.text(i, 6);
    const bool prev_ok = copy_mac(r.bytes(i, 7), a.prev_mac);
    const bool entry_ok = copy_mac(r.bytes(i, 8), a.entry_mac);
    LOCKBOX_TRY(visit(a, prev_ok && entry_ok));
  }
  return Status::ok();
}

// ---- tokens ----

Result<std::optional<TokenRow>> PgBackend::token(std::string_view id) {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r,
                           db_->run(LOCKBOX_TOKEN_COLUMNS "WHERE id = $1", Params().text(id)));
  if (r.size() == 0) return std::optional<TokenRow>();
  return std::optional<TokenRow>(read_token(r, 0));
}

Result<bool> PgBackend::live_token_named(std::string_view name) {
  LOCKBOX_ASSIGN_OR_RETURN(auto token, live_token_by_name(name));
  return token.has_value();
}

Result<std::optional<TokenRow>> PgBackend::live_token_by_name(std::string_view name) {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r,
                           db_->run(LOCKBOX_TOKEN_COLUMNS "WHERE name = $1 AND revoked_at IS NULL",
                                    Params().text(name)));
  if (r.size() == 0) return std::optional<TokenRow>();
  return std::optional<TokenRow>(read_token(r, 0));
}

Status PgBackend::insert_token(const TokenRow& row) {
  const TokenInfo& t = row.info;
  return db_
      ->run(
          "INSERT INTO lockbox.tokens(id, name, role, secret_hash, created_at, created_by, "
          "expires_at, "
          "revoked_at, hash_scheme, row_mac) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
          Params()
              .text(t.id)
              .text(t.name)
              .text(t.role)
              .bytes(row.secret_hash)
              .i64(t.created_at)
              .text(t.created_by)
              .opt_i64(t.expires_at)
              .opt_i64(t.revoked_at)
              .i64(row.hash_scheme)
              .opt_bytes(row.row_mac))
      .status();
}

Status PgBackend::set_token_revoked(std::string_view id, UnixMillis at, ByteView row_mac) {
  return db_
      ->run("UPDATE lockbox.tokens SET revoked_at = $1, row_mac = $2 WHERE id = $3",
            Params().i64(at).bytes(row_mac).text(id))
      .status();
}

Status PgBackend::set_token_mac(std::string_view id, ByteView row_mac) {
  return db_
      ->run("UPDATE lockbox.tokens SET row_mac = $1 WHERE id = $2",
            Params().bytes(row_mac).text(id))
      .status();
}

Result<std::vector<TokenRow>> PgBackend::tokens() {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run(LOCKBOX_TOKEN_COLUMNS "ORDER BY created_at, ordinal"));
  std::vector<TokenRow> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(read_token(r, i));
  return out;
}

}  // namespace lockbox::store::postgres
