// SqliteStore: the key lifecycle of CRYPTO.md "Rotation": data-key rotation, master-key rewrap,
// key status, and the nonce budget with reservations (re-encryption: sqlite_reencrypt.cpp).
//
// Crash safety comes from the transactions: rotate and rewrap are one BEGIN IMMEDIATE
// transaction each. The fault points (core/fault.hpp) let tests kill the process at each step.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/fault.hpp"
#include "store/envelope.hpp"
#include "store/key_schedule.hpp"
#include "store/sqlite/keyring.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace lockbox::store::sqlite {
namespace {

constexpr std::int64_t kLargestBlock = 4096;  // adaptive nonce blocks: 16, 32, ... 4096

}  // namespace

Result<ActiveKey> active_data_key(Db& db) {
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db.cached(
      "SELECT key_id, created_at FROM keyring WHERE purpose = 'data' AND state = 'active'"));
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) {
    st->reset();
    return integrity_error("keyring is damaged: no active data key");
  }
  const ActiveKey key{static_cast<std::uint32_t>(st->int64(0)), st->int64(1)};
  st->reset();
  return key;
}

Result<std::uint32_t> current_generation(Db& db) {
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db.cached(
      "SELECT generation FROM master_keys WHERE state = 'current'"));
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  const auto generation = row ? static_cast<std::uint32_t>(st->int64(0)) : 0;
  st->reset();
  if (generation == 0) return integrity_error("store metadata is damaged (no current master key)");
  return generation;
}

// ---- nonce budget ----

Result<std::uint32_t> SqliteStore::reserve_encryption(bool rotated_for_budget) {
  LOCKBOX_ASSIGN_OR_RETURN(const ActiveKey active, active_data_key(db_));
  if (nonce_block_.key_id != active.key_id || nonce_block_.remaining == 0) {
    // Reserve a block of encryptions from the key's budget in this transaction. A crash (or
    // this process ending with part of the block unused) only over-counts; a rollback drops
    // the block (the rollback hook), since the store never recorded it.
    const std::int64_t wanted = options_.nonce_block > 0 ? options_.nonce_block : next_block_size_;
    LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached(
        "SELECT reserved, max_encryptions FROM keyring WHERE key_id = ?"));
    st->bind(1, std::int64_t{active.key_id});
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
    const std::int64_t reserved = row ? st->int64(0) : 0;
    const std::int64_t budget = row ? st->int64(1) : 0;
    st->reset();
    if (reserved >= budget) {
      // Exhausted: rotate automatically (CRYPTO.md), then reserve from the new key. A new key
      // that is exhausted too (a damaged keyring row) is an error, not another rotation.
      if (rotated_for_budget) {
        return integrity_error(fmt::format("keyring is damaged: new data key {} has no nonce budget",
                                           active.key_id));
      }
      LOCKBOX_TRY(rotate_in_tx(active.key_id,
                               fmt::format("nonce budget of data key {} exhausted", active.key_id)));
      return reserve_encryption(true);
    }
    const std::int64_t granted = std::min(wanted, budget - reserved);
    LOCKBOX_ASSIGN_OR_RETURN(Statement * upd, db_.cached(
        "UPDATE keyring SET reserved = reserved + ? WHERE key_id = ? AND reserved = ?"));
    upd->bind(1, granted).bind(2, std::int64_t{active.key_id}).bind(3, reserved);
    LOCKBOX_TRY(upd->run());
    if (db_.changes() != 1) return runtime_error("the keyring changed during a write; retry");
    nonce_block_ = {active.key_id, granted};
    if (options_.nonce_block == 0) next_block_size_ = std::min(next_block_size_ * 2, kLargestBlock);
  }
  --nonce_block_.remaining;
  // The exact count of committed encryptions, for `keys status`.
  LOCKBOX_ASSIGN_OR_RETURN(Statement * count, db_.cached(
      "UPDATE keyring SET encryptions = encryptions + 1 WHERE key_id = ?"));
  count->bind(1, std::int64_t{active.key_id});
  LOCKBOX_TRY(count->run());
  return active.key_id;
}

// ---- rotation ----

