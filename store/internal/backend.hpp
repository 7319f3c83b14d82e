#pragma once
// Private to lockbox_store: the narrow storage interface every backend implements (LevelDB's
// `Env` under its `DB`). A backend stores and returns rows, runs transactions, serialises writers
// and signals changes; it knows nothing about keys, envelopes, AAD, audit chaining, fingerprints,
// version numbering, carrying metadata over, nonce budgets or messages about secrets. Those rules
// live once, above every backend, in store/engine/ (`Engine`, the public `Store`).
//
// Rows are plain structs with the columns of docs/ARCHITECTURE.md "Schema". Every persistent
// encoding (envelopes, tags/metadata blobs, MACs) is produced by the engine or by
// store/row_codec.hpp, never invented by a backend, so two backends hold the same bytes and
// `store copy` moves rows verbatim.
//
// Transactions: begin(kWrite) takes the store's single writer lock (SQLite: BEGIN IMMEDIATE;
// PostgreSQL: a transaction-scoped advisory lock), so writers from every process and host are
// serialised and a read-modify-write inside one transaction sees no concurrent write. Waiting
// for the lock is bounded by the busy timeout, after which kRuntime "store busy". kRead gives
// one consistent snapshot for several reads. Calls outside a transaction each see their own
// snapshot. commit() of a kWriteRelaxed transaction may return before the data is on disk (the
// launch and resolve audit records, SPEC §6).
//
// Errors: kRuntime (busy, I/O, unreachable), kIntegrity (a damaged database file or a row whose
// stored shape is impossible, e.g. a MAC column of the wrong length).
// Thread-safety: a Backend is used by one thread at a time (one connection).

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/audit_chain.hpp"
#include "store/bytes.hpp"
#include "store/store.hpp"

namespace lockbox::store {

enum class TxMode { kRead, kWrite, kWriteRelaxed };

// meta: store_id (blob), key_kind (text), kdf_salt (blob), kdf_iterations, created_at (ints).
struct MetaRow {
  Bytes store_id;
  std::string key_kind;  // "key" | "passphrase"
  Bytes kdf_salt;
  std::int64_t kdf_iterations = 0;
  UnixMillis created_at = 0;
};

struct MasterKeyRow {
  std::uint32_t generation = 0;
  Bytes kcv;
  std::string state;  // current | retired
  UnixMillis created_at = 0;
};

struct KeyRow {
  std::uint32_t key_id = 0;
  std::string purpose;  // data | audit | fingerprint
  std::string state;    // active | decrypt_only | retired | destroyed
  std::uint32_t kek_generation = 0;
  std::optional<Bytes> wrapped;
  UnixMillis created_at = 0;
  std::int64_t encryptions = 0;
  std::int64_t reserved = 0;
  std::int64_t max_encryptions = 0;
};

// One secret: (scope, name), a never-reused uid, and which version is the head.
struct SecretRow {
  std::int64_t id = 0;  // the backend's row id, stable for the row's life
  std::string scope;    // canonical address
  std::string name;
  Bytes uid;
  std::int64_t head_version = 0;
  UnixMillis created_at = 0;
  std::optional<Bytes> row_mac;  // head_row_mac(); nullopt only before row authentication
};

// One version row. `envelope` is filled only by calls that say so.
struct VersionRow {
  std::int64_t version = 0;
  bool tombstone = false;
  std::uint32_t key_id = 0;  // 0 for a tombstone
  Bytes envelope;
  std::string fingerprint;  // "" for a tombstone
  std::string description;
  std::vector<std::string> tags;
  std::map<std::string, std::string> metadata;
  std::optional<UnixMillis> expires_at;
  UnixMillis created_at = 0;
  std::string actor;
  std::int64_t row_rev = 1;
  std::optional<Bytes> row_mac;  // version_row_mac(); nullopt only before row authentication
  // Non-empty when a column could not be decoded (e.g. a malformed tags cell): what is wrong.
  // The engine fails that one secret closed (exit 5 naming it); the other rows stay usable.
  std::string damaged;
  // Rotation reminder in milliseconds (schema v4 columns rotate_every, notify_before; NULL: none).
  std::optional<std::int64_t> rotate_every;
  std::optional<std::int64_t> notify_before;
};

// A secret with one of its versions (a head, or the version asked for).
struct SecretVersionRow {
  SecretRow secret;
  VersionRow version;
};

struct QuarantineRow {
  std::int64_t secret_id = 0;
  std::int64_t version = 0;
  std::uint32_t key_id = 0;
  std::string reason;
  UnixMillis detected_at = 0;
};

// One scope's membership (store/row_auth.hpp ScopeRowFields, with the stored bytes as read).
struct ScopeRow {
  std::string scope;  // canonical address; "" is the chain's sentinel
  std::int64_t members = 0;
  Bytes digest;  // 32 bytes when intact
  std::string next;
  std::int64_t change_counter = 0;
  Bytes row_mac;
};

// The change counter with its MAC (nullopt before row authentication).
struct CounterRow {
  std::int64_t value = 0;
  std::optional<Bytes> mac;
};

struct TokenRow {
  TokenInfo info;  // `authentic` is the engine's verdict, never stored
  Bytes secret_hash;
  int hash_scheme = 2;  // 1: SHA-256 of the secret (legacy rows), 2: keyed token_secret_hash()
  std::optional<Bytes> row_mac;  // nullopt only in rows that predate row authentication
};

class Backend {
 public:
  virtual ~Backend() = default;

