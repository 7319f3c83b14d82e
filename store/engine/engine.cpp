// Engine: opening a store, unwrapping keys, and every read. Writes are in engine_writes.cpp and
// secret_ops.cpp.
#include "store/engine/engine.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "core/timing.hpp"
#include "store/crypto.hpp"
#include "store/engine/options.hpp"
#include "store/envelope.hpp"
#include "store/internal/schema_rules.hpp"
#include "store/key_schedule.hpp"
#include "store/row_auth.hpp"

namespace lockbox::store {
namespace {

std::string reference(const SecretAddress& a, std::int64_t version) {
  return fmt::format("{}@v{}", a.reference(), version);
}

bool scope_in_namespace(const Scope& scope, const std::string& ns) {
  return (scope.kind() == ScopeKind::kNamespace || scope.kind() == ScopeKind::kFunction) &&
         scope.id() == ns;
}

// Metadata of a version row read at `address` (the secret row gives the creation time), once
// check_version() has passed.
SecretMeta to_meta(const SecretAddress& address, const SecretRow& secret, const VersionRow& v) {
  return SecretMeta{address.scope,  address.name,   v.version,    v.fingerprint,     v.description,
                    v.tags,         v.metadata,     v.expires_at, secret.created_at, v.created_at,
                    v.actor,        v.tombstone,    v.key_id,     v.row_rev,         {},
                    v.rotate_every, v.notify_before};
}

}  // namespace

Result<Tx> Tx::begin(Backend& backend, TxMode mode) {
  LOCKBOX_TRY(backend.begin(mode));
  return Tx(backend);
}

Status Tx::commit() {
  Backend* backend = std::exchange(backend_, nullptr);
  if (Status flushed = backend->before_commit(); !flushed.is_ok()) {
    backend->rollback();
    return flushed;
  }
  const Status committed = backend->commit();
  if (!committed.is_ok()) backend->rollback();
  return committed;
}

Engine::Engine(const StoreOptions& options, std::unique_ptr<Backend> rows)
    : options_(options), rows_(std::move(rows)) {
  // A transaction that rolls back takes with it what it reserved and created: the nonce block
  // (never counted in the store) and any data key it inserted (an automatic rotation), whose id a
  // later rotation will reuse with other bytes. Cached keys are unwrapped again on demand.
  rows_->set_rollback_hook([this] {
    nonce_block_ = {};
    data_keys_.clear();
    pending_scopes_.clear();
    pending_encryptions_.clear();
  });
  rows_->set_before_commit([this] { return flush_pending_rows(); });
}

Result<std::unique_ptr<Store>> Engine::open(const StoreOptions& options,
                                            std::unique_ptr<Backend> rows, MasterKey master_key,
                                            const std::string& where) {
  LOCKBOX_ASSIGN_OR_RETURN(const int version, rows->schema_version());
  if (version == 0) return runtime_error("no store at " + where + " (run lockbox init)");
  // A newer lockbox's schema has objects this one does not know: say so before calling them
  // tampering. The same words on every backend.
  if (version > rows->latest_schema_version())
    return newer_schema_error(version, rows->latest_schema_version());
  // Before anything runs a write: a planted trigger would run with it.
  LOCKBOX_TRY(rows->verify_schema_objects());
  if (version != rows->latest_schema_version()) {
    LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows, TxMode::kWrite));
    LOCKBOX_TRY(rows->migrate());
    LOCKBOX_TRY(tx.commit());
  }
  std::unique_ptr<Engine> store(new Engine(options, std::move(rows)));
  timing::mark("store-open");
  // One snapshot for meta, master keys and keyring: a rewrap committing meanwhile must not show
  // the old generation's KCVs with the new generation's wrapped keys.
  LOCKBOX_TRY(store->rows_->begin(TxMode::kRead));
  const Status loaded = store->load_keys(std::move(master_key));
  store->rows_->rollback();
  LOCKBOX_TRY(loaded);
  if (store->row_auth_version_ < kRowAuthVersion) LOCKBOX_TRY(store->migrate_row_auth());
  timing::mark("keys");
  return std::unique_ptr<Store>(std::move(store));
}

