// Engine::migrate_row_auth: brings a store created before row authentication (SPEC §17) to it,
// once, at its first open by a lockbox that has it (new stores are created authenticated).
//
// What it MACs comes from the audit trail, not from the rows: the chain is authenticated, so a
// token row is blessed only when a token.create record names its id and role, and a token.revoke
// record for its id makes it revoked. A row inserted or given a higher role by someone who could
// edit the database before the migration stays unauthenticated (refused, and reported by
// `tokens list` and `doctor`). Undoing the migration afterwards (clearing meta.row_auth) gains
// nothing either: the next migration reads the same trail, and a store whose trail already has
// a store.migrate record is refused. Not covered: an edited expiry time (records say only whether
// a token expires), and a trail cut back before its records (audit checkpoints detect that).
#include <fmt/format.h>

#include <map>

#include "store/engine/engine.hpp"
#include "store/row_auth.hpp"

namespace lockbox::store {

Status Engine::migrate_row_auth() {
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  // Another process may have migrated since this one read meta.
  LOCKBOX_ASSIGN_OR_RETURN(const MetaRow meta, rows_->read_meta());
  if (meta.row_auth >= kRowAuthVersion) {
    row_auth_version_ = meta.row_auth;
    return tx.commit();
  }
  bool migrated_before = false;
  AuditFilter filter;
  filter.action = "store.migrate";
  LOCKBOX_TRY(rows_->scan_audit(filter, [&](const AuditRecord&, bool) {
    migrated_before = true;
    return Status::ok();
  }));
  if (migrated_before) {
    return integrity_error("the store's row authentication was removed after it was set up "
                           "(tampered schema or metadata); restore the store from a backup");
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
  LOCKBOX_TRY(rows_->set_row_auth(kRowAuthVersion));
  LOCKBOX_TRY(append_audit_in_tx({"store.migrate", "store", "ok",
                                  fmt::format("row authentication v{}: {} token rows authenticated, {} "
                                              "refused (no matching token.create record)",
                                              kRowAuthVersion, authenticated, refused)}));
  LOCKBOX_TRY(tx.commit());
  row_auth_version_ = kRowAuthVersion;
  return Status::ok();
}

}  // namespace lockbox::store
