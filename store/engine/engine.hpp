#pragma once
// Private to lockbox_store: Engine, the one implementation of Store, over any Backend
// (store/internal/backend.hpp). Every backend-neutral rule lives here and nowhere else:
//   - opening: the master key checked by its KCV before anything is written, the KEK derived,
//     the fingerprint and audit keys unwrapped; data keys unwrapped lazily, so a damaged keyring
//     row only affects the secrets under that key (engine.cpp);
//   - sealing and AAD of every value, fingerprints, version numbering, carrying description,
//     tags and metadata to the next version, "not found / deleted at vN" (engine.cpp,
//     engine_writes.cpp, secret_ops.cpp);
//   - the audit chain and bounded details (engine_writes.cpp, audit.cpp);
//   - the nonce budget, rotation, re-encryption and rewrap (keys.cpp, reencrypt.cpp);
//   - tokens (tokens.cpp).
// A backend only stores rows, runs transactions, serialises writers and signals changes.
// Thread-safety: one thread at a time, like the Backend it owns.

#include <map>
#include <memory>
#include <utility>
#include <vector>

#include "core/secure_key.hpp"
#include "store/internal/backend.hpp"
#include "store/row_auth.hpp"
#include "store/store.hpp"

namespace lockbox::store {

// A backend transaction that rolls back unless committed.
class Tx {
 public:
  static Result<Tx> begin(Backend& backend, TxMode mode);
  Tx(Tx&& other) noexcept : backend_(std::exchange(other.backend_, nullptr)) {}
  Tx& operator=(Tx&&) = delete;
  Tx(const Tx&) = delete;
  Tx& operator=(const Tx&) = delete;
  ~Tx() {
    if (backend_ != nullptr) backend_->rollback();
  }
  Status commit();

 private:
  explicit Tx(Backend& backend) : backend_(&backend) {}
  Backend* backend_;
};

class Engine final : public Store {
 public:
  // Creates a store in an empty backend, then opens it through open().
  static Result<std::unique_ptr<Store>> create(const StoreOptions& options,
                                               std::unique_ptr<Backend> rows, MasterKey master_key,
                                               const std::string& where);
  // Opens the store in `rows`, migrating its schema when older. `where` names it in messages.
  static Result<std::unique_ptr<Store>> open(const StoreOptions& options,
                                             std::unique_ptr<Backend> rows, MasterKey master_key,
                                             const std::string& where);

