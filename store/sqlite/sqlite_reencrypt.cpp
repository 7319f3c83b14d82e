// SqliteStore::reencrypt (CRYPTO.md "Rotation"): moves every version under an old data key to
// the active one in batches, each its own BEGIN IMMEDIATE transaction. Progress is the data itself
// (a version's key_id), so a kill at any point loses nothing and a rerun resumes where the last
// committed batch ended. Versions that fail authentication go to the quarantine instead of wedging
// the run; their key is not retired while they remain.
#include <fmt/format.h>

#include <algorithm>

#include "core/fault.hpp"
#include "store/envelope.hpp"
#include "store/sqlite/keyring.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace lockbox::store::sqlite {
namespace {

constexpr std::int64_t kLargeRewrite = 1000;  // rows after which the WAL is folded in

// Retired keys too: a version restored from a backup after its key was retired must move.
constexpr const char* kOldKeys =
    "SELECT key_id FROM keyring WHERE purpose = 'data' AND state IN ('decrypt_only', 'retired') "
    "ORDER BY key_id";
constexpr const char* kPending =
    "SELECT v.secret_id, v.version, v.row_rev, v.envelope, s.scope, s.name, s.uid "
    "FROM versions v JOIN secrets s ON s.id = v.secret_id "
    "WHERE v.key_id = ? AND NOT EXISTS (SELECT 1 FROM quarantine q "
    "WHERE q.secret_id = v.secret_id AND q.version = v.version) LIMIT ?";

}  // namespace

Status SqliteStore::next_reencrypt_batch(std::size_t limit, std::uint32_t& key_id,
                                         std::vector<PendingVersion>& batch) {
  key_id = 0;
  batch.clear();
  // The old keys are read again for every batch: a rotation (manual, or by the nonce budget)
  // may happen between batches.
  std::vector<std::uint32_t> old_keys;
  {
    LOCKBOX_ASSIGN_OR_RETURN(auto keys, db_.prepare(kOldKeys));
    while (true) {
      LOCKBOX_ASSIGN_OR_RETURN(const bool row, keys.step());
      if (!row) break;
      old_keys.push_back(static_cast<std::uint32_t>(keys.int64(0)));
    }
  }
  for (const std::uint32_t k : old_keys) {
    LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached(kPending));
    st->bind(1, std::int64_t{k}).bind(2, static_cast<std::int64_t>(limit));
    while (true) {
      LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
      if (!row) break;
      auto scope = Scope::parse(st->text(4));
      if (!scope.is_ok()) {
        st->reset();
        return scope.status().with_context("secret row");
      }
      batch.push_back({st->int64(0), st->int64(1), st->int64(2),
                       Bytes(st->blob(3).begin(), st->blob(3).end()),
                       SecretAddress{std::move(scope).value(), st->text(5)},
                       Bytes(st->blob(6).begin(), st->blob(6).end())});
    }
    st->reset();
    if (!batch.empty()) {
      key_id = k;
      return Status::ok();
    }
  }
  return Status::ok();
}

Status SqliteStore::reencrypt_batch(std::uint32_t old_key, const std::vector<PendingVersion>& batch,
                                    ReencryptSummary& summary) {
  // An old key that cannot be unwrapped is damage of the keyring, not of its rows: stop rather
  // than quarantine every version under it.
  LOCKBOX_TRY(data_key(old_key).status());
  for (const PendingVersion& p : batch) {
    auto value = open_value(p.address, p.uid, p.version, old_key, p.envelope);
    // Only damage is quarantined; a key problem (e.g. a concurrent rewrap) stops the run.
    if (!value.is_ok() && value.status().code() != StatusCode::kIntegrity) return value.status();
    if (!value.is_ok()) {
      LOCKBOX_ASSIGN_OR_RETURN(Statement * q, db_.cached(
          "INSERT OR IGNORE INTO quarantine(secret_id, version, key_id, reason, detected_at) "
          "VALUES (?, ?, ?, ?, ?)"));
      q->bind(1, p.secret_id).bind(2, p.version).bind(3, std::int64_t{old_key})
          .bind(4, std::string_view("fails authentication during re-encryption"))
          .bind(5, clock_of(options_).now());
      LOCKBOX_TRY(q->run());
      ++summary.quarantined;
      continue;
    }
    LOCKBOX_ASSIGN_OR_RETURN(const std::uint32_t new_key, reserve_encryption());
    LOCKBOX_ASSIGN_OR_RETURN(const SecureKey* key, data_key(new_key));
    const Bytes context = secret_aad_context(store_id_, p.address.scope.address(), p.address.name,
                                             p.uid, static_cast<std::uint64_t>(p.version));
    LOCKBOX_ASSIGN_OR_RETURN(const Bytes envelope,
                             seal_envelope(*key, new_key, kLabelSecretValue, context,
                                           as_bytes(value->reveal()), random_of(options_)));
    // Compare-and-swap: a version changed since it was read (another re-encryption, a purge) is
    // left to whoever changed it.
    LOCKBOX_ASSIGN_OR_RETURN(Statement * upd, db_.cached(
        "UPDATE versions SET key_id = ?, envelope = ?, row_rev = row_rev + 1 "
        "WHERE secret_id = ? AND version = ? AND row_rev = ? AND key_id = ?"));
    upd->bind(1, std::int64_t{new_key}).bind_blob(2, envelope).bind(3, p.secret_id)
        .bind(4, p.version).bind(5, p.row_rev).bind(6, std::int64_t{old_key});
    LOCKBOX_TRY(upd->run());
    if (db_.changes() == 1) ++summary.reencrypted;
  }
  return Status::ok();
}