Status Engine::load_keys(MasterKey master_key) {
  LOCKBOX_ASSIGN_OR_RETURN(const MetaRow meta, rows_->read_meta());
  store_id_ = meta.store_id;
  if (store_id_.size() != kStoreIdSize)
    return integrity_error("store metadata is damaged (store id)");
  const bool want_passphrase = meta.key_kind == "passphrase";
  if (want_passphrase != (master_key.kind == MasterKeyKind::kPassphrase)) {
    return key_error(fmt::format("this store was created with a master {}, but a {} was given ({})",
                                 want_passphrase ? "passphrase" : "key",
                                 want_passphrase ? "key" : "passphrase", master_key.source));
  }
  if (want_passphrase && (meta.kdf_iterations < 100'000 || meta.kdf_iterations > 10'000'000 ||
                          meta.kdf_salt.size() < 16)) {
    // A tampered count could make every open hang (or weaken nothing: the KCV still decides).
    return integrity_error("store metadata is damaged (passphrase parameters)");
  }
  if (want_passphrase) {
    LOCKBOX_ASSIGN_OR_RETURN(master_key.key,
                             stretch_passphrase(master_key.passphrase, meta.kdf_salt,
                                                static_cast<std::uint32_t>(meta.kdf_iterations)));
  }
  LOCKBOX_ASSIGN_OR_RETURN(const auto generations, rows_->master_keys());
  std::optional<std::uint32_t> stale_generation;
  std::uint32_t current = 0;
  bool matches_current = false;
  for (const MasterKeyRow& g : generations) {
    LOCKBOX_ASSIGN_OR_RETURN(const Bytes kcv, derive_kcv(master_key.key, store_id_, g.generation));
    const bool match = constant_time_equal(kcv, g.kcv);
    if (g.state == "current") {
      current = g.generation;
      matches_current = match;
    } else if (match) {
      stale_generation = g.generation;
    }
  }
  if (current == 0) return integrity_error("store metadata is damaged (no current master key)");
  if (!matches_current) {
    if (stale_generation) {
      return key_error(
          fmt::format("stale master key ({}): it is generation {}, which was retired; the "
                      "store now uses generation {}",
                      master_key.source, *stale_generation, current));
    }
    return key_error(
        fmt::format("wrong master key ({}): it does not open this store", master_key.source));
  }
  kek_generation_ = current;
  LOCKBOX_ASSIGN_OR_RETURN(kek_, derive_kek(master_key.key, store_id_, current));
  return unwrap_service_keys();
}

Status Engine::unwrap_service_keys() {
  // The fingerprint and audit keys are needed by every write; unwrap them now.
  for (const char* purpose : {"fingerprint", "audit"}) {
    LOCKBOX_ASSIGN_OR_RETURN(const auto row, rows_->active_key(purpose));
    if (!row || !row->wrapped || row->kek_generation != kek_generation_) {
      return integrity_error(fmt::format("keyring is damaged: no usable {} key", purpose));
    }
    auto key =
        open_wrapped_key(kek_, kek_generation_, purpose, row->key_id, store_id_, *row->wrapped);
    if (!key.is_ok())
      return integrity_error(
          fmt::format("keyring is damaged: the {} key fails authentication", purpose));
    if (std::string_view(purpose) == "fingerprint") {
      fingerprint_key_ = std::move(key).value();
    } else {
      row_auth_version_ = row->key_id >= kRowAuthKeyIds ? kRowAuthVersion : 0;
      LOCKBOX_ASSIGN_OR_RETURN(audit_chain_key_, derive_audit_chain_key(key.value(), store_id_));
      LOCKBOX_ASSIGN_OR_RETURN(row_auth_key_, derive_row_auth_key(key.value(), store_id_));
      row_auth_mac_ = HmacKey(row_auth_key_);
    }
  }
  return Status::ok();
}

Result<const SecureKey*> Engine::data_key(std::uint32_t key_id) {
  if (auto it = data_keys_.find(key_id); it != data_keys_.end()) return &it->second;
  LOCKBOX_ASSIGN_OR_RETURN(const auto row, rows_->key(key_id));
  if (row && row->kek_generation > kek_generation_) {
    // Either another process rewrapped the keyring under a newer master key since this one
    // opened (exit 4: retry with the new key), or the row was tampered with (exit 5).
    auto current = current_generation();
    if (current.is_ok() && *current > kek_generation_) {
      return key_error(
          fmt::format("the master key was rotated to generation {} while lockbox ran; "
                      "retry with the new key",
                      *current));
    }
    return integrity_error(fmt::format("data key {} is missing or unusable", key_id));
  }
  if (!row || row->purpose != "data" || !row->wrapped || row->kek_generation != kek_generation_) {
    return integrity_error(fmt::format("data key {} is missing or unusable", key_id));
  }
  auto key = open_wrapped_key(kek_, kek_generation_, "data", key_id, store_id_, *row->wrapped);
  if (!key.is_ok()) return integrity_error(fmt::format("data key {} fails authentication", key_id));
  return &data_keys_.emplace(key_id, std::move(key).value()).first->second;
}