  Result<WriteResult> set(SetRequest request) override;
  Result<SecretMeta> get(const SecretAddress& address,
                         std::optional<std::int64_t> version) override;
  Result<RevealedSecret> reveal(const SecretAddress& address) override;
  Result<std::vector<SecretMeta>> list(const ListFilter& filter) override;
  Result<SecretMeta> remove(const SecretAddress& address) override;
  Status purge(const SecretAddress& address) override;
  Result<std::vector<SecretMeta>> history(const SecretAddress& address) override;
  Result<SecretMeta> rollback(const SecretAddress& address, std::int64_t version) override;
  Result<ImportSummary> import(const Scope& scope, std::vector<ImportEntry> entries) override;
  Result<std::vector<WriteResult>> set_many(std::vector<SetRequest> requests) override;
  Result<std::vector<SecretMeta>> remove_many(const std::vector<SecretAddress>& addresses) override;
  Result<std::vector<RevealedSecret>> export_values(const ListFilter& filter) override;
  Result<std::vector<SecretMeta>> heads_in_scopes(const std::vector<Scope>& scopes) override;
  Result<SecretValue> decrypt(const SecretAddress& address, std::int64_t version) override;
  // The counter after its MAC and monotonicity checks (integrity.cpp).
  Result<std::int64_t> change_counter() override;
  Result<std::int64_t> wait_for_change(std::int64_t seen,
                                       std::int64_t timeout_ms) override;  // copy.cpp
  Status append_audit(const AuditEvent& event, bool durable) override;
  Status append_audit_batch(const std::vector<AuditEvent>& events, bool durable) override;
  Status maintenance() override { return rows_->maintenance(); }
  void set_actor(std::string actor) override { options_.actor = std::move(actor); }
  // Key lifecycle: keys.cpp, reencrypt.cpp.
  Result<KeyStatus> key_status() override;
  Result<RotateResult> rotate_data_key(std::optional<std::uint32_t> expected_active,
                                       const std::string& reason) override;
  Result<ReencryptSummary> reencrypt(const ReencryptOptions& options) override;
  Result<std::uint32_t> rewrap(MasterKey new_key) override;
  // Audit trail reads: audit.cpp.
  Status for_each_audit(const AuditFilter& filter,
                        const std::function<Status(const AuditRecord&)>& visit) override;
  Result<AuditVerifyResult> verify_audit(const std::optional<AuditCheckpoint>& checkpoint) override;
  Result<AuditCheckpoint> audit_checkpoint() override;
  // verify_audit inside the caller's transaction.
  Result<AuditVerifyResult> walk_audit(const std::optional<AuditCheckpoint>& checkpoint);
  // API tokens: tokens.cpp.
  Result<NewToken> create_token(const std::string& name, const std::string& role,
                                std::optional<UnixMillis> expires_at) override;
  Result<std::vector<TokenInfo>> list_tokens() override;
  Result<TokenInfo> revoke_token(const std::string& name) override;
  Result<TokenInfo> authenticate_token(std::string_view token, std::string* known_name) override;

 private:
  // What a new version carries (value already validated).
  struct NewVersion {
    const SecretValue* value = nullptr;  // null for a tombstone
    std::string description;
    std::vector<std::string> tags;
    std::map<std::string, std::string> metadata;
    std::optional<UnixMillis> expires_at;
    std::optional<std::int64_t> rotate_every = {};
    std::optional<std::int64_t> notify_before = {};
  };

  Engine(const StoreOptions& options, std::unique_ptr<Backend> rows);
  // Inside an open write transaction at `counter`: set() and remove() without their own
  // transaction and counter store (secret_ops.cpp); `note` is appended to the audit detail.
  Result<WriteResult> set_in_tx(SetRequest& request, std::int64_t counter, const std::string& note);
  Result<SecretMeta> remove_in_tx(const SecretAddress& address, std::int64_t counter,
                                  const std::string& note);
  Status load_keys(MasterKey master_key);
  // Brings a store that predates row authentication to it, once (row_auth.cpp): MACs the token
  // rows, in one kWrite transaction with a store.migrate record. Refuses (kIntegrity) a store
  // whose trail already has that record: its shape was rolled back to bless edited rows.
  Status migrate_row_auth();
  // Wraps the audit key again under an id above kRowAuthKeyIds and destroys its old row.
  Status move_audit_key();
  // MACs every secret and version row as found, builds the scope chain and MACs the counter;
  // returns how many secrets.
  Result<std::size_t> authenticate_secret_rows();
  // The MAC of a token row (every column but the MAC), and whether the stored one matches.
  [[nodiscard]] Mac token_mac(const TokenRow& row) const;
  [[nodiscard]] bool token_authentic(const TokenRow& row) const;
  // The secret at `address`; kNotFound "no secret REF" when there is none.
  Result<SecretRow> require_secret(const SecretAddress& address);
  // Metadata of one version; kNotFound "REF has no version N"; kIntegrity for a damaged row.
  Result<SecretMeta> read_version(const SecretAddress& address, const SecretRow& row,
                                  std::int64_t version);
  // Heads of every secret, or of one scope, as metadata (damaged rows: see list()).
  Result<std::vector<SecretMeta>> query_heads(const std::optional<Scope>& exact_scope,
                                              bool include_deleted, bool keep_damaged = false);
  Result<const SecureKey*> data_key(std::uint32_t key_id);
  Result<SecretValue> decrypt_version(const SecretAddress& address, const SecretRow& row,
                                      std::int64_t version);
  // Authenticates and decrypts one envelope; kIntegrity naming the secret on any failure.
  Result<SecretValue> open_value(const SecretAddress& address, ByteView uid, std::int64_t version,
                                 std::uint32_t key_id, ByteView envelope);
  // Inside an open transaction: appends version head+1 (creating the secret row when absent),
  // with its version and head MACs, and moves the secret in its scope row (at `counter`).
  Result<SecretMeta> write_version(const SecretAddress& address, std::optional<SecretRow> row,
                                   const NewVersion& version, std::int64_t counter);

