#pragma once
// Store: the backend-neutral interface to the encrypted secrets store (LevelDB's Env/DB style).
// SQLite implements it now; PostgreSQL will implement the same contract, so nothing here is
// SQLite-specific: writes are transactions with an expected-version check, version rows carry a
// compare-and-swap revision (row_rev), and change_counter() lets a launcher poll for changes.
//
// Every write appends its HMAC-chained audit record in the same transaction. Every reveal commits
// its audit record before the value is returned (no record, no value).
//
// Errors: kBadInput (validation, version conflict), kNotFound (no such secret/version, or a
// tombstone where a value is needed), kKey (wrong/stale master key), kIntegrity (a row fails
// authentication: the message names the secret reference), kRuntime (busy past the timeout, I/O).
//
// Thread-safety: a Store object is NOT thread-safe; use one per thread. Several processes may
// open the same store concurrently.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/status.hpp"
#include "store/audit_chain.hpp"
#include "store/master_key.hpp"
#include "store/types.hpp"

namespace lockbox::store {

struct StoreOptions {
  std::filesystem::path data_dir;  // holds lockbox.db for sqlite
  std::string url;                 // "", "sqlite:PATH" or a libpq URI "postgresql://..."
  std::int64_t busy_timeout_ms = 10000;
  std::string actor;             // recorded in versions and audit records
  const Clock* clock = nullptr;  // defaults to SystemClock
  Random* random = nullptr;      // defaults to OsRandom
  Limits limits;
  // Nonce budget of new data keys (CRYPTO.md: 2^31) and the size of the blocks of encryptions a
  // process reserves from it (0: adaptive, 16 doubling to 4096). Tests lower both.
  std::int64_t nonce_budget = std::int64_t{1} << 31;
  std::int64_t nonce_block = 0;
  // SQLite's WAL auto-checkpoint, in pages. Small for the CLI (each process replays the WAL on
  // open); 0 (none) for `serve`, which checkpoints from a background thread (maintenance()) so
  // that no request waits for a checkpoint's copy and sync.
  int wal_autocheckpoint_pages = 64;
};

// The outcome of one secret write.
struct WriteResult {
  SecretMeta meta;
  WriteOutcome outcome = WriteOutcome::kCreated;
};

// An audit record to append (seq, time, MACs are filled in by the store).
struct AuditEvent {
  std::string action;      // exact SPEC §7 names: secret.set, launch, ...
  std::string target;      // scope address and name, e.g. "namespace:prod/DB_URL"
  std::string outcome;     // "ok", "denied", "error", an exit code ...
  std::string detail;      // names, versions, counts; never a value
  std::string actor = {};  // "" = the store's actor (StoreOptions::actor / set_actor)
};

// ---- keys (SPEC §6) ----

// One data key of the keyring. `version` is its key_id.
struct DataKeyStatus {
  std::uint32_t version = 0;
  std::string state;  // active | decrypt_only | retired | destroyed
  UnixMillis created_at = 0;
  std::int64_t encryptions = 0;  // reserved from its nonce budget (an upper bound)
  std::int64_t max_encryptions = 0;
  std::int64_t versions_encrypted = 0;  // secret versions still under this key
};

// A version that failed authentication during re-encryption (kept, never dropped).
struct QuarantinedVersion {
  SecretAddress address;
  std::int64_t version = 0;
  std::uint32_t key_id = 0;
  std::string reason;
  UnixMillis detected_at = 0;
};

struct KeyStatus {
  std::uint32_t active_version = 0;
  UnixMillis active_created_at = 0;
  std::uint32_t master_key_generation = 0;
  std::vector<DataKeyStatus> keys;  // by version
  std::vector<QuarantinedVersion> quarantined;
};

struct RotateResult {
  bool rotated = false;        // false: another process rotated first (nothing done)
  std::uint32_t previous = 0;  // the active key before
  std::uint32_t active = 0;    // the active key now
};

struct ReencryptProgress {
  std::int64_t done = 0;   // versions moved (or quarantined) so far by this run
  std::int64_t total = 0;  // versions under old keys when the run started
};

struct ReencryptOptions {
  std::size_t batch_size = 1000;                              // versions per transaction
  std::function<void(const ReencryptProgress&)> on_progress;  // after each committed batch
};

struct ReencryptSummary {
  std::int64_t reencrypted = 0;
  std::int64_t quarantined = 0;  // newly quarantined by this run
  std::uint32_t active = 0;
  std::vector<std::uint32_t> retired;  // keys that became retired
};

// ---- audit (SPEC §7) ----

struct AuditFilter {
  std::optional<UnixMillis> since;    // ts >= since
  std::optional<std::string> action;  // exact action name
  std::optional<std::string> target;  // exact target, or a glob with '*' and '?'
};

// `seq:mac` of one record, kept outside the store to detect a cut tail.
struct AuditCheckpoint {
  std::int64_t seq = 0;
  Mac mac{};
};

struct AuditVerifyResult {
  std::int64_t records = 0;  // records checked
  std::int64_t last_seq = 0;
  // Empty when the chain verifies; else the first bad seq and what is wrong with it.
  std::optional<std::int64_t> first_bad_seq;
  std::string problem;
};

class Store {
 public:
  virtual ~Store() = default;