Result<RotateResult> SqliteStore::rotate_in_tx(std::optional<std::uint32_t> expected_active,
                                               const std::string& reason) {
  // A rewrap by another process since this one opened the store would leave the new key
  // wrapped under a retired KEK: refuse instead.
  LOCKBOX_ASSIGN_OR_RETURN(const std::uint32_t generation, current_generation(db_));
  if (generation != kek_generation_) {
    return key_error(fmt::format("the master key was rotated to generation {} while lockbox ran; "
                                 "retry with the new key", generation));
  }
  LOCKBOX_ASSIGN_OR_RETURN(const ActiveKey active, active_data_key(db_));
  if (expected_active && *expected_active != active.key_id) {
    return RotateResult{false, *expected_active, active.key_id};  // another rotator won
  }
  LOCKBOX_ASSIGN_OR_RETURN(Statement * demote, db_.cached(
      "UPDATE keyring SET state = 'decrypt_only', row_rev = row_rev + 1 WHERE key_id = ?"));
  demote->bind(1, std::int64_t{active.key_id});
  LOCKBOX_TRY(demote->run());
  fault::point("rotate.after-demote");
  LOCKBOX_ASSIGN_OR_RETURN(const std::uint32_t fresh,
                           insert_wrapped_key(db_, kek_, kek_generation_, "data", store_id_,
                                              clock_of(options_).now(), random_of(options_),
                                              options_.nonce_budget));
  fault::point("rotate.after-insert");
  LOCKBOX_TRY(append_audit_in_tx({"key.rotate", fmt::format("keyring:data/{}", fresh), "ok",
                                  fmt::format("data key {} -> {} ({})", active.key_id, fresh, reason)}));
  nonce_block_ = {};
  return RotateResult{true, active.key_id, fresh};
}

Result<RotateResult> SqliteStore::rotate_data_key(std::optional<std::uint32_t> expected_active,
                                                  const std::string& reason) {
  LOCKBOX_ASSIGN_OR_RETURN(auto tx, Transaction::begin(db_));
  LOCKBOX_ASSIGN_OR_RETURN(const RotateResult result, rotate_in_tx(expected_active, reason));
  if (!result.rotated) return result;
  fault::point("rotate.before-commit");
  LOCKBOX_TRY(tx->commit());
  fault::point("rotate.after-commit");
  return result;
}

// ---- status ----

Result<KeyStatus> SqliteStore::key_status() {
  KeyStatus status;
  // One read transaction: a consistent picture while writers carry on.
  LOCKBOX_TRY(db_.exec("BEGIN"));
  Status read = [&]() -> Status {
    LOCKBOX_ASSIGN_OR_RETURN(status.master_key_generation, current_generation(db_));
    std::map<std::uint32_t, std::int64_t> counts;
    {
      LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare(
          "SELECT key_id, count(*) FROM versions WHERE key_id IS NOT NULL GROUP BY key_id"));
      while (true) {
        LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
        if (!row) break;
        counts[static_cast<std::uint32_t>(st.int64(0))] = st.int64(1);
      }
    }
    LOCKBOX_ASSIGN_OR_RETURN(auto keys, db_.prepare(
        "SELECT key_id, state, created_at, encryptions, max_encryptions FROM keyring "
        "WHERE purpose = 'data' ORDER BY key_id"));
    while (true) {
      LOCKBOX_ASSIGN_OR_RETURN(const bool row, keys.step());
      if (!row) break;
      DataKeyStatus k;
      k.version = static_cast<std::uint32_t>(keys.int64(0));
      k.state = keys.text(1);
      k.created_at = keys.int64(2);
      k.encryptions = keys.int64(3);
      k.max_encryptions = keys.int64(4);
      k.versions_encrypted = counts.count(k.version) ? counts[k.version] : 0;
      if (k.state == "active") {
        status.active_version = k.version;
        status.active_created_at = k.created_at;
      }
      status.keys.push_back(std::move(k));
    }
    LOCKBOX_ASSIGN_OR_RETURN(auto q, db_.prepare(
        "SELECT s.scope, s.name, q.version, q.key_id, q.reason, q.detected_at FROM quarantine q "
        "JOIN secrets s ON s.id = q.secret_id ORDER BY s.scope, s.name, q.version"));
    while (true) {
      LOCKBOX_ASSIGN_OR_RETURN(const bool row, q.step());
      if (!row) break;
      QuarantinedVersion v;
      LOCKBOX_ASSIGN_OR_RETURN(v.address.scope, Scope::parse(q.text(0)));
      v.address.name = q.text(1);
      v.version = q.int64(2);
      v.key_id = static_cast<std::uint32_t>(q.is_null(3) ? 0 : q.int64(3));
      v.reason = q.text(4);
      v.detected_at = q.int64(5);
      status.quarantined.push_back(std::move(v));
    }
    return Status::ok();
  }();
  (void)db_.exec("COMMIT");
  LOCKBOX_TRY(read);
  if (status.active_version == 0) return integrity_error("keyring is damaged: no active data key");
  return status;
}

// ---- master-key rewrap ----

Status SqliteStore::check_new_master_key(const SecureKey& key) {
  // Refuse a key this store has used before: the current one (a no-op that would retire the key
  // in use) or a retired one (its holders would regain access). Equal KCVs mean equal keys.
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT generation, kcv, state FROM master_keys"));
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return Status::ok();
    const auto gen = static_cast<std::uint32_t>(st.int64(0));
    LOCKBOX_ASSIGN_OR_RETURN(const Bytes kcv, derive_kcv(key, store_id_, gen));
    if (!constant_time_equal(kcv, st.blob(1))) continue;
    return bad_input(st.text(2) == "current"
                         ? "the new master key is the current one; generate a new key (nothing changed)"
                         : fmt::format("the new master key is the retired generation {}; generate a "
                                       "new key (nothing changed)", gen));
  }
}