  // ---- schema and transactions ----
  // The schema version of the store (0: none), and creating or migrating it inside the caller's
  // kWrite transaction. migrate() refuses a schema newer than this lockbox (kRuntime).
  virtual Result<int> schema_version() = 0;
  // The schema version this build writes (migrate() brings an older store to it).
  [[nodiscard]] virtual int latest_schema_version() const = 0;
  virtual Status create_schema() = 0;
  virtual Status migrate() = 0;
  // kIntegrity naming the first object in the schema this lockbox did not create (a trigger, a
  // view, an unknown table or index): such an object could change what a query returns or make a
  // rolled-back row reappear, so the store is refused at open.
  virtual Status verify_schema_objects() = 0;
  virtual Status begin(TxMode mode) = 0;
  virtual Status commit() = 0;
  virtual void rollback() = 0;  // never fails: a lost connection rolls back by itself
  // Called whenever a transaction of this connection rolls back, for caches of the engine that
  // would otherwise outlive what the transaction created.
  virtual void set_rollback_hook(std::function<void()> hook) = 0;
  // Run by the engine's Tx::commit() before commit(): the engine writes what it coalesced in the
  // transaction (scope rows, encryption counts). A failure rolls the transaction back.
  void set_before_commit(std::function<Status()> hook) { before_commit_ = std::move(hook); }
  Status before_commit() const { return before_commit_ ? before_commit_() : Status::ok(); }
  // Housekeeping off the request path (SQLite: a passive WAL checkpoint).
  virtual Status maintenance() = 0;
  // After a purge or a large rewrite: give freed pages back and fold logs (best effort).
  virtual Status compact() = 0;

  // ---- meta and the change counter ----
  virtual Result<MetaRow> read_meta() = 0;
  virtual Status insert_meta(const MetaRow& meta) = 0;
  // The change counter increases with every committed secret write (the engine writes the next
  // value and its MAC); a backend that can signal other processes (PostgreSQL NOTIFY) does so at
  // commit. change_counter() is one query: it runs for every resolve request.
  virtual Status set_change_counter(std::int64_t value, ByteView mac) = 0;
  virtual Result<CounterRow> change_counter() = 0;

  // ---- master keys and keyring ----
  virtual Result<std::vector<MasterKeyRow>> master_keys() = 0;
  virtual Status insert_master_key(const MasterKeyRow& row) = 0;
  virtual Status set_master_key_state(std::uint32_t generation, std::string_view state) = 0;
  virtual Result<std::optional<KeyRow>> key(std::uint32_t key_id) = 0;
  // Rows with `purpose` (every purpose when empty), by key_id.
  virtual Result<std::vector<KeyRow>> keys(std::string_view purpose) = 0;
  virtual Result<std::optional<KeyRow>> active_key(std::string_view purpose) = 0;
  // The largest key_id in [lo, hi), or nullopt when there is none.
  virtual Result<std::optional<std::uint32_t>> max_key_id(std::int64_t lo, std::int64_t hi) = 0;
  virtual Status insert_key(const KeyRow& row) = 0;
  virtual Status set_key_state(std::uint32_t key_id, std::string_view state) = 0;
  virtual Status set_key_wrapping(std::uint32_t key_id, std::uint32_t generation,
                                  ByteView wrapped) = 0;
  // state 'destroyed' and no key material left in the row.
  virtual Status destroy_key(std::uint32_t key_id) = 0;
  // reserved += granted where reserved == expected; false when another writer moved it.
  virtual Result<bool> reserve_encryptions(std::uint32_t key_id, std::int64_t expected,
                                           std::int64_t granted) = 0;
  // encryptions += n (the engine counts a transaction's encryptions and writes them at its commit).
  virtual Status count_encryptions(std::uint32_t key_id, std::int64_t n) = 0;
  // How many versions each data key encrypts.
  virtual Result<std::map<std::uint32_t, std::int64_t>> versions_per_key() = 0;
  // decrypt_only data keys that encrypt no version become retired; returns their ids.
  virtual Result<std::vector<std::uint32_t>> retire_unused_keys() = 0;