  // Creates a new store (schema, store id, generation 1, first data key, audit and fingerprint
  // keys). kBadInput "store already exists" when one is there.
  static Result<std::unique_ptr<Store>> create(const StoreOptions& options, MasterKey master_key);
  // Opens an existing store, verifying the master key by its KCV (kKey wrong/stale) before
  // anything is written. kRuntime "no store at PATH (run lockbox init)" when missing.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options, MasterKey master_key);
  // The path of the database file for these options (for messages and doctor).
  // SQLite only: empty for a PostgreSQL URL.
  static std::filesystem::path database_path(const StoreOptions& options);
  // The store as messages and logs name it: the SQLite path, or the PostgreSQL URL with any
  // password replaced by *** (SPEC §11).
  static std::string display_name(const StoreOptions& options);

  // Appends a version (secret.set). kUnchanged never happens here: set always writes.
  virtual Result<WriteResult> set(SetRequest request) = 0;
  // Metadata of the current version, or of `version`. A tombstone head is returned with
  // tombstone=true (callers decide whether that is exit 3).
  virtual Result<SecretMeta> get(const SecretAddress& address,
                                 std::optional<std::int64_t> version = std::nullopt) = 0;
  // The current value; kNotFound "NAME was deleted at vN" for a tombstone. Audited
  // (secret.reveal, or `action` when given, e.g. secret.export) before returning.
  virtual Result<RevealedSecret> reveal(const SecretAddress& address) = 0;
  // Current versions matching the filter, ordered by scope address then name.
  virtual Result<std::vector<SecretMeta>> list(const ListFilter& filter) = 0;
  // Appends a tombstone (secret.delete). kNotFound when missing or already deleted.
  virtual Result<SecretMeta> remove(const SecretAddress& address) = 0;
  // Destroys every version (secret.purge), secure delete, WAL truncated. kNotFound when missing.
  virtual Status purge(const SecretAddress& address) = 0;
  // All versions, oldest first.
  virtual Result<std::vector<SecretMeta>> history(const SecretAddress& address) = 0;
  // Appends a version carrying `version`'s value and metadata (secret.rollback). Rolling back to
  // a tombstone version is kBadInput.
  virtual Result<SecretMeta> rollback(const SecretAddress& address, std::int64_t version) = 0;
  // Writes every entry into `scope` in one transaction, all or nothing; entries whose current
  // value already matches (by fingerprint) are skipped. One secret.import record per call
  // (target: the scope), naming the secrets written, even when nothing changed.
  virtual Result<ImportSummary> import(const Scope& scope, std::vector<ImportEntry> entries) = 0;
  // Bulk writes (SPEC §13): every request in ONE transaction, all or nothing, each checked as
  // set() / remove() check it (validation, expected_version, carrying fields over). One
  // secret.set / secret.delete record per secret, as the single writes append (detail ends in
  // "(bulk N)", N the request's size), so `audit verify`, `audit list --target` and the per-secret
  // history stay as they are. A failure names its item: "secrets[I]: ..." (0-based), with the
  // status code the single write would give (kBadInput, a "version conflict", kNotFound). The
  // same address twice is kBadInput. An empty list does nothing.
  virtual Result<std::vector<WriteResult>> set_many(std::vector<SetRequest> requests) = 0;
  virtual Result<std::vector<SecretMeta>> remove_many(
      const std::vector<SecretAddress>& addresses) = 0;
  // Current values of the listed secrets (tombstones skipped), audited as one secret.export
  // record per call, naming every secret, committed before returning.
  virtual Result<std::vector<RevealedSecret>> export_values(const ListFilter& filter) = 0;

  // Heads of every secret in the given scopes (for the resolver): cost proportional to the
  // secrets of those scopes, never a scan of the store.
  virtual Result<std::vector<SecretMeta>> heads_in_scopes(const std::vector<Scope>& scopes) = 0;
  // Decrypts one version's value without auditing (the caller audits the launch/resolve).
  virtual Result<SecretValue> decrypt(const SecretAddress& address, std::int64_t version) = 0;

