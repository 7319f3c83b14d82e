// SqliteStore: opening, keys and reads. Writes are in sqlite_writes.cpp.
#include "store/sqlite/sqlite_store.hpp"

#include <fmt/format.h>

#include <algorithm>

#include "store/crypto.hpp"
#include "store/envelope.hpp"
#include "store/key_schedule.hpp"
#include "store/sqlite/keyring.hpp"
#include "store/sqlite/row_codec.hpp"
#include "store/sqlite/schema.hpp"
#include "core/timing.hpp"

namespace lockbox::store::sqlite {
namespace {

// Columns of a version row, in the order fill_version() reads them.
#define LOCKBOX_VERSION_COLUMNS                                                               \
  "v.version, v.tombstone, v.key_id, v.fingerprint, v.description, v.tags, v.metadata, " \
  "v.expires_at, v.created_at, v.actor, v.row_rev"

Status fill_version(const Statement& st, int c, SecretMeta& m) {
  m.version = st.int64(c);
  m.tombstone = st.int64(c + 1) != 0;
  m.key_id = static_cast<std::uint32_t>(st.is_null(c + 2) ? 0 : st.int64(c + 2));
  m.fingerprint = st.is_null(c + 3) ? std::string() : st.text(c + 3);
  m.description = st.text(c + 4);
  LOCKBOX_ASSIGN_OR_RETURN(m.tags, decode_tags(st.blob(c + 5)));
  LOCKBOX_ASSIGN_OR_RETURN(m.metadata, decode_metadata(st.blob(c + 6)));
  m.expires_at = st.optional_int64(c + 7);
  m.updated_at = st.int64(c + 8);
  m.actor = st.text(c + 9);
  m.row_rev = st.int64(c + 10);
  return Status::ok();
}

std::string reference(const SecretAddress& a, std::int64_t version) {
  return fmt::format("{}@v{}", a.reference(), version);
}

bool scope_in_namespace(const Scope& scope, const std::string& ns) {
  return (scope.kind() == ScopeKind::kNamespace || scope.kind() == ScopeKind::kFunction) &&
         scope.id() == ns;
}

}  // namespace

SqliteStore::SqliteStore(const StoreOptions& options, Db db) : options_(options), db_(std::move(db)) {
  // A transaction that rolls back takes with it what it reserved and created: the nonce block
  // (never counted in the store) and any data key it inserted (an automatic rotation), whose id a
  // later rotation will reuse with other bytes. Cached keys are unwrapped again on demand.
  db_.set_rollback_hook(
      [](void* self) {
        auto* store = static_cast<SqliteStore*>(self);
        store->nonce_block_ = {};
        store->data_keys_.clear();
      },
      this);
}

Result<std::unique_ptr<Store>> SqliteStore::open(const StoreOptions& options,
                                                 const std::filesystem::path& path, MasterKey master_key) {
  LOCKBOX_ASSIGN_OR_RETURN(Db db, Db::open(path, false, options.busy_timeout_ms));
  // Every lockbox process is usually the store's only connection, so each open replays the WAL
  // (recovery reads every frame). A small auto-checkpoint bounds that to ~256 KiB; the sync a
  // checkpoint costs is paid by one write in a few dozen instead of by every process exit.
  LOCKBOX_TRY(db.exec(fmt::format("PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON; PRAGMA secure_delete=ON; "
                                  "PRAGMA wal_autocheckpoint={}; PRAGMA journal_size_limit=1048576",
                                  options.wal_autocheckpoint_pages)
                          .c_str()));
  LOCKBOX_ASSIGN_OR_RETURN(const int version, schema_version(db));
  if (version == 0) return runtime_error("no store at " + path.string() + " (run lockbox init)");
  if (version != kSchemaVersion) {
    LOCKBOX_ASSIGN_OR_RETURN(auto tx, Transaction::begin(db));
    LOCKBOX_TRY(migrate(db));
    LOCKBOX_TRY(tx->commit());
  }
  std::unique_ptr<SqliteStore> store(new SqliteStore(options, std::move(db)));
  timing::mark("store-open");
  // One snapshot for meta, master_keys and keyring: a rewrap committing meanwhile must not show
  // the old generation's KCVs with the new generation's wrapped keys.
  LOCKBOX_TRY(store->db_.exec("BEGIN"));
  const Status loaded = store->load_keys(std::move(master_key));
  (void)store->db_.exec("COMMIT");
  LOCKBOX_TRY(loaded);
  timing::mark("keys");
  return std::unique_ptr<Store>(std::move(store));
}

Status SqliteStore::load_keys(MasterKey master_key) {
  std::string kind;
  Bytes salt;
  std::int64_t iterations = 0;
  {
    LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT key, value FROM meta"));
    while (true) {
      LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
      if (!row) break;
      const std::string key = st.text(0);
      if (key == "store_id") store_id_.assign(st.blob(1).begin(), st.blob(1).end());
      if (key == "key_kind") kind = st.text(1);
      if (key == "kdf_salt") salt.assign(st.blob(1).begin(), st.blob(1).end());
      if (key == "kdf_iterations") iterations = st.int64(1);
    }
  }
  if (store_id_.size() != kStoreIdSize) return integrity_error("store metadata is damaged (store id)");
  const bool want_passphrase = kind == "passphrase";
  if (want_passphrase != (master_key.kind == MasterKeyKind::kPassphrase)) {
    return key_error(fmt::format("this store was created with a master {}, but a {} was given ({})",
                                 want_passphrase ? "passphrase" : "key",
                                 want_passphrase ? "key" : "passphrase", master_key.source));
  }
  if (want_passphrase && (iterations < 100'000 || iterations > 10'000'000 || salt.size() < 16)) {
    // A tampered count could make every open hang (or weaken nothing: the KCV still decides).
    return integrity_error("store metadata is damaged (passphrase parameters)");
  }
  if (want_passphrase) {
    LOCKBOX_ASSIGN_OR_RETURN(master_key.key,
                             stretch_passphrase(master_key.passphrase, salt,
                                                static_cast<std::uint32_t>(iterations)));
  }
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT generation, kcv, state FROM master_keys"));
  std::optional<std::uint32_t> stale_generation;
  std::uint32_t current = 0;
  bool matches_current = false;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) break;
    const auto gen = static_cast<std::uint32_t>(st.int64(0));
    LOCKBOX_ASSIGN_OR_RETURN(const Bytes kcv, derive_kcv(master_key.key, store_id_, gen));
    const bool match = constant_time_equal(kcv, st.blob(1));
    if (st.text(2) == "current") {
      current = gen;
      matches_current = match;
    } else if (match) {
      stale_generation = gen;
    }
  }
  if (current == 0) return integrity_error("store metadata is damaged (no current master key)");
  if (!matches_current) {
    if (stale_generation) {
      return key_error(fmt::format("stale master key ({}): it is generation {}, which was retired; the "
                                   "store now uses generation {}",
                                   master_key.source, *stale_generation, current));
    }
    return key_error(fmt::format("wrong master key ({}): it does not open this store", master_key.source));
  }
  kek_generation_ = current;
  LOCKBOX_ASSIGN_OR_RETURN(kek_, derive_kek(master_key.key, store_id_, current));
  // The fingerprint and audit keys are needed by every write; unwrap them now.
  for (const char* purpose : {"fingerprint", "audit"}) {
    LOCKBOX_ASSIGN_OR_RETURN(auto k, db_.prepare("SELECT key_id, kek_generation, wrapped FROM keyring "
                                                 "WHERE purpose = ? AND state = 'active'"));
    k.bind(1, std::string_view(purpose));
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, k.step());
    if (!row || k.is_null(2) || k.int64(1) != kek_generation_) {
      return integrity_error(fmt::format("keyring is damaged: no usable {} key", purpose));
    }
    auto key = open_wrapped_key(kek_, kek_generation_, purpose, static_cast<std::uint32_t>(k.int64(0)),
                                store_id_, k.blob(2));
    if (!key.is_ok()) return integrity_error(fmt::format("keyring is damaged: the {} key fails authentication", purpose));
    if (std::string_view(purpose) == "fingerprint") {
      fingerprint_key_ = std::move(key).value();
    } else {
      LOCKBOX_ASSIGN_OR_RETURN(audit_chain_key_, derive_audit_chain_key(key.value(), store_id_));
    }
  }
  return Status::ok();
}

