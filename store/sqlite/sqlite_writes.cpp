// SqliteStore: creating a store and every write. Each write is one BEGIN IMMEDIATE transaction
// that also appends its audit record and bumps the change counter.
#include <fmt/format.h>

#include <array>

#include "store/audit_chain.hpp"
#include "store/envelope.hpp"
#include "store/key_schedule.hpp"
#include "store/sqlite/keyring.hpp"
#include "store/sqlite/row_codec.hpp"
#include "store/sqlite/schema.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "store/validation.hpp"

namespace lockbox::store::sqlite {
namespace {

constexpr std::array<const char*, 3> kInitialKeyPurposes = {"data", "audit", "fingerprint"};


Status insert_meta(Db& db, std::string_view key, const auto& value) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db.prepare("INSERT INTO meta(key, value) VALUES (?, ?)"));
  st.bind(1, key);
  if constexpr (std::is_same_v<std::decay_t<decltype(value)>, Bytes>) {
    st.bind_blob(2, value);
  } else {
    st.bind(2, value);
  }
  return st.run();
}

}  // namespace

Result<std::uint32_t> insert_wrapped_key(Db& db, const SecureKey& kek, std::uint32_t generation,
                                         const char* purpose, ByteView store_id, UnixMillis now,
                                         Random& random, std::int64_t max_encryptions) {
  // Data keys are numbered 1, 2, 3... (their number is the `version` keys status shows and the
  // key_id in each envelope); the audit and fingerprint keys live above kServiceKeyIds. A key_id
  // is never reused: no keyring row is ever deleted (a destroyed key keeps its row).
  const bool data = std::string_view(purpose) == "data";
  LOCKBOX_ASSIGN_OR_RETURN(auto next, db.prepare(
      "SELECT coalesce(max(key_id), ?) + 1 FROM keyring WHERE key_id >= ? AND key_id < ?"));
  next.bind(1, data ? std::int64_t{0} : kServiceKeyIds)
      .bind(2, data ? std::int64_t{0} : kServiceKeyIds)
      .bind(3, data ? kServiceKeyIds : std::int64_t{0xFFFFFFFF});
  LOCKBOX_ASSIGN_OR_RETURN(const bool has_row, next.step());
  if (!has_row) return runtime_error("keyring query failed");
  const auto key_id = static_cast<std::uint32_t>(next.int64(0));
  SecureKey key;
  LOCKBOX_TRY(random.fill({key.mutable_data(), SecureKey::kSize}));
  LOCKBOX_ASSIGN_OR_RETURN(const Bytes wrapped,
                           wrap_key(kek, generation, purpose, key_id, store_id, key, random));
  LOCKBOX_ASSIGN_OR_RETURN(auto ins, db.prepare(
      "INSERT INTO keyring(key_id, purpose, state, kek_generation, wrapped, created_at, max_encryptions) "
      "VALUES (?, ?, 'active', ?, ?, ?, ?)"));
  ins.bind(1, std::int64_t{key_id}).bind(2, std::string_view(purpose)).bind(3, std::int64_t{generation})
      .bind_blob(4, wrapped).bind(5, now).bind(6, max_encryptions);
  LOCKBOX_TRY(ins.run());
  return key_id;
}