  // ---- secrets and versions ----
  virtual Result<std::optional<SecretRow>> find_secret(std::string_view scope,
                                                       std::string_view name) = 0;
  // Inserts (id ignored) and returns the new row id.
  virtual Result<std::int64_t> insert_secret(const SecretRow& row) = 0;
  // The head version with the row's new MAC.
  virtual Status set_head(std::int64_t secret_id, std::int64_t head_version, ByteView row_mac) = 0;
  // Row authentication of rows that predate it (the engine's one-time migration).
  virtual Status set_secret_mac(std::int64_t secret_id, ByteView row_mac) = 0;
  virtual Status set_version_mac(std::int64_t secret_id, std::int64_t version,
                                 ByteView row_mac) = 0;
  // Deletes the secret with every version and quarantine entry.
  virtual Status delete_secret(std::int64_t secret_id) = 0;
  // One version (with its envelope when `with_envelope`).
  virtual Result<std::optional<VersionRow>> version(std::int64_t secret_id, std::int64_t version,
                                                    bool with_envelope) = 0;
  // The launch path's one query: the secret at (scope, name) with `version` and its envelope.
  virtual Result<std::optional<SecretVersionRow>> secret_version(std::string_view scope,
                                                                 std::string_view name,
                                                                 std::int64_t version) = 0;
  virtual Result<std::vector<VersionRow>> versions(std::int64_t secret_id) = 0;
  // Heads (no envelopes) of every secret, or of one scope, ordered by scope then name.
  virtual Result<std::vector<SecretVersionRow>> heads(const std::optional<std::string>& scope) = 0;
  virtual Status insert_version(std::int64_t secret_id, const VersionRow& row) = 0;
  // Compare-and-swap of a version's envelope (re-encryption): only when row_rev and key_id are
  // still as read. Returns whether the row changed.
  virtual Result<bool> replace_envelope(std::int64_t secret_id, std::int64_t version,
                                        std::int64_t row_rev, std::uint32_t old_key,
                                        std::uint32_t new_key, ByteView envelope) = 0;
  // Up to `limit` versions (with envelopes) under `key_id` that are not quarantined.
  virtual Result<std::vector<SecretVersionRow>> versions_under_key(std::uint32_t key_id,
                                                                   std::size_t limit) = 0;

  // get()'s one query: the secret at (scope, name) with its head version row (no envelope);
  // nullopt when there is no such secret, `version` all zero when its head row is missing. The
  // default runs find_secret() then version(); backends override it with one joined query.
  virtual Result<std::optional<SecretVersionRow>> head(std::string_view scope,
                                                       std::string_view name);

  // ---- scopes (membership rows, SPEC §17) ----
  // A launch's one query per scope: the heads of `scope` (as heads(scope)) and its scope row (as
  // scope_at_or_before(scope)) from one snapshot, so verifying the membership costs no extra
  // round trip and a write committing in between cannot make the two disagree. The default runs
  // both calls; backends override it with one statement.
  struct ScopeHeads {
    std::optional<ScopeRow> scope_row;
    std::vector<SecretVersionRow> heads;
  };
  virtual Result<ScopeHeads> scope_heads(std::string_view scope);
  // The scope row with the greatest address <= `scope` (the row itself, or its predecessor in the
  // chain); nullopt only when not even the sentinel "" is there.
  virtual Result<std::optional<ScopeRow>> scope_at_or_before(std::string_view scope) = 0;
  // Every scope row, by address.
  virtual Result<std::vector<ScopeRow>> scopes() = 0;
  // Inserts or replaces the row for row.scope.
  virtual Status put_scope(const ScopeRow& row) = 0;