Result<const SecureKey*> SqliteStore::data_key(std::uint32_t key_id) {
  if (auto it = data_keys_.find(key_id); it != data_keys_.end()) return &it->second;
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached(
      "SELECT purpose, state, kek_generation, wrapped FROM keyring WHERE key_id = ?"));
  st->bind(1, static_cast<std::int64_t>(key_id));
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (row && st->int64(2) > kek_generation_) {
    // Either another process rewrapped the keyring under a newer master key since this one
    // opened (exit 4: retry with the new key), or the row was tampered with (exit 5).
    st->reset();
    auto current = current_generation(db_);
    if (current.is_ok() && *current > kek_generation_) {
      return key_error(fmt::format("the master key was rotated to generation {} while lockbox ran; "
                                   "retry with the new key", *current));
    }
    return integrity_error(fmt::format("data key {} is missing or unusable", key_id));
  }
  if (!row || st->text(0) != "data" || st->is_null(3) || st->int64(2) != kek_generation_) {
    st->reset();
    return integrity_error(fmt::format("data key {} is missing or unusable", key_id));
  }
  auto key = open_wrapped_key(kek_, kek_generation_, "data", key_id, store_id_, st->blob(3));
  st->reset();
  if (!key.is_ok()) return integrity_error(fmt::format("data key {} fails authentication", key_id));
  return &data_keys_.emplace(key_id, std::move(key).value()).first->second;
}