  // Row authentication (integrity.cpp; SPEC §17, store/row_auth.hpp).
  struct ScopeLookup {
    bool found = false;  // `row` is the scope's own row; else its verified predecessor
    ScopeRow row;
    ScopeRowFields fields;  // of `row`, MAC verified
  };
  [[nodiscard]] Mac head_mac(const SecretRow& row) const;
  // kIntegrity naming the secret unless the row's head MAC verifies.
  Status check_head(const SecretAddress& address, const SecretRow& row) const;
  [[nodiscard]] Mac version_mac(const SecretAddress& address, ByteView uid,
                                const VersionRow& v) const;
  // kIntegrity naming the secret and version unless the row decodes and its MAC verifies.
  Status check_version(const SecretAddress& address, ByteView uid, const VersionRow& v) const;
  [[nodiscard]] ScopeDigest member(const SecretRow& row) const;
  // The row's fields once its digest size and MAC check; kIntegrity naming the scope otherwise.
  Result<ScopeRowFields> scope_fields(const ScopeRow& row) const;
  // The scope's row, or its predecessor proving it absent; kIntegrity when the chain is broken.
  Result<ScopeLookup> find_scope(std::string_view scope);
  // find_scope() on a row already read (Backend::scope_heads): the scope's row or its predecessor.
  Result<ScopeLookup> check_scope_row(std::string_view scope, std::optional<ScopeRow> row) const;
  // kIntegrity naming the scope unless `members` (its head rows) are exactly what its row (`row`,
  // as scope_at_or_before(scope) read it with the heads) says.
  Status verify_scope(std::string_view scope, std::optional<ScopeRow> row,
                      const std::vector<const SecretRow*>& members);
  // The same for every scope at once, with the whole chain (heads of every secret).
  Status verify_all_scopes(const std::vector<SecretVersionRow>& heads);
  // Inside a write transaction: `removed` leaves and `added` joins the scope (either may be null).
  Status update_scope(const std::string& scope, const SecretRow* removed, const SecretRow* added,
                      std::int64_t counter);
  // Writes the coalesced scope rows (before any lookup of the chain, and at commit).
  Status flush_pending_scopes();
  // Writes everything coalesced in the open transaction; Tx::commit() calls it first.
  Status flush_pending_rows();
  Status put_sentinel_scope(std::int64_t counter);
  // The verified counter + 1 (what a write stores with store_change_counter()).
  Result<std::int64_t> next_change_counter();
  Status store_change_counter(std::int64_t value);
  // Unwraps the fingerprint and audit keys under kek_ and derives the audit chain and row-auth
  // keys.
  Status unwrap_service_keys();
  Status append_audit_in_tx(const AuditEvent& event);
  // The same for several records, chained in order, with one tail read (engine_writes.cpp).
  Status append_audits_in_tx(const std::vector<AuditEvent>& events);
  // Inside an open transaction: a new random key of `purpose` wrapped under the current KEK.
  Result<std::uint32_t> insert_wrapped_key(const char* purpose, UnixMillis now);
  // Inside an open transaction: the active data key, or kIntegrity (a damaged keyring).
  Result<KeyRow> active_data_key();
  // Inside an open transaction: the current master-key generation, or kIntegrity.
  Result<std::uint32_t> current_generation();
  // Inside an open transaction: the active data key's id, with one encryption reserved from its
  // nonce budget (keys.cpp). Rotates first when the budget is exhausted (once: with
  // `rotated_for_budget`, an exhausted key is an error).
  Result<std::uint32_t> reserve_encryption(bool rotated_for_budget = false);
  // Inside an open transaction: old active data key -> decrypt_only, a new active one, key.rotate.
  Result<RotateResult> rotate_in_tx(std::optional<std::uint32_t> expected_active,
                                    const std::string& reason);

