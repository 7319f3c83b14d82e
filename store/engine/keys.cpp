// Engine: the key lifecycle of CRYPTO.md "Rotation": data-key rotation, master-key rewrap,
// key status, and the nonce budget with reservations (re-encryption: sqlite_reencrypt.cpp).
//
// Crash safety comes from the transactions: rotate and rewrap are one kWrite
// transaction each. The fault points (core/fault.hpp) let tests kill the process at each step.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "core/fault.hpp"
#include "store/engine/engine.hpp"
#include "store/engine/options.hpp"
#include "store/envelope.hpp"
#include "store/key_schedule.hpp"

namespace lockbox::store {
namespace {

constexpr std::int64_t kLargestBlock = 4096;  // adaptive nonce blocks: 16, 32, ... 4096

}  // namespace

Result<KeyRow> Engine::active_data_key() {
  LOCKBOX_ASSIGN_OR_RETURN(auto key, rows_->active_key("data"));
  if (!key) return integrity_error("keyring is damaged: no active data key");
  return *std::move(key);
}

Result<std::uint32_t> Engine::current_generation() {
  LOCKBOX_ASSIGN_OR_RETURN(const auto generations, rows_->master_keys());
  for (const MasterKeyRow& g : generations) {
    if (g.state == "current" && g.generation != 0) return g.generation;
  }
  return integrity_error("store metadata is damaged (no current master key)");
}

// ---- nonce budget ----

Result<std::uint32_t> Engine::reserve_encryption(bool rotated_for_budget) {
  LOCKBOX_ASSIGN_OR_RETURN(const KeyRow active, active_data_key());
  if (nonce_block_.key_id != active.key_id || nonce_block_.remaining == 0) {
    // Reserve a block of encryptions from the key's budget in this transaction. A crash (or
    // this process ending with part of the block unused) only over-counts; a rollback drops
    // the block (the rollback hook), since the store never recorded it.
    const std::int64_t wanted = options_.nonce_block > 0 ? options_.nonce_block : next_block_size_;
    const std::int64_t reserved = active.reserved;
    const std::int64_t budget = active.max_encryptions;
    if (reserved >= budget) {
      // Exhausted: rotate automatically (CRYPTO.md), then reserve from the new key. A new key
      // that is exhausted too (a damaged keyring row) is an error, not another rotation.
      if (rotated_for_budget) {
        return integrity_error(
            fmt::format("keyring is damaged: new data key {} has no nonce budget", active.key_id));
      }
      LOCKBOX_TRY(rotate_in_tx(
          active.key_id, fmt::format("nonce budget of data key {} exhausted", active.key_id)));
      return reserve_encryption(true);
    }
    const std::int64_t granted = std::min(wanted, budget - reserved);
    LOCKBOX_ASSIGN_OR_RETURN(const bool reserved_now,
                             rows_->reserve_encryptions(active.key_id, reserved, granted));
    if (!reserved_now) return runtime_error("the keyring changed during a write; retry");
    nonce_block_ = {active.key_id, granted};
    if (options_.nonce_block == 0) next_block_size_ = std::min(next_block_size_ * 2, kLargestBlock);
  }
  --nonce_block_.remaining;
  // The exact count of committed encryptions, for `keys status` (written at commit).
  ++pending_encryptions_[active.key_id];
  return active.key_id;
}

// ---- rotation ----

Result<RotateResult> Engine::rotate_in_tx(std::optional<std::uint32_t> expected_active,
                                          const std::string& reason) {
  // A rewrap by another process since this one opened the store would leave the new key
  // wrapped under a retired KEK: refuse instead.
  LOCKBOX_ASSIGN_OR_RETURN(const std::uint32_t generation, current_generation());
  if (generation != kek_generation_) {
    return key_error(
        fmt::format("the master key was rotated to generation {} while lockbox ran; "
                    "retry with the new key",
                    generation));
  }
  LOCKBOX_ASSIGN_OR_RETURN(const KeyRow active, active_data_key());
  if (expected_active && *expected_active != active.key_id) {
    return RotateResult{false, *expected_active, active.key_id};  // another rotator won
  }
  LOCKBOX_TRY(rows_->set_key_state(active.key_id, "decrypt_only"));
  fault::point("rotate.after-demote");
  LOCKBOX_ASSIGN_OR_RETURN(const std::uint32_t fresh,
                           insert_wrapped_key("data", clock_of(options_).now()));
  fault::point("rotate.after-insert");
  LOCKBOX_TRY(
      append_audit_in_tx({"key.rotate", fmt::format("keyring:data/{}", fresh), "ok",
                          fmt::format("data key {} -> {} ({})", active.key_id, fresh, reason)}));
  nonce_block_ = {};
  return RotateResult{true, active.key_id, fresh};
}

Result<RotateResult> Engine::rotate_data_key(std::optional<std::uint32_t> expected_active,
                                             const std::string& reason) {
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(const RotateResult result, rotate_in_tx(expected_active, reason));
  if (!result.rotated) return result;
  fault::point("rotate.before-commit");
  LOCKBOX_TRY(tx.commit());
  fault::point("rotate.after-commit");
  return result;
}

// ---- status ----

Result<KeyStatus> Engine::key_status() {
  KeyStatus status;
  // One read transaction: a consistent picture while writers carry on.
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kRead));
  LOCKBOX_ASSIGN_OR_RETURN(status.master_key_generation, current_generation());
  LOCKBOX_ASSIGN_OR_RETURN(auto counts, rows_->versions_per_key());
  LOCKBOX_ASSIGN_OR_RETURN(const auto keys, rows_->keys("data"));
  for (const KeyRow& row : keys) {
    DataKeyStatus k;
    k.version = row.key_id;
    k.state = row.state;
    k.created_at = row.created_at;
    k.encryptions = row.encryptions;
    k.max_encryptions = row.max_encryptions;
    k.versions_encrypted = counts.count(k.version) ? counts[k.version] : 0;
    if (k.state == "active") {
      status.active_version = k.version;
      status.active_created_at = k.created_at;
    }
    status.keys.push_back(std::move(k));
  }
  LOCKBOX_ASSIGN_OR_RETURN(const auto quarantined, rows_->quarantined());
  for (const Backend::QuarantineEntry& e : quarantined) {
    if (!e.current) continue;  // its secret was purged: recheck_quarantine() releases it
    QuarantinedVersion v;
    LOCKBOX_ASSIGN_OR_RETURN(v.address.scope, Scope::parse(e.current->secret.scope));
    v.address.name = e.current->secret.name;
    v.version = e.row.version;
    v.key_id = e.row.key_id;
    v.reason = e.row.reason;
    v.detected_at = e.row.detected_at;
    status.quarantined.push_back(std::move(v));
  }
  if (status.active_version == 0) return integrity_error("keyring is damaged: no active data key");
  return status;
}

