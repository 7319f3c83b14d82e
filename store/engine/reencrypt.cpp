// Engine::reencrypt (CRYPTO.md "Rotation"): moves every version under an old data key to
// the active one in batches, each its own kWrite transaction. Progress is the data itself
// (a version's key_id), so a kill at any point loses nothing and a rerun resumes where the last
// committed batch ended. Versions that fail authentication go to the quarantine instead of wedging
// the run; their key is not retired while they remain.
#include <fmt/format.h>

#include <algorithm>

#include "core/fault.hpp"
#include "store/envelope.hpp"
#include "store/engine/engine.hpp"
#include "store/engine/options.hpp"

namespace lockbox::store {
namespace {

constexpr std::int64_t kLargeRewrite = 1000;  // rows after which the WAL is folded in

}  // namespace

Status Engine::next_reencrypt_batch(std::size_t limit, std::uint32_t& key_id,
                                    std::vector<SecretVersionRow>& batch) {
  key_id = 0;
  batch.clear();
  // The old keys are read again for every batch: a rotation (manual, or by the nonce budget)
  // may happen between batches. Retired keys too: a version restored from a backup after its
  // key was retired must move.
  LOCKBOX_ASSIGN_OR_RETURN(const auto keys, rows_->keys("data"));
  for (const KeyRow& k : keys) {
    if (k.state != "decrypt_only" && k.state != "retired") continue;
    LOCKBOX_ASSIGN_OR_RETURN(batch, rows_->versions_under_key(k.key_id, limit));
    if (!batch.empty()) {
      key_id = k.key_id;
      return Status::ok();
    }
  }
  return Status::ok();
}

Status Engine::reencrypt_batch(std::uint32_t old_key, const std::vector<SecretVersionRow>& batch,
                               ReencryptSummary& summary) {
  // An old key that cannot be unwrapped is damage of the keyring, not of its rows: stop rather
  // than quarantine every version under it.
  LOCKBOX_TRY(data_key(old_key).status());
  for (const SecretVersionRow& p : batch) {
    LOCKBOX_ASSIGN_OR_RETURN(Scope scope, Scope::parse(p.secret.scope));
    const SecretAddress address{std::move(scope), p.secret.name};
    const std::int64_t version = p.version.version;
    auto value = open_value(address, p.secret.uid, version, old_key, p.version.envelope);
    // Only damage is quarantined; a key problem (e.g. a concurrent rewrap) stops the run.
    if (!value.is_ok() && value.status().code() != StatusCode::kIntegrity) return value.status();
    if (!value.is_ok()) {
      LOCKBOX_TRY(rows_->quarantine({p.secret.id, version, old_key,
                                     "fails authentication during re-encryption", clock_of(options_).now()}));
      ++summary.quarantined;
      continue;
    }
    LOCKBOX_ASSIGN_OR_RETURN(const std::uint32_t new_key, reserve_encryption());
    LOCKBOX_ASSIGN_OR_RETURN(const SecureKey* key, data_key(new_key));
    const Bytes context = secret_aad_context(store_id_, p.secret.scope, p.secret.name, p.secret.uid,
                                             static_cast<std::uint64_t>(version));
    LOCKBOX_ASSIGN_OR_RETURN(const Bytes envelope,
                             seal_envelope(*key, new_key, kLabelSecretValue, context,
                                           as_bytes(value->reveal()), random_of(options_)));
    // Compare-and-swap: a version changed since it was read (another re-encryption, a purge) is
    // left to whoever changed it.
    LOCKBOX_ASSIGN_OR_RETURN(const bool replaced, rows_->replace_envelope(p.secret.id, version, p.version.row_rev,
                                                                          old_key, new_key, envelope));
    if (replaced) ++summary.reencrypted;
  }
  return Status::ok();
}

Status Engine::recheck_quarantine() {
  // The quarantine is a hint, not a verdict: a row restored from a backup, or an entry planted by
  // someone who can edit the file, must not keep a healthy version (and its old key) pinned.
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(const auto entries, rows_->quarantined());
  for (const Backend::QuarantineEntry& e : entries) {
    bool release = !e.current || e.current->version.tombstone;  // purged, or holds no value
    if (!release) {
      auto scope = Scope::parse(e.current->secret.scope);
      if (!scope.is_ok()) continue;  // still damaged
      const SecretAddress address{std::move(scope).value(), e.current->secret.name};
      auto value = open_value(address, e.current->secret.uid, e.row.version, e.current->version.key_id,
                              e.current->version.envelope);
      if (!value.is_ok() && value.status().code() != StatusCode::kIntegrity) return value.status();
      release = value.is_ok();
    }
    if (release) LOCKBOX_TRY(rows_->release_quarantine(e.row.secret_id, e.row.version));
  }
  return tx.commit();
}

Status Engine::finish_reencrypt(ReencryptSummary& summary) {
  // Quarantined versions keep their key in use, so it is not retired.
  LOCKBOX_ASSIGN_OR_RETURN(summary.retired, rows_->retire_unused_keys());
  std::sort(summary.retired.begin(), summary.retired.end());
  LOCKBOX_ASSIGN_OR_RETURN(const KeyRow active, active_data_key());
  summary.active = active.key_id;
  std::string retired;
  for (const std::uint32_t k : summary.retired) {
    retired += (retired.empty() ? "" : ",") + std::to_string(k);
  }
  // One record per run (SPEC §7), in the run's last transaction.
  return append_audit_in_tx(
      {"key.reencrypt", fmt::format("keyring:data/{}", active.key_id),
       summary.quarantined > 0 ? "quarantined" : "ok",
       fmt::format("{} versions re-encrypted, {} quarantined; retired keys: {}", summary.reencrypted,
                   summary.quarantined, retired.empty() ? "none" : retired)});
}

Result<ReencryptSummary> Engine::reencrypt(const ReencryptOptions& options) {
  const std::size_t batch_size = std::max<std::size_t>(options.batch_size, 1);
  ReencryptSummary summary;
  ReencryptProgress progress;
  LOCKBOX_TRY(recheck_quarantine());
  {
    LOCKBOX_ASSIGN_OR_RETURN(const KeyStatus status, key_status());
    for (const DataKeyStatus& k : status.keys) {
      if (k.version != status.active_version) progress.total += k.versions_encrypted;
    }
    progress.total -= static_cast<std::int64_t>(status.quarantined.size());
  }
  std::vector<SecretVersionRow> batch;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
    std::uint32_t old_key = 0;
    LOCKBOX_TRY(next_reencrypt_batch(batch_size, old_key, batch));
    if (batch.empty()) {
      LOCKBOX_TRY(finish_reencrypt(summary));
      fault::point("reencrypt.before-final-commit");
      LOCKBOX_TRY(tx.commit());
      break;
    }
    LOCKBOX_TRY(reencrypt_batch(old_key, batch, summary));
    fault::point("reencrypt.before-commit");
    LOCKBOX_TRY(tx.commit());
    fault::point("reencrypt.after-commit");
    progress.done = summary.reencrypted + summary.quarantined;
    if (options.on_progress) options.on_progress(progress);
  }
  // The rewritten pages of a large run would otherwise sit in SQLite's WAL, replayed by every open.
  if (summary.reencrypted > kLargeRewrite) (void)rows_->compact();
  return summary;
}

}  // namespace lockbox::store