  // ---- quarantine ----
  virtual Status quarantine(const QuarantineRow& row) = 0;  // ignored when already there
  // Every entry with its secret and version (either may be gone: nullopt).
  struct QuarantineEntry {
    QuarantineRow row;
    std::optional<SecretVersionRow> current;
  };
  virtual Result<std::vector<QuarantineEntry>> quarantined() = 0;
  virtual Status release_quarantine(std::int64_t secret_id, std::int64_t version) = 0;

  // ---- audit ----
  // The newest record's seq and entry MAC bytes, if any.
  struct AuditTail {
    std::int64_t seq = 0;
    Bytes entry_mac;
  };
  virtual Result<std::optional<AuditTail>> audit_tail() = 0;
  virtual Status insert_audit(const AuditRecord& record) = 0;
  // Several records at once, in order (a group commit of launch/resolve records). The default
  // calls insert_audit() for each; PostgreSQL sends one multi-row INSERT per page.
  virtual Status insert_audits(const std::vector<AuditRecord>& records);
  // Records matching the SQL-expressible part of `filter` (since, action, exact target), by seq.
  // `macs_ok` is false for a record whose MAC columns have the wrong length.
  using AuditVisitor = std::function<Status(const AuditRecord&, bool macs_ok)>;
  virtual Status scan_audit(const AuditFilter& filter, const AuditVisitor& visit) = 0;

  // ---- tokens ----
  virtual Result<std::optional<TokenRow>> token(std::string_view id) = 0;
  virtual Result<bool> live_token_named(std::string_view name) = 0;
  virtual Result<std::optional<TokenRow>> live_token_by_name(std::string_view name) = 0;
  virtual Status insert_token(const TokenRow& row) = 0;
  // Sets revoked_at and the row's new MAC together.
  virtual Status set_token_revoked(std::string_view id, UnixMillis at, ByteView row_mac) = 0;
  virtual Status set_token_mac(std::string_view id, ByteView row_mac) = 0;
  virtual Result<std::vector<TokenRow>> tokens() = 0;

  // ---- store copy (store/copy.hpp) and change notification ----
  // Every version row of every secret, with its envelope, ordered by secret id then version, in
  // the caller's transaction. The default walks heads() and versions(); backends override it
  // with one query (store/sqlite/sqlite_copy.cpp).
  using VersionVisitor = std::function<Status(std::int64_t secret_id, const VersionRow&)>;
  virtual Status scan_versions(const VersionVisitor& visit);
  // Sets a keyring row's nonce-budget counts as copied from another store (insert_key() starts
  // them at 0). The default raises `reserved` only (reserved bounds what a key may still
  // encrypt; `encryptions` is informational).
  virtual Status set_key_counts(std::uint32_t key_id, std::int64_t encryptions,
                                std::int64_t reserved);
  // Outside a transaction, after a bulk load (store copy): refreshes the planner's statistics, so
  // the first launches do not scan whole tables (PostgreSQL: ANALYZE). Default: nothing.
  virtual Status after_bulk_load() { return Status::ok(); }
  // Called by the engine inside every write transaction that stored a new change counter, just
  // before its commit: a backend that can signal other processes queues the signal here, to be
  // delivered by the commit (PostgreSQL: NOTIFY lockbox_changes, 'COUNTER'). Default: nothing.
  virtual Status notify_change(std::int64_t counter) {
    (void)counter;
    return Status::ok();
  }
  // Outside a transaction: blocks up to `timeout_ms` or until another process may have committed
  // a change (PostgreSQL: a lockbox_changes notification arrived on this connection's LISTEN).
  // Returns whether a signal arrived; false means "look again" (a spurious wake-up is harmless:
  // the engine re-reads the MACed counter either way). The default sleeps the whole timeout, so
  // a backend without signals (SQLite) is polled (store/engine/copy.cpp).
  virtual Result<bool> wait_for_notification(std::int64_t timeout_ms);

 private:
  std::function<Status()> before_commit_;
};

// The Backend a StoreOptions names (store/store.cpp): SQLite by path or sqlite: URL, PostgreSQL by
// postgresql:// URL. For row-level tools above the engine (store copy); everyone else opens a
// Store.
Result<std::unique_ptr<Backend>> open_backend_rows(const StoreOptions& options, bool create);

}  // namespace lockbox::store