Result<std::size_t> SqliteStore::rewrap_keyring(const SecureKey& next_kek, std::uint32_t next) {
  struct Wrapped {
    std::uint32_t key_id;
    std::string purpose;
    std::int64_t generation;
    Bytes wrapped;
  };
  std::vector<Wrapped> rows;
  {
    LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare(
        "SELECT key_id, purpose, kek_generation, wrapped FROM keyring WHERE wrapped IS NOT NULL"));
    while (true) {
      LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
      if (!row) break;
      rows.push_back({static_cast<std::uint32_t>(st.int64(0)), st.text(1), st.int64(2),
                      Bytes(st.blob(3).begin(), st.blob(3).end())});
    }
  }
  for (const Wrapped& w : rows) {
    auto key = open_wrapped_key(kek_, kek_generation_, w.purpose, w.key_id, store_id_, w.wrapped);
    if (w.generation != kek_generation_ || !key.is_ok()) {
      return integrity_error(fmt::format("keyring is damaged: {} key {} fails authentication; "
                                         "nothing changed", w.purpose, w.key_id));
    }
    LOCKBOX_ASSIGN_OR_RETURN(const Bytes rewrapped, wrap_key(next_kek, next, w.purpose, w.key_id,
                                                             store_id_, *key, random_of(options_)));
    LOCKBOX_ASSIGN_OR_RETURN(auto upd, db_.prepare(
        "UPDATE keyring SET wrapped = ?, kek_generation = ?, row_rev = row_rev + 1 WHERE key_id = ?"));
    upd.bind_blob(1, rewrapped).bind(2, std::int64_t{next}).bind(3, std::int64_t{w.key_id});
    LOCKBOX_TRY(upd.run());
    fault::point("rewrap.after-key");
  }
  return rows.size();
}

Result<std::uint32_t> SqliteStore::rewrap(MasterKey new_key) {
  if (new_key.kind != MasterKeyKind::kKey) return bad_input("the new master key must be a key, not a passphrase");
  LOCKBOX_ASSIGN_OR_RETURN(auto tx, Transaction::begin(db_));
  {
    LOCKBOX_ASSIGN_OR_RETURN(auto kind, db_.prepare("SELECT value FROM meta WHERE key = 'key_kind'"));
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, kind.step());
    if (row && kind.text(0) == "passphrase") {
      return bad_input("this store is opened with a master passphrase; rewrap to a key file is not "
                       "supported (nothing changed)");
    }
  }
  LOCKBOX_ASSIGN_OR_RETURN(const std::uint32_t current, current_generation(db_));
  if (current != kek_generation_) {
    return key_error(fmt::format("the master key was rotated to generation {} while lockbox ran; "
                                 "nothing changed", current));
  }
  LOCKBOX_TRY(check_new_master_key(new_key.key));
  const std::uint32_t next = current + 1;
  {
    LOCKBOX_ASSIGN_OR_RETURN(auto retire, db_.prepare(
        "UPDATE master_keys SET state = 'retired' WHERE generation = ?"));
    retire.bind(1, std::int64_t{current});
    LOCKBOX_TRY(retire.run());
  }
  fault::point("rewrap.after-retire");
  LOCKBOX_ASSIGN_OR_RETURN(const Bytes kcv, derive_kcv(new_key.key, store_id_, next));
  {
    LOCKBOX_ASSIGN_OR_RETURN(auto ins, db_.prepare(
        "INSERT INTO master_keys(generation, kcv, state, created_at) VALUES (?, ?, 'current', ?)"));
    ins.bind(1, std::int64_t{next}).bind_blob(2, kcv).bind(3, clock_of(options_).now());
    LOCKBOX_TRY(ins.run());
  }
  LOCKBOX_ASSIGN_OR_RETURN(SecureKey next_kek, derive_kek(new_key.key, store_id_, next));
  LOCKBOX_ASSIGN_OR_RETURN(const std::size_t rewrapped, rewrap_keyring(next_kek, next));
  LOCKBOX_TRY(append_audit_in_tx({"key.rewrap", fmt::format("keyring:master/{}", next), "ok",
                                  fmt::format("master key generation {} -> {}; {} keys rewrapped", current,
                                              next, rewrapped)}));
  fault::point("rewrap.before-commit");
  LOCKBOX_TRY(tx->commit());
  fault::point("rewrap.after-commit");
  kek_ = std::move(next_kek);
  kek_generation_ = next;
  return next;
}

}  // namespace lockbox::store::sqlite
