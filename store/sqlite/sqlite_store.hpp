#pragma once
// Private to lockbox_store: the SQLite implementation of Store.
// Open verifies the master key by its KCV before anything is written, then holds the current KEK,
// the fingerprint key and the audit chain key; data keys are unwrapped lazily, so a damaged
// keyring row only affects the secrets under that key.

#include <map>
#include <memory>
#include <vector>

#include "core/secure_key.hpp"
#include "store/store.hpp"
#include "store/sqlite/db.hpp"

namespace lockbox::store::sqlite {

class SqliteStore final : public Store {
 public:
  static Result<std::unique_ptr<Store>> create(const StoreOptions& options,
                                               const std::filesystem::path& path, MasterKey master_key);
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options,
                                             const std::filesystem::path& path, MasterKey master_key);

  Result<WriteResult> set(SetRequest request) override;
  Result<SecretMeta> get(const SecretAddress& address, std::optional<std::int64_t> version) override;
  Result<RevealedSecret> reveal(const SecretAddress& address) override;
  Result<std::vector<SecretMeta>> list(const ListFilter& filter) override;
  Result<SecretMeta> remove(const SecretAddress& address) override;
  Status purge(const SecretAddress& address) override;
  Result<std::vector<SecretMeta>> history(const SecretAddress& address) override;
  Result<SecretMeta> rollback(const SecretAddress& address, std::int64_t version) override;
  Result<ImportSummary> import(const Scope& scope, std::vector<ImportEntry> entries) override;
  Result<std::vector<RevealedSecret>> export_values(const ListFilter& filter) override;
  Result<std::vector<SecretMeta>> heads_in_scopes(const std::vector<Scope>& scopes) override;
  Result<SecretValue> decrypt(const SecretAddress& address, std::int64_t version) override;
  Result<std::int64_t> change_counter() override;
  Status append_audit(const AuditEvent& event, bool durable) override;
  Status append_audit_batch(const std::vector<AuditEvent>& events, bool durable) override;
  Status maintenance() override { return db_.exec("PRAGMA wal_checkpoint(PASSIVE)"); }
  void set_actor(std::string actor) override { options_.actor = std::move(actor); }
  // Key lifecycle: sqlite_keys.cpp.
  Result<KeyStatus> key_status() override;
  Result<RotateResult> rotate_data_key(std::optional<std::uint32_t> expected_active,
                                       const std::string& reason) override;
  Result<ReencryptSummary> reencrypt(const ReencryptOptions& options) override;
  Result<std::uint32_t> rewrap(MasterKey new_key) override;
  // Audit trail reads: sqlite_audit.cpp.
  Status for_each_audit(const AuditFilter& filter,
                        const std::function<Status(const AuditRecord&)>& visit) override;
  Result<AuditVerifyResult> verify_audit(const std::optional<AuditCheckpoint>& checkpoint) override;
  Result<AuditCheckpoint> audit_checkpoint() override;
  // API tokens: sqlite_tokens.cpp.
  Result<NewToken> create_token(const std::string& name, const std::string& role,
                                std::optional<UnixMillis> expires_at) override;
  Result<std::vector<TokenInfo>> list_tokens() override;
  Result<TokenInfo> revoke_token(const std::string& name) override;
  Result<TokenInfo> authenticate_token(std::string_view token, std::string* known_name) override;

 private:
  // The secret row for (scope, name), if any.
  struct SecretRow {
    std::int64_t id = 0;
    Bytes uid;
    std::int64_t head_version = 0;
    UnixMillis created_at = 0;
  };
  // What a new version carries (value already validated).
  struct NewVersion {
    const SecretValue* value = nullptr;  // null for a tombstone
    std::string description;
    std::vector<std::string> tags;
    std::map<std::string, std::string> metadata;
    std::optional<UnixMillis> expires_at;
  };

