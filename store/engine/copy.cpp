// copy_store (store/copy.hpp): verify the source, copy its rows in one target transaction,
// verify the target. Backend-neutral: it moves the Backend's rows verbatim, so a backend gets
// `store copy` by implementing store/internal/backend.hpp (scan_versions and set_key_counts
// have defaults; store/sqlite/sqlite_copy.cpp overrides them with single queries).
#include "store/copy.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <set>
#include <thread>

#include "core/fault.hpp"
#include "store/engine/engine.hpp"
#include "store/internal/backend.hpp"

namespace lockbox::store {
namespace {

MasterKey clone_key(const MasterKey& key) {
  MasterKey out;
  out.kind = key.kind;
  out.key = key.key.clone();
  out.passphrase = key.passphrase.clone();
  out.source = key.source;
  out.file = key.file;
  return out;
}

void report(const CopyOptions& options, const char* phase, std::int64_t done, std::int64_t total) {
  if (options.on_progress) options.on_progress({phase, done, total});
}

// Opens `store` through the engine and checks every rule a read would: scope chain and row MACs
// (list), every version's MAC (history) and envelope (decrypt; quarantined versions excepted),
// the audit chain, token MACs and the change counter's MAC.
Result<CopySummary> verify_whole(Store& store, const std::string& what, const char* phase,
                                 const CopyOptions& options) {
  CopySummary s;
  LOCKBOX_ASSIGN_OR_RETURN(const KeyStatus keys, store.key_status());
  std::set<std::string> quarantined;
  for (const QuarantinedVersion& q : keys.quarantined) {
    quarantined.insert(fmt::format("{}@v{}", q.address.reference(), q.version));
  }
  ListFilter all;
  all.include_deleted = true;
  LOCKBOX_ASSIGN_OR_RETURN(const auto heads, store.list(all));
  const auto total = static_cast<std::int64_t>(heads.size());
  for (const SecretMeta& head : heads) {
    const SecretAddress address{head.scope, head.name};
    LOCKBOX_ASSIGN_OR_RETURN(const auto versions, store.history(address));
    for (const SecretMeta& v : versions) {
      ++s.versions;
      if (v.tombstone || quarantined.contains(fmt::format("{}@v{}", address.reference(), v.version))) continue;
      LOCKBOX_TRY(store.decrypt(address, v.version).status());
    }
    report(options, phase, ++s.secrets, total);
  }
  LOCKBOX_ASSIGN_OR_RETURN(const AuditVerifyResult audit, store.verify_audit(std::nullopt));
  if (audit.first_bad_seq) {
    return integrity_error(fmt::format("the audit trail of {} does not verify at record {}: {}", what,
                                       *audit.first_bad_seq, audit.problem));
  }
  s.audit_records = audit.records;
  LOCKBOX_ASSIGN_OR_RETURN(const auto tokens, store.list_tokens());
  for (const TokenInfo& t : tokens) {
    if (!t.authentic) return integrity_error(fmt::format("token {} ({}) of {} fails authentication", t.name, t.id, what));
  }
  s.tokens = static_cast<std::int64_t>(tokens.size());
  LOCKBOX_TRY(store.change_counter().status());
  return s;
}

Status copy_keys(Backend& from, Backend& to, CopySummary& s) {
  LOCKBOX_ASSIGN_OR_RETURN(const MetaRow meta, from.read_meta());
  LOCKBOX_TRY(to.insert_meta(meta));
  LOCKBOX_ASSIGN_OR_RETURN(const CounterRow counter, from.change_counter());
  if (!counter.mac) return integrity_error("the source's change counter has no MAC");
  LOCKBOX_TRY(to.set_change_counter(counter.value, *counter.mac));
  LOCKBOX_ASSIGN_OR_RETURN(const auto generations, from.master_keys());
  for (const MasterKeyRow& g : generations) LOCKBOX_TRY(to.insert_master_key(g));
  LOCKBOX_ASSIGN_OR_RETURN(const auto keyring, from.keys(""));
  for (const KeyRow& k : keyring) {
    LOCKBOX_TRY(to.insert_key(k));
    LOCKBOX_TRY(to.set_key_counts(k.key_id, k.encryptions, k.reserved));
  }
  s.rows += 1 + static_cast<std::int64_t>(generations.size() + keyring.size());
  return Status::ok();
}

// Secrets (new row ids in the target: nothing authenticated refers to them), their versions,
// scope rows and the quarantine.
Status copy_secrets(Backend& from, Backend& to, CopySummary& s, const CopyOptions& options,
                    std::int64_t total) {
  LOCKBOX_ASSIGN_OR_RETURN(const auto heads, from.heads(std::nullopt));
  std::map<std::int64_t, std::int64_t> ids;
  for (const SecretVersionRow& h : heads) {
    if (!h.secret.row_mac) return integrity_error("a secret row of the source has no MAC");
    LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t id, to.insert_secret(h.secret));
    LOCKBOX_TRY(to.set_head(id, h.secret.head_version, *h.secret.row_mac));
    ids[h.secret.id] = id;
    ++s.secrets;
  }
  s.rows += s.secrets;
  const Backend::VersionVisitor copy_version = [&](std::int64_t secret_id, const VersionRow& v) -> Status {
    const auto it = ids.find(secret_id);
    if (it == ids.end()) return integrity_error("a version row of the source belongs to no secret");
    LOCKBOX_TRY(to.insert_version(it->second, v));
    fault::point("store-copy.row");
    ++s.versions;
    report(options, "copying", ++s.rows, total);
    return Status::ok();
  };
  LOCKBOX_TRY(from.scan_versions(copy_version));
  LOCKBOX_ASSIGN_OR_RETURN(const auto scopes, from.scopes());
  for (const ScopeRow& r : scopes) LOCKBOX_TRY(to.put_scope(r));
  LOCKBOX_ASSIGN_OR_RETURN(const auto quarantine, from.quarantined());
  for (const Backend::QuarantineEntry& q : quarantine) {
    const auto it = ids.find(q.row.secret_id);
    if (it == ids.end()) continue;  // its secret was purged: nothing left to quarantine
    QuarantineRow row = q.row;
    row.secret_id = it->second;
    LOCKBOX_TRY(to.quarantine(row));
  }
  s.rows += static_cast<std::int64_t>(scopes.size() + quarantine.size());
  return Status::ok();
}

Status copy_trail(Backend& from, Backend& to, CopySummary& s, const CopyOptions& options, std::int64_t total) {
  LOCKBOX_ASSIGN_OR_RETURN(const auto tokens, from.tokens());
  for (const TokenRow& t : tokens) LOCKBOX_TRY(to.insert_token(t));
  s.tokens = static_cast<std::int64_t>(tokens.size());
  s.rows += s.tokens;
  return from.scan_audit({}, [&](const AuditRecord& r, bool macs_ok) -> Status {
    if (!macs_ok) return integrity_error(fmt::format("audit record {} of the source is damaged", r.seq));
    LOCKBOX_TRY(to.insert_audit(r));
    fault::point("store-copy.row");
    ++s.audit_records;
    report(options, "copying", ++s.rows, total);
    return Status::ok();
  });
}

// One read snapshot of `from` into `to` in one write transaction (schema included).
Result<CopySummary> copy_rows(Backend& from, Backend& to, const std::string& target, const CopyOptions& options,
                              std::int64_t total) {
  LOCKBOX_TRY(to.begin(TxMode::kWrite));
  struct Guard {
    Backend& a;
    Backend& b;
    ~Guard() {
      a.rollback();
      b.rollback();
    }
  } guard{from, to};
  LOCKBOX_ASSIGN_OR_RETURN(const int existing, to.schema_version());
  if (existing != 0) return bad_input("the target " + target + " is not empty (it holds a lockbox store); nothing changed");
  LOCKBOX_TRY(to.create_schema());
  LOCKBOX_TRY(from.begin(TxMode::kRead));
  CopySummary s;
  LOCKBOX_TRY(copy_keys(from, to, s));
  LOCKBOX_TRY(copy_secrets(from, to, s, options, total));
  LOCKBOX_TRY(copy_trail(from, to, s, options, total));
  fault::point("store-copy.commit");
  LOCKBOX_TRY(to.commit().with_context("copying into " + target));
  return s;
}

}  // namespace

