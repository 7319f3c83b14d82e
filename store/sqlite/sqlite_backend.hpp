#pragma once
// Private to lockbox_store: the SQLite implementation of Backend (store/internal/backend.hpp).
// Rows, transactions and the writer lock only; every rule about keys, envelopes and the audit
// chain is the engine's. One connection; WAL; synchronous=FULL except inside kWriteRelaxed
// transactions (NORMAL); BEGIN IMMEDIATE for writers; busy waits up to the busy timeout.
// Thread-safety: one thread at a time.

#include <filesystem>
#include <functional>
#include <memory>

#include "store/internal/backend.hpp"
#include "store/sqlite/db.hpp"

namespace lockbox::store::sqlite {

class SqliteBackend final : public Backend {
 public:
  // Opens (or with `create`, creates) the database file at `path`. A missing file without
  // `create` is kRuntime "no store at PATH (run lockbox init)".
  static Result<std::unique_ptr<SqliteBackend>> open(const std::filesystem::path& path, bool create,
                                                     std::int64_t busy_timeout_ms,
                                                     int wal_autocheckpoint_pages);

  Result<int> schema_version() override;
  [[nodiscard]] int latest_schema_version() const override;
  Status create_schema() override;
  Status migrate() override;
  Status verify_schema_objects() override;
  Status begin(TxMode mode) override;
  Status commit() override;
  void rollback() override;
  void set_rollback_hook(std::function<void()> hook) override;
  Status maintenance() override;
  Status compact() override;

  Result<MetaRow> read_meta() override;
  Status insert_meta(const MetaRow& meta) override;
  Status set_change_counter(std::int64_t value, ByteView mac) override;
  Result<CounterRow> change_counter() override;

  Result<std::vector<MasterKeyRow>> master_keys() override;
  Status insert_master_key(const MasterKeyRow& row) override;
  Status set_master_key_state(std::uint32_t generation, std::string_view state) override;
  Result<std::optional<KeyRow>> key(std::uint32_t key_id) override;
  Result<std::vector<KeyRow>> keys(std::string_view purpose) override;
  Result<std::optional<KeyRow>> active_key(std::string_view purpose) override;
  Result<std::optional<std::uint32_t>> max_key_id(std::int64_t lo, std::int64_t hi) override;
  Status insert_key(const KeyRow& row) override;
  Status set_key_state(std::uint32_t key_id, std::string_view state) override;
  Status set_key_wrapping(std::uint32_t key_id, std::uint32_t generation,
                          ByteView wrapped) override;
  Status destroy_key(std::uint32_t key_id) override;
  Result<bool> reserve_encryptions(std::uint32_t key_id, std::int64_t expected,
                                   std::int64_t granted) override;
  Status count_encryptions(std::uint32_t key_id, std::int64_t n) override;
  Result<std::map<std::uint32_t, std::int64_t>> versions_per_key() override;
  Result<std::vector<std::uint32_t>> retire_unused_keys() override;

  Result<std::optional<SecretRow>> find_secret(std::string_view scope,
                                               std::string_view name) override;
  Result<std::int64_t> insert_secret(const SecretRow& row) override;
  Status set_head(std::int64_t secret_id, std::int64_t head_version, ByteView row_mac) override;
  Status set_secret_mac(std::int64_t secret_id, ByteView row_mac) override;
  Status set_version_mac(std::int64_t secret_id, std::int64_t version, ByteView row_mac) override;
  Result<std::optional<ScopeRow>> scope_at_or_before(std::string_view scope) override;
  Result<std::vector<ScopeRow>> scopes() override;
  Status put_scope(const ScopeRow& row) override;
  Status delete_secret(std::int64_t secret_id) override;
  Result<std::optional<VersionRow>> version(std::int64_t secret_id, std::int64_t version,
                                            bool with_envelope) override;
  Result<std::optional<SecretVersionRow>> secret_version(std::string_view scope,
                                                         std::string_view name,
                                                         std::int64_t version) override;
  Result<std::vector<VersionRow>> versions(std::int64_t secret_id) override;
  Result<std::vector<SecretVersionRow>> heads(const std::optional<std::string>& scope) override;
  Result<std::optional<SecretVersionRow>> head(std::string_view scope,
                                               std::string_view name) override;
  Result<ScopeHeads> scope_heads(std::string_view scope) override;
  Status insert_version(std::int64_t secret_id, const VersionRow& row) override;
  Result<bool> replace_envelope(std::int64_t secret_id, std::int64_t version, std::int64_t row_rev,
                                std::uint32_t old_key, std::uint32_t new_key,
                                ByteView envelope) override;
  Result<std::vector<SecretVersionRow>> versions_under_key(std::uint32_t key_id,
                                                           std::size_t limit) override;

  Status quarantine(const QuarantineRow& row) override;
  Result<std::vector<QuarantineEntry>> quarantined() override;
  Status release_quarantine(std::int64_t secret_id, std::int64_t version) override;

  Result<std::optional<AuditTail>> audit_tail() override;
  Status insert_audit(const AuditRecord& record) override;
  Status scan_audit(const AuditFilter& filter, const AuditVisitor& visit) override;

  Result<std::optional<TokenRow>> token(std::string_view id) override;
  Result<bool> live_token_named(std::string_view name) override;
  Result<std::optional<TokenRow>> live_token_by_name(std::string_view name) override;
  Status insert_token(const TokenRow& row) override;
  Status set_token_revoked(std::string_view id, UnixMillis at, ByteView row_mac) override;
  Status set_token_mac(std::string_view id, ByteView row_mac) override;
  Result<std::vector<TokenRow>> tokens() override;

  // store copy (sqlite_copy.cpp).
  Status scan_versions(const VersionVisitor& visit) override;
  Status set_key_counts(std::uint32_t key_id, std::int64_t encryptions,
                        std::int64_t reserved) override;

 private:
  explicit SqliteBackend(Db db);

  Db db_;
  TxMode mode_ = TxMode::kRead;
  bool in_tx_ = false;
  std::function<void()> rollback_hook_;
};

}  // namespace lockbox::store::sqlite