  // A counter that increases with every committed secret write (set/delete/purge/rollback/import).
  virtual Result<std::int64_t> change_counter() = 0;
  // Blocks until change_counter() differs from `seen` or `timeout_ms` passed, and returns the
  // counter then. PostgreSQL wakes on NOTIFY lockbox_changes; SQLite polls every 100 ms (a change
  // is seen within that, and within a second in every case). The push is an optimisation:
  // callers that must never serve stale data keep comparing change_counter() per request.
  virtual Result<std::int64_t> wait_for_change(std::int64_t seen, std::int64_t timeout_ms) = 0;
  // Appends one audit record in its own transaction. `durable=false` allows synchronous=NORMAL
  // (launch and resolve records, SPEC §6).
  virtual Status append_audit(const AuditEvent& event, bool durable = true) = 0;
  // Appends several records in ONE transaction (group commit: the server batches the records of
  // concurrent requests into one durable write). All or none.
  virtual Status append_audit_batch(const std::vector<AuditEvent>& events, bool durable) = 0;
  // Housekeeping a long-lived process runs off its request path (SQLite: a passive WAL
  // checkpoint, which waits for no reader or writer), so no request pays for it.
  virtual Status maintenance() = 0;
  // The actor of later writes and records (the server sets the token's name per request).
  virtual void set_actor(std::string actor) = 0;

  // ---- keys ----
  virtual Result<KeyStatus> key_status() = 0;
  // A new active data key in one transaction (the old one becomes decrypt_only), audited as
  // key.rotate with `reason`. When `expected_active` is given and the active key is no longer
  // that one, another rotator won: nothing is done (rotated=false).
  virtual Result<RotateResult> rotate_data_key(std::optional<std::uint32_t> expected_active,
                                               const std::string& reason) = 0;
  // Moves every version under an old data key to the active one, in batches (one transaction
  // each, compare-and-swap on row_rev), resumable at any point. A version that fails
  // authentication goes to the quarantine. Keys left with no versions become retired. One
  // key.reencrypt record, in the last transaction.
  virtual Result<ReencryptSummary> reencrypt(const ReencryptOptions& options) = 0;
  // Master-key rotation: retires the current generation, adds the next with `new_key`'s KCV and
  // rewraps every key of the keyring, in one transaction (key.rewrap). kBadInput when `new_key`
  // equals the current or a retired master key. Returns the new generation.
  virtual Result<std::uint32_t> rewrap(MasterKey new_key) = 0;

  // ---- audit ----
  // Calls `visit` for every record matching `filter`, oldest first.
  virtual Status for_each_audit(const AuditFilter& filter,
                                const std::function<Status(const AuditRecord&)>& visit) = 0;
  // Recomputes the chain. With a checkpoint, also checks that its record is still there with
  // that MAC. A broken chain is a result, not an error (the caller turns it into exit 5).
  virtual Result<AuditVerifyResult> verify_audit(
      const std::optional<AuditCheckpoint>& checkpoint) = 0;
  // The newest record's seq and MAC (seq 0 and a zero MAC for an empty trail).
  virtual Result<AuditCheckpoint> audit_checkpoint() = 0;

  // ---- API tokens (SPEC §5, §8) ----
  // A new token with a random id and secret (token.create). kBadInput when `name` breaks the
  // name rule or a token of that name is live (not revoked). The caller checks the role.
  virtual Result<NewToken> create_token(const std::string& name, const std::string& role,
                                        std::optional<UnixMillis> expires_at) = 0;
  // Every token, revoked and expired ones included, by creation time.
  virtual Result<std::vector<TokenInfo>> list_tokens() = 0;
  // Revokes the live token `name` (token.revoke). kNotFound when there is none.
  virtual Result<TokenInfo> revoke_token(const std::string& name) = 0;
  // The live token that `token` presents: looked up by id, its secret's keyed hash compared in
  // constant time, its row MAC checked (SPEC §17). kDenied (without saying why, in the message
  // callers pass on) for a malformed, unknown, wrong, expired or revoked token. Not audited here:
  // the server records failures. `known_name`, when given, receives the name of the token whose id
  // was presented (even when refused), or "" when the id is unknown, for the auth.failure record.
  virtual Result<TokenInfo> authenticate_token(std::string_view token,
                                               std::string* known_name = nullptr) = 0;
};

}  // namespace lockbox::store
