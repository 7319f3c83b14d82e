// Engine: creating a store, appending audit records and versions. Each write is one kWrite
// transaction that also appends its audit record and bumps the change counter.
#include <fmt/format.h>

#include <array>

#include "store/audit_chain.hpp"
#include "store/engine/engine.hpp"
#include "store/engine/options.hpp"
#include "store/envelope.hpp"
#include "store/key_schedule.hpp"

namespace lockbox::store {
namespace {

constexpr std::array<const char*, 3> kInitialKeyPurposes = {"data", "audit", "fingerprint"};

}  // namespace

Result<std::uint32_t> Engine::insert_wrapped_key(const char* purpose, UnixMillis now) {
  // Data keys are numbered 1, 2, 3... (their number is the `version` keys status shows and the
  // key_id in each envelope); the audit and fingerprint keys live above kServiceKeyIds. A key_id
  // is never reused: no keyring row is ever deleted (a destroyed key keeps its row).
  // An audit key is numbered above kRowAuthKeyIds: its id (bound into its wrapping) says that the
  // store has row authentication, so no edit can make an authenticated store look like an older
  // one.
  const bool data = std::string_view(purpose) == "data";
  const bool audit = std::string_view(purpose) == "audit";
  const std::int64_t lo = data ? 0 : audit ? kRowAuthKeyIds : kServiceKeyIds;
  const std::int64_t hi = data ? kServiceKeyIds : audit ? 0xFFFFFFFF : kRowAuthKeyIds;
  LOCKBOX_ASSIGN_OR_RETURN(const auto top, rows_->max_key_id(lo, hi));
  const auto key_id = static_cast<std::uint32_t>(top ? std::int64_t{*top} + 1 : lo + 1);
  SecureKey key;
  LOCKBOX_TRY(random_of(options_).fill({key.mutable_data(), SecureKey::kSize}));
  LOCKBOX_ASSIGN_OR_RETURN(Bytes wrapped, wrap_key(kek_, kek_generation_, purpose, key_id,
                                                   store_id_, key, random_of(options_)));
  KeyRow row;
  row.key_id = key_id;
  row.purpose = purpose;
  row.state = "active";
  row.kek_generation = kek_generation_;
  row.wrapped = std::move(wrapped);
  row.created_at = now;
  row.max_encryptions = options_.nonce_budget;
  LOCKBOX_TRY(rows_->insert_key(row));
  return key_id;
}

Result<std::unique_ptr<Store>> Engine::create(const StoreOptions& options,
                                              std::unique_ptr<Backend> rows, MasterKey master_key,
                                              const std::string& where) {
  {
    Engine fresh(options, std::move(rows));
    Backend& b = *fresh.rows_;
    LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(b, TxMode::kWrite));
    LOCKBOX_ASSIGN_OR_RETURN(const int existing, b.schema_version());
    if (existing != 0) return bad_input("a store already exists at " + where + "; nothing changed");
    LOCKBOX_TRY(b.create_schema());

    Random& random = random_of(options);
    const UnixMillis now = clock_of(options).now();
    MetaRow meta;
    meta.store_id = Bytes(kStoreIdSize);
    LOCKBOX_TRY(random.fill(meta.store_id));
    meta.created_at = now;
    meta.key_kind = master_key.kind == MasterKeyKind::kPassphrase ? "passphrase" : "key";
    if (master_key.kind == MasterKeyKind::kPassphrase) {
      meta.kdf_salt = Bytes(16);
      LOCKBOX_TRY(random.fill(meta.kdf_salt));
      meta.kdf_iterations = kPassphraseIterations;
      LOCKBOX_ASSIGN_OR_RETURN(
          master_key.key,
          stretch_passphrase(master_key.passphrase, meta.kdf_salt, kPassphraseIterations));
    }
    LOCKBOX_TRY(b.insert_meta(meta));
    LOCKBOX_ASSIGN_OR_RETURN(Bytes kcv, derive_kcv(master_key.key, meta.store_id, 1));
    LOCKBOX_TRY(b.insert_master_key({1, std::move(kcv), "current", now}));
    fresh.store_id_ = meta.store_id;
    fresh.kek_generation_ = 1;
    LOCKBOX_ASSIGN_OR_RETURN(fresh.kek_, derive_kek(master_key.key, meta.store_id, 1));
    for (const char* purpose : kInitialKeyPurposes)
      LOCKBOX_TRY(fresh.insert_wrapped_key(purpose, now).status());
    // Born authenticated (SPEC §17): the audit key's id marks it, and the counter's MAC and the
    // scope chain's sentinel are there from the start.
    LOCKBOX_TRY(fresh.unwrap_service_keys());
    LOCKBOX_TRY(fresh.store_change_counter(0));
    LOCKBOX_TRY(fresh.put_sentinel_scope(0));
    LOCKBOX_TRY(tx.commit());
    rows = std::move(fresh.rows_);
    rows->set_rollback_hook(nullptr);  // it pointed at `fresh`
    rows->set_before_commit(nullptr);
  }
  // Reopen through the normal path, so create and open share one code path.
  return open(options, std::move(rows), std::move(master_key), where);
}

