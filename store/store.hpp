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
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/status.hpp"
#include "store/master_key.hpp"
#include "store/types.hpp"

namespace lockbox::store {

struct StoreOptions {
  std::filesystem::path data_dir;     // holds lockbox.db for sqlite
  std::string url;                    // "" or "sqlite:PATH"; "postgresql://..." → kBadInput
  std::int64_t busy_timeout_ms = 10000;
  std::string actor;                  // recorded in versions and audit records
  const Clock* clock = nullptr;       // defaults to SystemClock
  Random* random = nullptr;           // defaults to OsRandom
  Limits limits;
};

// The outcome of one secret write.
struct WriteResult {
  SecretMeta meta;
  WriteOutcome outcome = WriteOutcome::kCreated;
};

// An audit record to append (seq, time, MACs are filled in by the store).
struct AuditEvent {
  std::string action;   // exact SPEC §7 names: secret.set, launch, ...
  std::string target;   // scope address and name, e.g. "namespace:prod/DB_URL"
  std::string outcome;  // "ok", "denied", "error", an exit code ...
  std::string detail;   // names, versions, counts; never a value
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
  static std::filesystem::path database_path(const StoreOptions& options);

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
  // value already matches (by fingerprint) are skipped. One secret.import record per write.
  virtual Result<ImportSummary> import(const Scope& scope, std::vector<ImportEntry> entries) = 0;
  // Current values of the listed secrets (tombstones skipped), audited as one secret.export
  // record per secret before returning.
  virtual Result<std::vector<RevealedSecret>> export_values(const ListFilter& filter) = 0;

  // Heads of every secret in the given scopes (for the resolver): cost proportional to the
  // secrets of those scopes, never a scan of the store.
  virtual Result<std::vector<SecretMeta>> heads_in_scopes(const std::vector<Scope>& scopes) = 0;
  // Decrypts one version's value without auditing (the caller audits the launch/resolve).
  virtual Result<SecretValue> decrypt(const SecretAddress& address, std::int64_t version) = 0;

  // A counter that increases with every committed secret write (set/delete/purge/rollback/import).
  virtual Result<std::int64_t> change_counter() = 0;
  // Appends one audit record in its own transaction. `durable=false` allows synchronous=NORMAL
  // (launch and resolve records, SPEC §6).
  virtual Status append_audit(const AuditEvent& event, bool durable = true) = 0;
};

}  // namespace lockbox::store
