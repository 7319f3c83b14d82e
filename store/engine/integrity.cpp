// Engine: row authentication of secrets, versions, scopes and the change counter (SPEC §17,
// store/row_auth.hpp). Writes keep every MAC current in the same transaction; reads verify what
// they use and fail closed naming the secret (exit 5) or the scope (a launch: 125).
//
// What each read verifies:
//  - one secret (get, reveal, history, and every write that reads the head first): its head row
//    MAC and the MAC of each version row it uses;
//  - a scope (a launch, a resolve, `secrets list`): every version row MAC, and the scope's member
//    count and XOR digest recomputed from its head rows against the scope row's MAC; a scope with
//    no row is proved absent by its predecessor in the chain. The member PRF covers the same
//    identity and head version as the head row MAC, so the head MACs are not checked again.
//  - the change counter: its MAC, and that it never goes below the highest counter this engine
//    has seen (from the counter or from a scope row's last write).
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "store/engine/engine.hpp"
#include "store/row_auth.hpp"

namespace lockbox::store {
namespace {

Status scope_tampered(std::string_view scope) {
  return integrity_error(
      fmt::format("scope {} fails authentication: its secrets were added, removed or "
                  "rolled back outside lockbox (restore the store from a backup)",
                  scope.empty() ? "index" : scope));
}

Bytes to_bytes(const Mac& mac) {
  return Bytes(mac.begin(), mac.end());
}

}  // namespace

Mac Engine::head_mac(const SecretRow& row) const {
  return head_row_mac(row_auth_mac_, store_id_, row.scope, row.name, row.uid, row.head_version,
                      row.created_at);
}

Status Engine::check_head(const SecretAddress& address, const SecretRow& row) const {
  if (row.row_mac && mac_equal(head_mac(row), *row.row_mac)) return Status::ok();
  return integrity_error(
      fmt::format("secret {} fails authentication (its head row was edited outside lockbox)",
                  address.reference()));
}

Mac Engine::version_mac(const SecretAddress& address, ByteView uid, const VersionRow& v) const {
  const VersionRowFields fields{v.tombstone,    v.fingerprint,  v.description, v.tags,
                                v.metadata,     v.expires_at,   v.created_at,  v.actor,
                                v.rotate_every, v.notify_before};
  return version_row_mac(row_auth_mac_, store_id_, address.scope.address(), address.name, uid,
                         v.version, fields);
}

Status Engine::check_version(const SecretAddress& address, ByteView uid,
                             const VersionRow& v) const {
  if (!v.damaged.empty()) {
    return integrity_error(fmt::format("{}@v{}: {}", address.reference(), v.version, v.damaged));
  }
  if (v.row_mac && mac_equal(version_mac(address, uid, v), *v.row_mac)) return Status::ok();
  return integrity_error(
      fmt::format("secret {}@v{} fails authentication (its tombstone, expiry or metadata "
                  "was edited outside lockbox)",
                  address.reference(), v.version));
}

ScopeDigest Engine::member(const SecretRow& row) const {
  return member_prf(row_auth_mac_, store_id_, row.scope, row.name, row.uid, row.head_version);
}

Result<ScopeRowFields> Engine::scope_fields(const ScopeRow& row) const {
  ScopeRowFields f{row.members, {}, row.next, row.change_counter};
  if (row.digest.size() != f.digest.bytes.size()) return scope_tampered(row.scope);
  std::copy(row.digest.begin(), row.digest.end(), f.digest.bytes.begin());
  if (!mac_equal(scope_row_mac(row_auth_mac_, store_id_, row.scope, f), row.row_mac)) {
    return scope_tampered(row.scope);
  }
  return f;
}

Result<Engine::ScopeLookup> Engine::find_scope(std::string_view scope) {
  LOCKBOX_ASSIGN_OR_RETURN(auto row, rows_->scope_at_or_before(scope));
  return check_scope_row(scope, std::move(row));
}

Result<Engine::ScopeLookup> Engine::check_scope_row(std::string_view scope,
                                                    std::optional<ScopeRow> row) const {
  if (!row) return scope_tampered("");  // not even the sentinel
  // The backend's "greatest address <= scope" is trusted no more than its rows.
  if (row->scope > scope) return scope_tampered(scope);
  ScopeLookup out;
  LOCKBOX_ASSIGN_OR_RETURN(out.fields, scope_fields(*row));
  out.found = row->scope == scope;
  // Otherwise row is the greatest scope below `scope`: its successor must lie beyond `scope`,
  // or the row of `scope` (or of one between) was deleted.
  if (!out.found && !out.fields.next.empty() && out.fields.next <= scope)
    return scope_tampered(scope);
  out.row = *std::move(row);
  return out;
}

Status Engine::verify_scope(std::string_view scope, std::optional<ScopeRow> row,
                            const std::vector<const SecretRow*>& members) {
  LOCKBOX_ASSIGN_OR_RETURN(const ScopeLookup lookup, check_scope_row(scope, std::move(row)));
  if (!lookup.found) return members.empty() ? Status::ok() : scope_tampered(scope);
  ScopeDigest digest;
  for (const SecretRow* m : members) digest ^= member(*m);
  if (lookup.fields.members != static_cast<std::int64_t>(members.size()) ||
      !(lookup.fields.digest == digest)) {
    return scope_tampered(scope);
  }
  highest_counter_ = std::max(highest_counter_, lookup.fields.change_counter);
  return Status::ok();
}

Status Engine::verify_all_scopes(const std::vector<SecretVersionRow>& heads) {
  std::map<std::string, std::vector<const SecretRow*>> by_scope;
  for (const SecretVersionRow& h : heads) by_scope[h.secret.scope].push_back(&h.secret);
  LOCKBOX_ASSIGN_OR_RETURN(const auto rows, rows_->scopes());
  if (rows.empty() || !rows.front().scope.empty()) return scope_tampered("");
  for (std::size_t i = 0; i < rows.size(); ++i) {
    LOCKBOX_ASSIGN_OR_RETURN(const ScopeRowFields f, scope_fields(rows[i]));
    const std::string expected_next = i + 1 < rows.size() ? rows[i + 1].scope : std::string();
    if (f.next != expected_next) {
      // The chain names a scope whose row is gone, or a row sits where the chain has none.
      const bool missing = expected_next.empty() || (!f.next.empty() && f.next < expected_next);
      return scope_tampered(missing ? f.next : expected_next);
    }
    ScopeDigest digest;
    std::int64_t count = 0;
    if (auto it = by_scope.find(rows[i].scope); it != by_scope.end()) {
      for (const SecretRow* m : it->second) digest ^= member(*m);
      count = static_cast<std::int64_t>(it->second.size());
      by_scope.erase(it);
    }
    if (f.members != count || !(f.digest == digest)) return scope_tampered(rows[i].scope);
    highest_counter_ = std::max(highest_counter_, f.change_counter);
  }
  if (!by_scope.empty()) return scope_tampered(by_scope.begin()->first);  // secrets of no scope row
  return Status::ok();
}

Status Engine::update_scope(const std::string& scope, const SecretRow* removed,
                            const SecretRow* added, std::int64_t counter) {
  // Coalesced: the scope's new fields stay in pending_scopes_ until the transaction commits
  // (flush_pending_rows, from Tx::commit), so an import of N secrets into one scope writes its row
  // once, not N times (N updates of one row in one PostgreSQL transaction grow a version chain that
  // every later update walks: quadratic).
  ScopeRowFields f;
  if (auto pending = pending_scopes_.find(scope); pending != pending_scopes_.end()) {
    f = pending->second;
  } else {
    // A lookup reads the chain as stored: every coalesced row must be there first.
    LOCKBOX_TRY(flush_pending_scopes());
    LOCKBOX_ASSIGN_OR_RETURN(ScopeLookup lookup, find_scope(scope));
    if (lookup.found) {
      f = lookup.fields;
    } else {
      if (removed != nullptr) return scope_tampered(scope);
      // A new scope goes into the chain after its predecessor (scope rows are never deleted).
      ScopeRow& p = lookup.row;
      f.next = std::exchange(lookup.fields.next, scope);
      p.next = scope;
      p.row_mac = to_bytes(scope_row_mac(row_auth_mac_, store_id_, p.scope, lookup.fields));
      LOCKBOX_TRY(rows_->put_scope(p));
    }
  }
  if (removed != nullptr) {
    f.digest ^= member(*removed);
    --f.members;
  }
  if (added != nullptr) {
    f.digest ^= member(*added);
    ++f.members;
  }
  f.change_counter = counter;
  pending_scopes_[scope] = f;
  return Status::ok();
}

Status Engine::flush_pending_scopes() {
  for (const auto& [scope, f] : pending_scopes_) {
    const ScopeRow out{
        scope,  f.members,        Bytes(f.digest.bytes.begin(), f.digest.bytes.end()),
        f.next, f.change_counter, to_bytes(scope_row_mac(row_auth_mac_, store_id_, scope, f))};
    LOCKBOX_TRY(rows_->put_scope(out));
  }
  pending_scopes_.clear();
  return Status::ok();
}

Status Engine::flush_pending_rows() {
  LOCKBOX_TRY(flush_pending_scopes());
  for (const auto& [key_id, n] : pending_encryptions_)
    LOCKBOX_TRY(rows_->count_encryptions(key_id, n));
  pending_encryptions_.clear();
  return Status::ok();
}

Status Engine::put_sentinel_scope(std::int64_t counter) {
  const ScopeRowFields f{0, {}, "", counter};
  return rows_->put_scope(
      {"", 0, Bytes(32), "", counter, to_bytes(scope_row_mac(row_auth_mac_, store_id_, "", f))});
}

Result<std::int64_t> Engine::next_change_counter() {
  LOCKBOX_ASSIGN_OR_RETURN(const CounterRow c, rows_->change_counter());
  if (!c.mac || !mac_equal(change_counter_mac(row_auth_mac_, store_id_, c.value), *c.mac)) {
    return integrity_error(
        "the store's change counter fails authentication (edited outside lockbox)");
  }
  return c.value + 1;
}

Status Engine::store_change_counter(std::int64_t value) {
  LOCKBOX_TRY(rows_->set_change_counter(
      value, to_bytes(change_counter_mac(row_auth_mac_, store_id_, value))));
  // Push: queued in this transaction, delivered to listeners by its commit.
  return rows_->notify_change(value);
}

Result<std::int64_t> Engine::change_counter() {
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t next, next_change_counter());
  const std::int64_t value = next - 1;
  if (value < highest_counter_) {
    return integrity_error(
        fmt::format("the store's change counter went back from {} to {}: rows were rolled "
                    "back outside lockbox (restore the store from a backup)",
                    highest_counter_, value));
  }
  highest_counter_ = value;
  return value;
}

}  // namespace lockbox::store