Result<std::optional<SqliteStore::SecretRow>> SqliteStore::find_secret(const SecretAddress& address) {
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached(
      "SELECT id, uid, head_version, created_at FROM secrets WHERE scope = ? AND name = ?"));
  st->bind(1, address.scope.address()).bind(2, address.name);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<SecretRow>();
  SecretRow r{st->int64(0), Bytes(st->blob(1).begin(), st->blob(1).end()), st->int64(2), st->int64(3)};
  st->reset();
  return std::optional<SecretRow>(std::move(r));
}

Result<SecretMeta> SqliteStore::read_version(const SecretAddress& address, const SecretRow& row,
                                             std::int64_t version) {
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached(
      "SELECT " LOCKBOX_VERSION_COLUMNS " FROM versions v WHERE v.secret_id = ? AND v.version = ?"));
  st->bind(1, row.id).bind(2, version);
  LOCKBOX_ASSIGN_OR_RETURN(const bool found, st->step());
  if (!found) return not_found(fmt::format("{} has no version {}", address.reference(), version));
  SecretMeta m;
  const Status filled = fill_version(*st, 0, m);
  st->reset();
  LOCKBOX_TRY(filled.with_context(reference(address, version)));
  m.scope = address.scope;
  m.name = address.name;
  m.created_at = row.created_at;
  return m;
}

Result<SecretValue> SqliteStore::decrypt_version(const SecretAddress& address, const SecretRow& row,
                                                 std::int64_t version) {
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached(
      "SELECT tombstone, key_id, envelope FROM versions WHERE secret_id = ? AND version = ?"));
  st->bind(1, row.id).bind(2, version);
  LOCKBOX_ASSIGN_OR_RETURN(const bool found, st->step());
  if (!found) return not_found(fmt::format("{} has no version {}", address.reference(), version));
  if (st->int64(0) != 0) {
    st->reset();
    return not_found(fmt::format("{} was deleted at v{}", address.reference(), version));
  }
  const Bytes envelope(st->blob(2).begin(), st->blob(2).end());
  const auto key_id = static_cast<std::uint32_t>(st->int64(1));
  st->reset();
  return open_value(address, row.uid, version, key_id, envelope);
}

Result<SecretValue> SqliteStore::open_value(const SecretAddress& address, ByteView uid,
                                            std::int64_t version, std::uint32_t key_id,
                                            ByteView envelope) {
  const Status damaged = integrity_error(
      fmt::format("secret {} fails authentication (damaged or tampered row)", reference(address, version)));
  auto key = data_key(key_id);
  if (!key.is_ok()) return key.status().code() == StatusCode::kKey ? key.status() : damaged;
  // AAD from the request (scope, name, version asked for) and the uid found at that address.
  const Bytes context = secret_aad_context(store_id_, address.scope.address(), address.name, uid,
                                           static_cast<std::uint64_t>(version));
  SecretValue value;
  if (!open_envelope(**key, key_id, kLabelSecretValue, context, envelope, value).is_ok()) return damaged;
  return value;
}

Result<SecretMeta> SqliteStore::get(const SecretAddress& address, std::optional<std::int64_t> version) {
  LOCKBOX_ASSIGN_OR_RETURN(auto row, find_secret(address));
  if (!row) return not_found("no secret " + address.reference());
  return read_version(address, *row, version.value_or(row->head_version));
}

Result<RevealedSecret> SqliteStore::reveal(const SecretAddress& address) {
  LOCKBOX_ASSIGN_OR_RETURN(auto row, find_secret(address));
  if (!row) return not_found("no secret " + address.reference());
  LOCKBOX_ASSIGN_OR_RETURN(SecretMeta meta, read_version(address, *row, row->head_version));
  if (meta.tombstone) {
    return not_found(fmt::format("{} was deleted at v{}", address.reference(), meta.version));
  }
  LOCKBOX_ASSIGN_OR_RETURN(SecretValue value, decrypt_version(address, *row, meta.version));
  // Fail closed: the record is committed before the value leaves the store.
  LOCKBOX_TRY(append_audit({"secret.reveal", address.reference(), "ok", fmt::format("v{}", meta.version)},
                           true));
  return RevealedSecret{std::move(meta), std::move(value)};
}