Status Backend::scan_versions(const VersionVisitor& visit) {
  LOCKBOX_ASSIGN_OR_RETURN(const auto heads, this->heads(std::nullopt));
  for (const SecretVersionRow& h : heads) {
    LOCKBOX_ASSIGN_OR_RETURN(const auto list, versions(h.secret.id));
    for (const VersionRow& meta : list) {
      LOCKBOX_ASSIGN_OR_RETURN(const auto full, version(h.secret.id, meta.version, true));
      if (full) LOCKBOX_TRY(visit(h.secret.id, *full));
    }
  }
  return Status::ok();
}

Status Backend::set_key_counts(std::uint32_t key_id, std::int64_t encryptions, std::int64_t reserved) {
  LOCKBOX_ASSIGN_OR_RETURN(const bool moved, reserve_encryptions(key_id, 0, std::max(encryptions, reserved)));
  return moved ? Status::ok() : runtime_error(fmt::format("cannot copy the nonce budget of key {}", key_id));
}

Result<bool> Backend::wait_for_notification(std::int64_t timeout_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(std::max<std::int64_t>(timeout_ms, 0)));
  return false;
}

// Change push (SPEC §11): wait on the backend's signal in slices of at most 100 ms, reading the
// MACed counter after each, so a lost or absent signal costs at most one slice.
Result<std::int64_t> Engine::wait_for_change(std::int64_t seen, std::int64_t timeout_ms) {
  constexpr std::int64_t kSliceMs = 100;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t now_counter, change_counter());
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (now_counter != seen || left.count() <= 0) return now_counter;
    LOCKBOX_TRY(rows_->wait_for_notification(std::min<std::int64_t>(left.count(), kSliceMs)).status());
  }
}