Status SqliteStore::recheck_quarantine() {
  // The quarantine is a hint, not a verdict: a row restored from a backup, or an entry planted by
  // someone who can edit the file, must not keep a healthy version (and its old key) pinned.
  LOCKBOX_ASSIGN_OR_RETURN(auto tx, Transaction::begin(db_));
  std::vector<std::pair<std::int64_t, std::int64_t>> released;
  {
    LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare(
        "SELECT q.secret_id, q.version, v.key_id, v.envelope, s.scope, s.name, s.uid "
        "FROM quarantine q LEFT JOIN versions v ON v.secret_id = q.secret_id AND v.version = q.version "
        "LEFT JOIN secrets s ON s.id = q.secret_id"));
    while (true) {
      LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
      if (!row) break;
      const std::pair<std::int64_t, std::int64_t> id{st.int64(0), st.int64(1)};
      if (st.is_null(2) || st.is_null(4)) {  // the version is gone (purged) or has no value
        released.push_back(id);
        continue;
      }
      auto scope = Scope::parse(st.text(4));
      if (!scope.is_ok()) continue;  // still damaged
      const SecretAddress address{std::move(scope).value(), st.text(5)};
      const Bytes envelope(st.blob(3).begin(), st.blob(3).end());
      const Bytes uid(st.blob(6).begin(), st.blob(6).end());
      auto value = open_value(address, uid, id.second, static_cast<std::uint32_t>(st.int64(2)), envelope);
      if (value.is_ok()) {
        released.push_back(id);
      } else if (value.status().code() != StatusCode::kIntegrity) {
        return value.status();
      }
    }
  }
  for (const auto& [secret_id, version] : released) {
    LOCKBOX_ASSIGN_OR_RETURN(auto del, db_.prepare(
        "DELETE FROM quarantine WHERE secret_id = ? AND version = ?"));
    del.bind(1, secret_id).bind(2, version);
    LOCKBOX_TRY(del.run());
  }
  return tx->commit();
}

Status SqliteStore::finish_reencrypt(ReencryptSummary& summary) {
  // Quarantined versions keep their key in use, so it is not retired.
  LOCKBOX_ASSIGN_OR_RETURN(auto retire, db_.prepare(
      "UPDATE keyring SET state = 'retired', row_rev = row_rev + 1 WHERE purpose = 'data' AND "
      "state = 'decrypt_only' AND NOT EXISTS (SELECT 1 FROM versions v WHERE v.key_id = "
      "keyring.key_id) RETURNING key_id"));
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, retire.step());
    if (!row) break;
    summary.retired.push_back(static_cast<std::uint32_t>(retire.int64(0)));
  }
  std::sort(summary.retired.begin(), summary.retired.end());
  LOCKBOX_ASSIGN_OR_RETURN(const ActiveKey active, active_data_key(db_));
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

Result<ReencryptSummary> SqliteStore::reencrypt(const ReencryptOptions& options) {
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
  std::vector<PendingVersion> batch;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(auto tx, Transaction::begin(db_));
    std::uint32_t old_key = 0;
    LOCKBOX_TRY(next_reencrypt_batch(batch_size, old_key, batch));
    if (batch.empty()) {
      LOCKBOX_TRY(finish_reencrypt(summary));
      fault::point("reencrypt.before-final-commit");
      LOCKBOX_TRY(tx->commit());
      break;
    }
    LOCKBOX_TRY(reencrypt_batch(old_key, batch, summary));
    fault::point("reencrypt.before-commit");
    LOCKBOX_TRY(tx->commit());
    fault::point("reencrypt.after-commit");
    progress.done = summary.reencrypted + summary.quarantined;
    if (options.on_progress) options.on_progress(progress);
  }
  // The rewritten pages of a large run would otherwise sit in the WAL, replayed by every open.
  if (summary.reencrypted > kLargeRewrite) (void)db_.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  return summary;
}

}  // namespace lockbox::store::sqlite