Result<std::unique_ptr<Store>> SqliteStore::create(const StoreOptions& options,
                                                   const std::filesystem::path& path, MasterKey master_key) {
  LOCKBOX_ASSIGN_OR_RETURN(Db db, Db::open(path, true, options.busy_timeout_ms));
  // WAL is persistent in the file: set once here, never on the launch path.
  LOCKBOX_TRY(db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON"));
  LOCKBOX_ASSIGN_OR_RETURN(auto tx, Transaction::begin(db));
  LOCKBOX_ASSIGN_OR_RETURN(const int existing, schema_version(db));
  if (existing != 0) return bad_input("a store already exists at " + path.string() + "; nothing changed");
  LOCKBOX_TRY(migrate(db));

  Random& random = random_of(options);
  const UnixMillis now = clock_of(options).now();
  Bytes store_id(kStoreIdSize);
  LOCKBOX_TRY(random.fill(store_id));
  LOCKBOX_TRY(insert_meta(db, "store_id", store_id));
  LOCKBOX_TRY(insert_meta(db, "change_counter", std::int64_t{0}));
  LOCKBOX_TRY(insert_meta(db, "created_at", now));
  if (master_key.kind == MasterKeyKind::kPassphrase) {
    Bytes salt(16);
    LOCKBOX_TRY(random.fill(salt));
    LOCKBOX_TRY(insert_meta(db, "key_kind", std::string_view("passphrase")));
    LOCKBOX_TRY(insert_meta(db, "kdf_salt", salt));
    LOCKBOX_TRY(insert_meta(db, "kdf_iterations", std::int64_t{kPassphraseIterations}));
    LOCKBOX_ASSIGN_OR_RETURN(master_key.key,
                             stretch_passphrase(master_key.passphrase, salt, kPassphraseIterations));
  } else {
    LOCKBOX_TRY(insert_meta(db, "key_kind", std::string_view("key")));
  }
  LOCKBOX_ASSIGN_OR_RETURN(const Bytes kcv, derive_kcv(master_key.key, store_id, 1));
  LOCKBOX_ASSIGN_OR_RETURN(auto mk, db.prepare(
      "INSERT INTO master_keys(generation, kcv, state, created_at) VALUES (1, ?, 'current', ?)"));
  mk.bind_blob(1, kcv).bind(2, now);
  LOCKBOX_TRY(mk.run());
  LOCKBOX_ASSIGN_OR_RETURN(const SecureKey kek, derive_kek(master_key.key, store_id, 1));
  for (const char* purpose : kInitialKeyPurposes) {
    LOCKBOX_TRY(insert_wrapped_key(db, kek, 1, purpose, store_id, now, random, options.nonce_budget));
  }
  LOCKBOX_TRY(tx->commit());
  tx.reset();
  db = Db();  // close; reopen through the normal path so create and open share one code path
  return open(options, path, std::move(master_key));
}

Status SqliteStore::append_audit_in_tx(const AuditEvent& event) {
  AuditRecord rec{0, clock_of(options_).now(), event.actor.empty() ? options_.actor : event.actor,
                  event.action, event.target,
                  event.outcome, event.detail, {}, {}};
  LOCKBOX_ASSIGN_OR_RETURN(Statement * last, db_.cached(
      "SELECT seq, entry_mac FROM audit ORDER BY seq DESC LIMIT 1"));
  LOCKBOX_ASSIGN_OR_RETURN(const bool has_last, last->step());
  if (has_last) {
    rec.seq = last->int64(0) + 1;
    const ByteView mac = last->blob(1);
    if (mac.size() != rec.prev_mac.size()) {
      last->reset();
      return integrity_error(fmt::format("audit record {} is damaged", rec.seq - 1));
    }
    std::copy(mac.begin(), mac.end(), rec.prev_mac.begin());
  } else {
    rec.seq = 1;
  }
  last->reset();
  rec.entry_mac = audit_entry_mac(audit_chain_key_, rec.prev_mac, rec);
  LOCKBOX_ASSIGN_OR_RETURN(Statement * ins, db_.cached(
      "INSERT INTO audit(seq, ts, actor, action, target, outcome, detail, prev_mac, entry_mac) "
      "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  ins->bind(1, rec.seq).bind(2, rec.ts).bind(3, rec.actor).bind(4, rec.action).bind(5, rec.target)
      .bind(6, rec.outcome).bind(7, rec.detail).bind_blob(8, rec.prev_mac).bind_blob(9, rec.entry_mac);
  return ins->run();
}

Status SqliteStore::append_audit(const AuditEvent& event, bool durable) {
  return append_audit_batch({event}, durable);
}

Status SqliteStore::append_audit_batch(const std::vector<AuditEvent>& events, bool durable) {
  // Launch and resolve records may use synchronous=NORMAL (SPEC §6): durable across a process
  // crash, not necessarily across a power loss.
  if (!durable) LOCKBOX_TRY(db_.exec("PRAGMA synchronous=NORMAL"));
  Status status = [&]() -> Status {
    LOCKBOX_ASSIGN_OR_RETURN(auto tx, Transaction::begin(db_));
    for (const auto& event : events) LOCKBOX_TRY(append_audit_in_tx(event));
    return tx->commit();
  }();
  if (!durable) LOCKBOX_TRY(db_.exec("PRAGMA synchronous=FULL"));
  return status;
}

Status SqliteStore::bump_change_counter() {
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached(
      "UPDATE meta SET value = value + 1 WHERE key = 'change_counter'"));
  return st->run();
}

Result<SecretMeta> SqliteStore::write_version(const SecretAddress& address, std::optional<SecretRow> row,
                                              const NewVersion& nv) {
  const UnixMillis now = clock_of(options_).now();
  Random& random = random_of(options_);
  if (!row) {
    SecretRow fresh{0, Bytes(kSecretUidSize), 0, now};
    LOCKBOX_TRY(random.fill(fresh.uid));
    LOCKBOX_ASSIGN_OR_RETURN(Statement * ins, db_.cached(
        "INSERT INTO secrets(scope, name, uid, head_version, created_at) VALUES (?, ?, ?, 0, ?)"));
    ins->bind(1, address.scope.address()).bind(2, address.name).bind_blob(3, fresh.uid).bind(4, now);
    LOCKBOX_TRY(ins->run());
    fresh.id = db_.last_insert_rowid();
    row = std::move(fresh);
  }
  SecretMeta m{address.scope, address.name, row->head_version + 1, {}, nv.description, nv.tags,
               nv.metadata, nv.expires_at, row->created_at, now, options_.actor, nv.value == nullptr,
               0, 1};
  Bytes envelope;
  if (nv.value != nullptr) {
    LOCKBOX_ASSIGN_OR_RETURN(m.key_id, reserve_encryption());
    LOCKBOX_ASSIGN_OR_RETURN(const SecureKey* key, data_key(m.key_id));
    const Bytes context = secret_aad_context(store_id_, address.scope.address(), address.name, row->uid,
                                             static_cast<std::uint64_t>(m.version));
    LOCKBOX_ASSIGN_OR_RETURN(envelope, seal_envelope(*key, m.key_id, kLabelSecretValue, context,
                                                     as_bytes(nv.value->reveal()), random));
    m.fingerprint = fingerprint(fingerprint_key_, address.scope.address(), address.name, nv.value->reveal());
  }
  LOCKBOX_ASSIGN_OR_RETURN(Statement * ins, db_.cached(
      "INSERT INTO versions(secret_id, version, tombstone, key_id, envelope, fingerprint, description, "
      "tags, metadata, expires_at, created_at, actor) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  ins->bind(1, row->id).bind(2, m.version).bind(3, std::int64_t{m.tombstone ? 1 : 0});
  if (m.tombstone) {
    ins->bind_null(4).bind_null(5).bind_null(6);
  } else {
    ins->bind(4, std::int64_t{m.key_id}).bind_blob(5, envelope).bind(6, m.fingerprint);
  }
  ins->bind(7, m.description).bind_blob(8, encode_tags(m.tags)).bind_blob(9, encode_metadata(m.metadata))
      .bind_optional(10, m.expires_at).bind(11, now).bind(12, options_.actor);
  LOCKBOX_TRY(ins->run());
  LOCKBOX_ASSIGN_OR_RETURN(Statement * head, db_.cached("UPDATE secrets SET head_version = ? WHERE id = ?"));
  head->bind(1, m.version).bind(2, row->id);
  LOCKBOX_TRY(head->run());
  return m;
}

}  // namespace lockbox::store::sqlite