Result<CopySummary> copy_store(const StoreOptions& source, const StoreOptions& target, const MasterKey& key,
                               const CopyOptions& options) {
  const std::string where = display_url(target.url);
  {
    LOCKBOX_ASSIGN_OR_RETURN(auto probe, open_backend_rows(target, true));
    LOCKBOX_ASSIGN_OR_RETURN(const int existing, probe->schema_version());
    if (existing != 0) return bad_input("the target " + where + " is not empty (it holds a lockbox store); nothing changed");
  }
  LOCKBOX_ASSIGN_OR_RETURN(auto opened, Store::open(source, clone_key(key)));
  auto verified = verify_whole(*opened, "the source store", "verifying source", options);
  if (!verified.is_ok()) return verified.status().with_context("refusing to copy a store that does not verify");
  const CopySummary found = verified.value();
  opened.reset();
  LOCKBOX_ASSIGN_OR_RETURN(auto from, open_backend_rows(source, false));
  LOCKBOX_ASSIGN_OR_RETURN(auto to, open_backend_rows(target, true));
  const std::int64_t total = found.versions + found.audit_records;
  LOCKBOX_ASSIGN_OR_RETURN(CopySummary copied, copy_rows(*from, *to, where, options, total));
  LOCKBOX_TRY(to->after_bulk_load().with_context("copying into " + where));
  from.reset();
  to.reset();
  LOCKBOX_ASSIGN_OR_RETURN(auto copy, Store::open(target, clone_key(key)));
  auto checked = verify_whole(*copy, where, "verifying copy", options);
  if (!checked.is_ok()) return checked.status().with_context("the copy in " + where + " does not verify");
  const CopySummary check = checked.value();
  if (check.versions != copied.versions || check.audit_records != copied.audit_records) {
    return integrity_error(fmt::format("the copy in {} does not verify: {} versions and {} audit records "
                                       "read back, {} and {} written", where, check.versions,
                                       check.audit_records, copied.versions, copied.audit_records));
  }
  return copied;
}

}  // namespace lockbox::store