Result<std::vector<SecretMeta>> SqliteStore::query_heads(const std::optional<Scope>& exact_scope,
                                                         bool include_deleted) {
  // Two fixed statements, prepared once per connection: heads_in_scopes() runs the scoped one
  // for every scope of a launch.
  static constexpr const char* kAllHeads =
      "SELECT s.scope, s.name, s.created_at, " LOCKBOX_VERSION_COLUMNS
      " FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head_version"
      " ORDER BY s.scope, s.name";
  static constexpr const char* kScopeHeads =
      "SELECT s.scope, s.name, s.created_at, " LOCKBOX_VERSION_COLUMNS
      " FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head_version"
      " WHERE s.scope = ? ORDER BY s.name";
  LOCKBOX_ASSIGN_OR_RETURN(Statement * cached, db_.cached(exact_scope ? kScopeHeads : kAllHeads));
  Statement& st = *cached;
  if (exact_scope) st.bind(1, exact_scope->address());
  std::vector<SecretMeta> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) break;
    SecretMeta m;
    LOCKBOX_ASSIGN_OR_RETURN(m.scope, Scope::parse(st.text(0)));
    m.name = st.text(1);
    m.created_at = st.int64(2);
    const Status filled = fill_version(st, 3, m);
    if (!filled.is_ok()) {
      st.reset();
      return filled.with_context(m.scope.address() + "/" + m.name);
    }
    if (m.tombstone && !include_deleted) continue;
    out.push_back(std::move(m));
  }
  st.reset();
  return out;
}

Result<std::vector<SecretMeta>> SqliteStore::list(const ListFilter& filter) {
  LOCKBOX_ASSIGN_OR_RETURN(auto heads, query_heads(filter.scope, filter.include_deleted));
  std::erase_if(heads, [&](const SecretMeta& m) {
    if (filter.kind && m.scope.kind() != *filter.kind) return true;
    if (filter.ns && !scope_in_namespace(m.scope, *filter.ns)) return true;
    if (filter.tag && std::find(m.tags.begin(), m.tags.end(), *filter.tag) == m.tags.end()) return true;
    return false;
  });
  return heads;
}

Result<std::vector<SecretMeta>> SqliteStore::heads_in_scopes(const std::vector<Scope>& scopes) {
  std::vector<SecretMeta> out;
  for (const Scope& scope : scopes) {
    LOCKBOX_ASSIGN_OR_RETURN(auto heads, query_heads(scope, false));
    std::move(heads.begin(), heads.end(), std::back_inserter(out));
  }
  return out;
}

Result<std::vector<SecretMeta>> SqliteStore::history(const SecretAddress& address) {
  LOCKBOX_ASSIGN_OR_RETURN(auto row, find_secret(address));
  if (!row) return not_found("no secret " + address.reference());
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT " LOCKBOX_VERSION_COLUMNS
                                                " FROM versions v WHERE v.secret_id = ? ORDER BY v.version"));
  st.bind(1, row->id);
  std::vector<SecretMeta> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool found, st.step());
    if (!found) break;
    SecretMeta m;
    LOCKBOX_TRY(fill_version(st, 0, m).with_context(address.reference()));
    m.scope = address.scope;
    m.name = address.name;
    m.created_at = row->created_at;
    out.push_back(std::move(m));
  }
  return out;
}

Result<SecretValue> SqliteStore::decrypt(const SecretAddress& address, std::int64_t version) {
  // The launch path calls this once per injected secret: one indexed query for the uid and the
  // version row together, instead of find_secret() then decrypt_version().
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached(
      "SELECT s.uid, v.tombstone, v.key_id, v.envelope FROM secrets s JOIN versions v "
      "ON v.secret_id = s.id AND v.version = ? WHERE s.scope = ? AND s.name = ?"));
  st->bind(1, version).bind(2, address.scope.address()).bind(3, address.name);
  LOCKBOX_ASSIGN_OR_RETURN(const bool found, st->step());
  if (!found) {
    st->reset();
    return not_found(fmt::format("{} has no version {}", address.reference(), version));
  }
  const Bytes uid(st->blob(0).begin(), st->blob(0).end());
  const bool tombstone = st->int64(1) != 0;
  const auto key_id = static_cast<std::uint32_t>(st->int64(2));
  const Bytes envelope(st->blob(3).begin(), st->blob(3).end());
  st->reset();
  if (tombstone) return not_found(fmt::format("{} was deleted at v{}", address.reference(), version));
  return open_value(address, uid, version, key_id, envelope);
}

Result<std::int64_t> SqliteStore::change_counter() {
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached("SELECT value FROM meta WHERE key = 'change_counter'"));
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  const std::int64_t value = row ? st->int64(0) : 0;
  st->reset();
  return value;
}

}  // namespace lockbox::store::sqlite