Status Engine::append_audit_in_tx(const AuditEvent& event) {
  return append_audits_in_tx({event});
}

Status Engine::append_audits_in_tx(const std::vector<AuditEvent>& events) {
  // One tail read and one insert call for the whole group: each record chains to the one before.
  LOCKBOX_ASSIGN_OR_RETURN(const auto tail, rows_->audit_tail());
  std::vector<AuditRecord> records;
  records.reserve(events.size());
  for (const AuditEvent& event : events) {
    AuditRecord rec{0,
                    clock_of(options_).now(),
                    event.actor.empty() ? options_.actor : event.actor,
                    event.action,
                    event.target,
                    event.outcome,
                    event.detail,
                    {},
                    {}};
    if (!records.empty()) {
      rec.seq = records.back().seq + 1;
      rec.prev_mac = records.back().entry_mac;
    } else if (tail) {
      rec.seq = tail->seq + 1;
      if (tail->entry_mac.size() != rec.prev_mac.size()) {
        return integrity_error(fmt::format("audit record {} is damaged", tail->seq));
      }
      std::copy(tail->entry_mac.begin(), tail->entry_mac.end(), rec.prev_mac.begin());
    } else {
      rec.seq = 1;
    }
    rec.entry_mac = audit_entry_mac(audit_chain_key_, rec.prev_mac, rec);
    records.push_back(std::move(rec));
  }
  return rows_->insert_audits(records);
}

Status Engine::append_audit(const AuditEvent& event, bool durable) {
  return append_audit_batch({event}, durable);
}

Status Engine::append_audit_batch(const std::vector<AuditEvent>& events, bool durable) {
  // Launch and resolve records may commit relaxed (SPEC §6): durable across a process crash,
  // not necessarily across a power loss.
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx,
                           Tx::begin(*rows_, durable ? TxMode::kWrite : TxMode::kWriteRelaxed));
  LOCKBOX_TRY(append_audits_in_tx(events));
  return tx.commit();
}

Result<SecretMeta> Engine::write_version(const SecretAddress& address, std::optional<SecretRow> row,
                                         const NewVersion& nv, std::int64_t counter) {
  const UnixMillis now = clock_of(options_).now();
  Random& random = random_of(options_);
  const std::optional<SecretRow> before = row;  // the member that leaves the scope, if any
  if (!row) {
    SecretRow fresh{
        0, address.scope.address(), address.name, Bytes(kSecretUidSize), 0, now, std::nullopt};
    LOCKBOX_TRY(random.fill(fresh.uid));
    LOCKBOX_ASSIGN_OR_RETURN(fresh.id, rows_->insert_secret(fresh));
    row = std::move(fresh);
  }
  SecretMeta m{address.scope,
               address.name,
               row->head_version + 1,
               {},
               nv.description,
               nv.tags,
               nv.metadata,
               nv.expires_at,
               row->created_at,
               now,
               options_.actor,
               nv.value == nullptr,
               0,
               1,
               {},
               nv.rotate_every,
               nv.notify_before};
  VersionRow v;
  if (nv.value != nullptr) {
    LOCKBOX_ASSIGN_OR_RETURN(m.key_id, reserve_encryption());
    LOCKBOX_ASSIGN_OR_RETURN(const SecureKey* key, data_key(m.key_id));
    const Bytes context = secret_aad_context(store_id_, address.scope.address(), address.name,
                                             row->uid, static_cast<std::uint64_t>(m.version));
    LOCKBOX_ASSIGN_OR_RETURN(v.envelope, seal_envelope(*key, m.key_id, kLabelSecretValue, context,
                                                       as_bytes(nv.value->reveal()), random));
    m.fingerprint =
        fingerprint(fingerprint_key_, address.scope.address(), address.name, nv.value->reveal());
  }
  v.version = m.version;
  v.tombstone = m.tombstone;
  v.key_id = m.key_id;
  v.fingerprint = m.fingerprint;
  v.description = m.description;
  v.tags = m.tags;
  v.metadata = m.metadata;
  v.expires_at = m.expires_at;
  v.rotate_every = nv.rotate_every;
  v.notify_before = nv.notify_before;
  v.created_at = now;
  v.actor = options_.actor;
  const Mac version_auth = version_mac(address, row->uid, v);
  v.row_mac = Bytes(version_auth.begin(), version_auth.end());
  LOCKBOX_TRY(rows_->insert_version(row->id, v));
  row->head_version = m.version;
  const Mac head_auth = head_mac(*row);
  LOCKBOX_TRY(rows_->set_head(row->id, m.version, Bytes(head_auth.begin(), head_auth.end())));
  LOCKBOX_TRY(update_scope(row->scope, before ? &*before : nullptr, &*row, counter));
  return m;
}

}  // namespace lockbox::store
