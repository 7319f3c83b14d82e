// Engine::migrate_row_auth: brings a store created before row authentication (SPEC §17) to it,
// once, in one transaction, at its first open by a lockbox that has it (new stores are created
// authenticated). It needs the master key, like every open.
//
// Tokens are blessed from the audit trail, not from the rows: the chain is authenticated, so a
// token row is MACed only when a token.create record names its id and role, and a token.revoke
// record for its id makes it revoked. A token row inserted or given a higher role before the
// migration stays unauthenticated (refused, and reported by `tokens list` and `doctor`).
// Secrets, versions and scopes are MACed as they are found: the trail holds no expiries or
// metadata, so a row edited before the migration is blessed (docs/SECURITY.md says so).
//
// What marks a store as authenticated is the id of its audit key (above kRowAuthKeyIds), which
// is bound into the key's wrapping: the migration wraps the same audit key again under a new id
// and destroys the old row, so no edit of the database without the master key can make the store
// look unmigrated again (only a replay of the old keyring row: a snapshot rollback, SPEC §0).
#include <fmt/format.h>

#include <map>

#include "store/engine/engine.hpp"
#include "store/engine/options.hpp"
#include "store/envelope.hpp"
#include "store/key_schedule.hpp"
#include "store/row_auth.hpp"

namespace lockbox::store {

Status Engine::move_audit_key() {
  LOCKBOX_ASSIGN_OR_RETURN(const auto old, rows_->active_key("audit"));
  if (!old || !old->wrapped) return integrity_error("keyring is damaged: no usable audit key");
  LOCKBOX_ASSIGN_OR_RETURN(
      const SecureKey key,
      open_wrapped_key(kek_, kek_generation_, "audit", old->key_id, store_id_, *old->wrapped));
  LOCKBOX_ASSIGN_OR_RETURN(const auto top, rows_->max_key_id(kRowAuthKeyIds, 0xFFFFFFFF));
  const auto key_id = static_cast<std::uint32_t>(top ? std::int64_t{*top} + 1 : kRowAuthKeyIds + 1);
  LOCKBOX_ASSIGN_OR_RETURN(Bytes wrapped, wrap_key(kek_, kek_generation_, "audit", key_id,
                                                   store_id_, key, random_of(options_)));
  LOCKBOX_TRY(rows_->destroy_key(old->key_id));  // first: one active audit key at a time
  KeyRow row = *old;
  row.key_id = key_id;
  row.wrapped = std::move(wrapped);
  row.created_at = clock_of(options_).now();
  return rows_->insert_key(row);
}

Result<std::size_t> Engine::authenticate_secret_rows() {
  LOCKBOX_ASSIGN_OR_RETURN(const CounterRow counter, rows_->change_counter());
  LOCKBOX_ASSIGN_OR_RETURN(const auto heads, rows_->heads(std::nullopt));
  std::map<std::string, ScopeRowFields> scopes{{"", {}}};  // the sentinel starts the chain
  for (const SecretVersionRow& h : heads) {
    LOCKBOX_ASSIGN_OR_RETURN(Scope scope, Scope::parse(h.secret.scope));
    const SecretAddress address{std::move(scope), h.secret.name};
    const Mac head = head_mac(h.secret);
    LOCKBOX_TRY(rows_->set_secret_mac(h.secret.id, head));
    LOCKBOX_ASSIGN_OR_RETURN(const auto versions, rows_->versions(h.secret.id));
    for (const VersionRow& v : versions) {
      if (!v.damaged.empty()) continue;  // stays unauthenticated: exit 5 naming it, as before
      LOCKBOX_TRY(
          rows_->set_version_mac(h.secret.id, v.version, version_mac(address, h.secret.uid, v)));
    }
    ScopeRowFields& f = scopes[h.secret.scope];
    f.digest ^= member(h.secret);
    ++f.members;
  }
  for (auto it = scopes.begin(); it != scopes.end(); ++it) {
    ScopeRowFields& f = it->second;
    f.next = std::next(it) == scopes.end() ? std::string() : std::next(it)->first;
    f.change_counter = counter.value;
    const Mac mac = scope_row_mac(row_auth_mac_, store_id_, it->first, f);
    LOCKBOX_TRY(
        rows_->put_scope({it->first, f.members, Bytes(f.digest.bytes.begin(), f.digest.bytes.end()),
                          f.next, f.change_counter, Bytes(mac.begin(), mac.end())}));
  }
  LOCKBOX_TRY(store_change_counter(counter.value));
  return heads.size();
}

Status Engine::migrate_row_auth() {
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  // Another process may have migrated since this one read the keyring (same key, new id).
  LOCKBOX_ASSIGN_OR_RETURN(const auto audit_key, rows_->active_key("audit"));
  if (audit_key && audit_key->key_id >= kRowAuthKeyIds) {
    row_auth_version_ = kRowAuthVersion;
    return tx.commit();
  }
  // What the trail says of each token id: its role at creation, and when it was revoked.
  std::map<std::string, std::string> created;
  std::map<std::string, UnixMillis> revoked;
  LOCKBOX_TRY(rows_->scan_audit({}, [&](const AuditRecord& r, bool) {
    if (r.action == "token.create" && r.detail.starts_with("id ")) {
      const auto comma = r.detail.find(", role ");
      const auto end = r.detail.find(',', comma + 7);
      if (comma != std::string::npos && end != std::string::npos) {
        created[r.detail.substr(3, comma - 3)] = r.detail.substr(comma + 7, end - comma - 7);
      }
    } else if (r.action == "token.revoke" && r.detail.starts_with("id ")) {
      revoked.emplace(r.detail.substr(3), r.ts);
    }
    return Status::ok();
  }));
  LOCKBOX_ASSIGN_OR_RETURN(auto tokens, rows_->tokens());
  std::size_t authenticated = 0;
  std::size_t refused = 0;
  for (TokenRow& row : tokens) {
    if (row.row_mac) continue;
    const auto role = created.find(row.info.id);
    if (role == created.end() || role->second != row.info.role) {
      ++refused;  // no record created this row with this role: it stays unauthenticated
      continue;
    }
    if (const auto at = revoked.find(row.info.id); at != revoked.end() && !row.info.revoked_at) {
      row.info.revoked_at = at->second;
      LOCKBOX_TRY(rows_->set_token_revoked(row.info.id, at->second, token_mac(row)));
    } else {
      LOCKBOX_TRY(rows_->set_token_mac(row.info.id, token_mac(row)));
    }
    ++authenticated;
  }
  LOCKBOX_ASSIGN_OR_RETURN(const std::size_t secrets, authenticate_secret_rows());
  LOCKBOX_TRY(move_audit_key());
  LOCKBOX_TRY(append_audit_in_tx(
      {"store.migrate", "store", "ok",
       fmt::format("row authentication v{}: {} secrets, {} token rows authenticated, "
                   "{} token rows refused (no matching token.create record)",
                   kRowAuthVersion, secrets, authenticated, refused)}));
  LOCKBOX_TRY(tx.commit());
  row_auth_version_ = kRowAuthVersion;
  return Status::ok();
}

}  // namespace lockbox::store