  // Re-encryption (reencrypt.cpp). Inside a transaction: up to `limit` unquarantined versions
  // of the lowest old data key that has any; `key_id` is that key (0 when nothing is left).
  Status next_reencrypt_batch(std::size_t limit, std::uint32_t& key_id,
                              std::vector<SecretVersionRow>& batch);
  // Inside a transaction: moves `batch` from `old_key` to the active key (CAS on row_rev),
  // quarantining versions that fail authentication.
  Status reencrypt_batch(std::uint32_t old_key, const std::vector<SecretVersionRow>& batch,
                         ReencryptSummary& summary);
  // Tries every quarantined version again (one transaction): entries whose version now
  // authenticates (restored from a backup) or no longer exists are released.
  Status recheck_quarantine();
  // Inside a transaction: retires emptied old keys and writes the run's key.reencrypt record.
  Status finish_reencrypt(ReencryptSummary& summary);
  // Rewrap helpers (keys.cpp): kBadInput when `key` is the current or a retired master key;
  // rewrapping every keyring entry under `next_kek` (generation `next`), returning the count.
  Status check_new_master_key(const SecureKey& key);
  Result<std::size_t> rewrap_keyring(const SecureKey& next_kek, std::uint32_t next);

  // Encryptions reserved by this process from a data key's nonce budget and not yet used.
  // Dropped when the transaction that reserved them rolls back.
  struct NonceBlock {
    std::uint32_t key_id = 0;
    std::int64_t remaining = 0;
  };

  StoreOptions options_;
  std::unique_ptr<Backend> rows_;
  Bytes store_id_;
  std::uint32_t kek_generation_ = 0;
  SecureKey kek_;
  SecureKey fingerprint_key_;
  SecureKey audit_chain_key_;
  SecureKey row_auth_key_;
  HmacKey row_auth_mac_;  // row_auth_key_ keyed once: the row MACs of every read (issue 11)
  std::int64_t row_auth_version_ = 0;  // from the audit key's id (kRowAuthKeyIds), at open
  // The highest change counter this engine has seen (counter reads, scope rows): a lower counter
  // means the counter was rolled back. Updated only by reads outside write transactions.
  std::int64_t highest_counter_ = 0;
  std::map<std::uint32_t, SecureKey> data_keys_;
  NonceBlock nonce_block_;
  // Row writes of the open write transaction coalesced until its commit (flush_pending_rows):
  // each scope's new fields, and encryptions counted per data key. A rollback drops them.
  std::map<std::string, ScopeRowFields> pending_scopes_;
  std::map<std::uint32_t, std::int64_t> pending_encryptions_;
  std::int64_t next_block_size_ = 16;
};

// The row authentication this build maintains (meta.row_auth; persistent, never renumber).
inline constexpr std::int64_t kRowAuthVersion = 1;

// The key_ids of the audit and fingerprint keys start above this; data keys are numbered below.
inline constexpr std::int64_t kServiceKeyIds = std::int64_t{1} << 31;
// Audit keys numbered above this belong to stores with row authentication (SPEC §17); stores
// older than it have their audit key at kServiceKeyIds + 1 until the migration moves it here.
inline constexpr std::int64_t kRowAuthKeyIds = kServiceKeyIds + (std::int64_t{1} << 30);

}  // namespace lockbox::store