Result<SecretRow> Engine::require_secret(const SecretAddress& address) {
  LOCKBOX_ASSIGN_OR_RETURN(auto row, rows_->find_secret(address.scope.address(), address.name));
  if (!row) return not_found("no secret " + address.reference());
  LOCKBOX_TRY(check_head(address, *row));
  return *std::move(row);
}

Result<SecretMeta> Engine::read_version(const SecretAddress& address, const SecretRow& row,
                                        std::int64_t version) {
  LOCKBOX_ASSIGN_OR_RETURN(const auto v, rows_->version(row.id, version, false));
  if (!v) return not_found(fmt::format("{} has no version {}", address.reference(), version));
  LOCKBOX_TRY(check_version(address, row.uid, *v));
  return to_meta(address, row, *v);
}

Result<SecretValue> Engine::decrypt_version(const SecretAddress& address, const SecretRow& row,
                                            std::int64_t version) {
  LOCKBOX_ASSIGN_OR_RETURN(const auto v, rows_->version(row.id, version, true));
  if (!v) return not_found(fmt::format("{} has no version {}", address.reference(), version));
  if (v->tombstone)
    return not_found(fmt::format("{} was deleted at v{}", address.reference(), version));
  return open_value(address, row.uid, version, v->key_id, v->envelope);
}

Result<SecretValue> Engine::open_value(const SecretAddress& address, ByteView uid,
                                       std::int64_t version, std::uint32_t key_id,
                                       ByteView envelope) {
  const Status damaged = integrity_error(fmt::format(
      "secret {} fails authentication (damaged or tampered row)", reference(address, version)));
  auto key = data_key(key_id);
  if (!key.is_ok()) return key.status().code() == StatusCode::kKey ? key.status() : damaged;
  // AAD from the request (scope, name, version asked for) and the uid found at that address.
  const Bytes context = secret_aad_context(store_id_, address.scope.address(), address.name, uid,
                                           static_cast<std::uint64_t>(version));
  SecretValue value;
  if (!open_envelope(**key, key_id, kLabelSecretValue, context, envelope, value).is_ok())
    return damaged;
  return value;
}

Result<SecretMeta> Engine::get(const SecretAddress& address, std::optional<std::int64_t> version) {
  if (!version) {
    // The head: one query for the secret and its head version (a metadata GET in `serve`).
    LOCKBOX_ASSIGN_OR_RETURN(const auto found, rows_->head(address.scope.address(), address.name));
    if (!found) return not_found("no secret " + address.reference());
    LOCKBOX_TRY(check_head(address, found->secret));
    if (found->version.version != found->secret.head_version) {
      return not_found(
          fmt::format("{} has no version {}", address.reference(), found->secret.head_version));
    }
    LOCKBOX_TRY(check_version(address, found->secret.uid, found->version));
    return to_meta(address, found->secret, found->version);
  }
  LOCKBOX_ASSIGN_OR_RETURN(const SecretRow row, require_secret(address));
  return read_version(address, row, *version);
}

Result<RevealedSecret> Engine::reveal(const SecretAddress& address) {
  LOCKBOX_ASSIGN_OR_RETURN(const SecretRow row, require_secret(address));
  LOCKBOX_ASSIGN_OR_RETURN(SecretMeta meta, read_version(address, row, row.head_version));
  if (meta.tombstone) {
    return not_found(fmt::format("{} was deleted at v{}", address.reference(), meta.version));
  }
  LOCKBOX_ASSIGN_OR_RETURN(SecretValue value, decrypt_version(address, row, meta.version));
  // Fail closed: the record is committed before the value leaves the store.
  LOCKBOX_TRY(append_audit(
      {"secret.reveal", address.reference(), "ok", fmt::format("v{}", meta.version)}, true));
  return RevealedSecret{std::move(meta), std::move(value)};
}