  SqliteStore(const StoreOptions& options, Db db);
  Status load_keys(MasterKey master_key);
  Result<std::optional<SecretRow>> find_secret(const SecretAddress& address);
  Result<SecretMeta> read_version(const SecretAddress& address, const SecretRow& row,
                                  std::int64_t version);
  Result<std::vector<SecretMeta>> query_heads(const std::optional<Scope>& exact_scope,
                                              bool include_deleted);
  Result<const SecureKey*> data_key(std::uint32_t key_id);
  Result<SecretValue> decrypt_version(const SecretAddress& address, const SecretRow& row,
                                      std::int64_t version);
  // Authenticates and decrypts one envelope; kIntegrity naming the secret on any failure.
  Result<SecretValue> open_value(const SecretAddress& address, ByteView uid, std::int64_t version,
                                 std::uint32_t key_id, ByteView envelope);
  // Inside an open transaction: appends version head+1 (creating the secret row when absent).
  Result<SecretMeta> write_version(const SecretAddress& address, std::optional<SecretRow> row,
                                   const NewVersion& version);
  Status append_audit_in_tx(const AuditEvent& event);
  Status bump_change_counter();
  // Inside an open transaction: the active data key's id, with one encryption reserved from its
  // nonce budget (sqlite_keys.cpp). Rotates first when the budget is exhausted (once: with
  // `rotated_for_budget`, an exhausted key is an error).
  Result<std::uint32_t> reserve_encryption(bool rotated_for_budget = false);
  // Inside an open transaction: old active data key -> decrypt_only, a new active one, key.rotate.
  Result<RotateResult> rotate_in_tx(std::optional<std::uint32_t> expected_active,
                                    const std::string& reason);

  // Re-encryption (sqlite_reencrypt.cpp): a version still under an old data key, as read.
  struct PendingVersion {
    std::int64_t secret_id = 0;
    std::int64_t version = 0;
    std::int64_t row_rev = 0;
    Bytes envelope;
    SecretAddress address;
    Bytes uid;
  };
  // Inside a transaction: up to `limit` unquarantined versions of the lowest decrypt_only key
  // that has any; `key_id` is that key (0 and no versions when nothing is left).
  Status next_reencrypt_batch(std::size_t limit, std::uint32_t& key_id, std::vector<PendingVersion>& batch);
  // Inside a transaction: moves `batch` from `old_key` to the active key (CAS on row_rev),
  // quarantining versions that fail authentication.
  Status reencrypt_batch(std::uint32_t old_key, const std::vector<PendingVersion>& batch,
                         ReencryptSummary& summary);
  // Tries every quarantined version again (one transaction): entries whose version now
  // authenticates (restored from a backup) or no longer exists are released.
  Status recheck_quarantine();
  // Inside a transaction: retires emptied old keys and writes the run's key.reencrypt record.
  Status finish_reencrypt(ReencryptSummary& summary);
  // Rewrap helpers (sqlite_keys.cpp): kBadInput when `key` is the current or a retired master
  // key; rewrapping every keyring entry under `next_kek` (generation `next`), returning the count.
  Status check_new_master_key(const SecureKey& key);
  Result<std::size_t> rewrap_keyring(const SecureKey& next_kek, std::uint32_t next);

  // Encryptions reserved by this process from a data key's nonce budget and not yet used.
  // Dropped when the transaction that reserved them rolls back.
  struct NonceBlock {
    std::uint32_t key_id = 0;
    std::int64_t remaining = 0;
  };

  StoreOptions options_;
  Db db_;
  Bytes store_id_;
  std::uint32_t kek_generation_ = 0;
  SecureKey kek_;
  SecureKey fingerprint_key_;
  SecureKey audit_chain_key_;
  std::map<std::uint32_t, SecureKey> data_keys_;
  NonceBlock nonce_block_;
  std::int64_t next_block_size_ = 16;
};

// The key_ids of the audit and fingerprint keys start above this; data keys are numbered below.
inline constexpr std::int64_t kServiceKeyIds = std::int64_t{1} << 31;

// Inserts a new random key of `purpose` wrapped under `kek` (generation `generation`), state
// active, inside the caller's transaction. Returns its key_id.
Result<std::uint32_t> insert_wrapped_key(Db& db, const SecureKey& kek, std::uint32_t generation,
                                         const char* purpose, ByteView store_id, UnixMillis now,
                                         Random& random, std::int64_t max_encryptions);

}  // namespace lockbox::store::sqlite