// ---- master-key rewrap ----

Status Engine::check_new_master_key(const SecureKey& key) {
  // Refuse a key this store has used before: the current one (a no-op that would retire the key
  // in use) or a retired one (its holders would regain access). Equal KCVs mean equal keys.
  LOCKBOX_ASSIGN_OR_RETURN(const auto generations, rows_->master_keys());
  for (const MasterKeyRow& g : generations) {
    LOCKBOX_ASSIGN_OR_RETURN(const Bytes kcv, derive_kcv(key, store_id_, g.generation));
    if (!constant_time_equal(kcv, g.kcv)) continue;
    return bad_input(
        g.state == "current"
            ? "the new master key is the current one; generate a new key (nothing changed)"
            : fmt::format("the new master key is the retired generation {}; generate a "
                          "new key (nothing changed)",
                          g.generation));
  }
  return Status::ok();
}

Result<std::size_t> Engine::rewrap_keyring(const SecureKey& next_kek, std::uint32_t next) {
  LOCKBOX_ASSIGN_OR_RETURN(const auto all, rows_->keys(""));
  std::size_t count = 0;
  for (const KeyRow& w : all) {
    if (!w.wrapped) continue;  // a destroyed key keeps its row, without key material
    auto key = open_wrapped_key(kek_, kek_generation_, w.purpose, w.key_id, store_id_, *w.wrapped);
    if (w.kek_generation != kek_generation_ || !key.is_ok()) {
      return integrity_error(
          fmt::format("keyring is damaged: {} key {} fails authentication; "
                      "nothing changed",
                      w.purpose, w.key_id));
    }
    LOCKBOX_ASSIGN_OR_RETURN(const Bytes rewrapped, wrap_key(next_kek, next, w.purpose, w.key_id,
                                                             store_id_, *key, random_of(options_)));
    LOCKBOX_TRY(rows_->set_key_wrapping(w.key_id, next, rewrapped));
    ++count;
    fault::point("rewrap.after-key");
  }
  return count;
}

Result<std::uint32_t> Engine::rewrap(MasterKey new_key) {
  if (new_key.kind != MasterKeyKind::kKey)
    return bad_input("the new master key must be a key, not a passphrase");
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  {
    LOCKBOX_ASSIGN_OR_RETURN(const MetaRow meta, rows_->read_meta());
    if (meta.key_kind == "passphrase") {
      return bad_input(
          "this store is opened with a master passphrase; rewrap to a key file is not "
          "supported (nothing changed)");
    }
  }
  LOCKBOX_ASSIGN_OR_RETURN(const std::uint32_t current, current_generation());
  if (current != kek_generation_) {
    return key_error(
        fmt::format("the master key was rotated to generation {} while lockbox ran; "
                    "nothing changed",
                    current));
  }
  LOCKBOX_TRY(check_new_master_key(new_key.key));
  const std::uint32_t next = current + 1;
  LOCKBOX_TRY(rows_->set_master_key_state(current, "retired"));
  fault::point("rewrap.after-retire");
  LOCKBOX_ASSIGN_OR_RETURN(const Bytes kcv, derive_kcv(new_key.key, store_id_, next));
  LOCKBOX_TRY(rows_->insert_master_key({next, kcv, "current", clock_of(options_).now()}));
  LOCKBOX_ASSIGN_OR_RETURN(SecureKey next_kek, derive_kek(new_key.key, store_id_, next));
  LOCKBOX_ASSIGN_OR_RETURN(const std::size_t rewrapped, rewrap_keyring(next_kek, next));
  LOCKBOX_TRY(append_audit_in_tx({"key.rewrap", fmt::format("keyring:master/{}", next), "ok",
                                  fmt::format("master key generation {} -> {}; {} keys rewrapped",
                                              current, next, rewrapped)}));
  fault::point("rewrap.before-commit");
  LOCKBOX_TRY(tx.commit());
  fault::point("rewrap.after-commit");
  kek_ = std::move(next_kek);
  kek_generation_ = next;
  return next;
}

}  // namespace lockbox::store