Result<std::vector<SecretMeta>> Engine::query_heads(const std::optional<Scope>& exact_scope,
                                                    bool include_deleted, bool keep_damaged) {
  // Membership first: a deleted or rolled-back row is a scope failure before any secret is used.
  // One scope: its heads and its scope row come from one query (no extra round trip per scope).
  LOCKBOX_TRY(flush_pending_scopes());  // inside a write transaction, read what it wrote
  std::vector<SecretVersionRow> rows;
  if (exact_scope) {
    LOCKBOX_ASSIGN_OR_RETURN(Backend::ScopeHeads found, rows_->scope_heads(exact_scope->address()));
    rows = std::move(found.heads);
    std::vector<const SecretRow*> members;
    members.reserve(rows.size());
    for (const SecretVersionRow& r : rows) members.push_back(&r.secret);
    LOCKBOX_TRY(verify_scope(exact_scope->address(), std::move(found.scope_row), members));
  } else {
    LOCKBOX_ASSIGN_OR_RETURN(rows, rows_->heads(std::nullopt));
    LOCKBOX_TRY(verify_all_scopes(rows));
  }
  std::vector<SecretMeta> out;
  out.reserve(rows.size());
  for (const SecretVersionRow& r : rows) {
    LOCKBOX_ASSIGN_OR_RETURN(Scope scope, Scope::parse(r.secret.scope));
    const SecretAddress address{std::move(scope), r.secret.name};
    if (Status st = check_version(address, r.secret.uid, r.version); !st.is_ok()) {
      if (!keep_damaged) return st;
      SecretMeta bad;
      bad.scope = address.scope;
      bad.name = address.name;
      bad.damaged = st.message();
      out.push_back(std::move(bad));
      continue;
    }
    SecretMeta m = to_meta(address, r.secret, r.version);
    if (m.tombstone && !include_deleted) continue;
    out.push_back(std::move(m));
  }
  return out;
}

Result<std::vector<SecretMeta>> Engine::list(const ListFilter& filter) {
  LOCKBOX_ASSIGN_OR_RETURN(auto heads,
                           query_heads(filter.scope, filter.include_deleted, filter.keep_damaged));
  std::erase_if(heads, [&](const SecretMeta& m) {
    if (filter.kind && m.scope.kind() != *filter.kind) return true;
    if (filter.ns && !scope_in_namespace(m.scope, *filter.ns)) return true;
    if (filter.tag && m.damaged.empty() &&
        std::find(m.tags.begin(), m.tags.end(), *filter.tag) == m.tags.end()) {
      return true;
    }
    return false;
  });
  return heads;
}

Result<std::vector<SecretMeta>> Engine::heads_in_scopes(const std::vector<Scope>& scopes) {
  std::vector<SecretMeta> out;
  for (const Scope& scope : scopes) {
    LOCKBOX_ASSIGN_OR_RETURN(auto heads, query_heads(scope, false));
    std::move(heads.begin(), heads.end(), std::back_inserter(out));
  }
  return out;
}

Result<std::vector<SecretMeta>> Engine::history(const SecretAddress& address) {
  LOCKBOX_ASSIGN_OR_RETURN(const SecretRow row, require_secret(address));
  LOCKBOX_ASSIGN_OR_RETURN(const auto versions, rows_->versions(row.id));
  std::vector<SecretMeta> out;
  out.reserve(versions.size());
  for (const VersionRow& v : versions) {
    LOCKBOX_TRY(check_version(address, row.uid, v));
    out.push_back(to_meta(address, row, v));
  }
  return out;
}

Result<SecretValue> Engine::decrypt(const SecretAddress& address, std::int64_t version) {
  // The launch path calls this once per injected secret: one query for the uid and the version.
  LOCKBOX_ASSIGN_OR_RETURN(const auto found,
                           rows_->secret_version(address.scope.address(), address.name, version));
  if (!found) return not_found(fmt::format("{} has no version {}", address.reference(), version));
  if (found->version.tombstone) {
    return not_found(fmt::format("{} was deleted at v{}", address.reference(), version));
  }
  return open_value(address, found->secret.uid, version, found->version.key_id,
                    found->version.envelope);
}

// ---- Backend defaults for the one-query reads (a backend overrides them with one statement) ----

Result<std::optional<SecretVersionRow>> Backend::head(std::string_view scope,
                                                      std::string_view name) {
  LOCKBOX_ASSIGN_OR_RETURN(auto secret, find_secret(scope, name));
  if (!secret) return std::optional<SecretVersionRow>();
  LOCKBOX_ASSIGN_OR_RETURN(auto v, version(secret->id, secret->head_version, false));
  return std::optional<SecretVersionRow>(
      SecretVersionRow{*std::move(secret), v ? *std::move(v) : VersionRow{}});
}

Result<Backend::ScopeHeads> Backend::scope_heads(std::string_view scope) {
  ScopeHeads out;
  LOCKBOX_ASSIGN_OR_RETURN(out.heads, heads(std::string(scope)));
  LOCKBOX_ASSIGN_OR_RETURN(out.scope_row, scope_at_or_before(scope));
  return out;
}

Status Backend::insert_audits(const std::vector<AuditRecord>& records) {
  for (const AuditRecord& r : records) LOCKBOX_TRY(insert_audit(r));
  return Status::ok();
}

}  // namespace lockbox::store
