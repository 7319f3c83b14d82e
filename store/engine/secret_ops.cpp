// Engine: the secret-level write operations (set, delete, purge, rollback, import, export).
// Each runs in one kWrite transaction with its audit records.
#include <fmt/format.h>

#include <unordered_map>

#include "core/log.hpp"
#include "store/engine/engine.hpp"
#include "store/engine/options.hpp"
#include "store/key_schedule.hpp"
#include "store/validation.hpp"

namespace lockbox::store {
namespace {
constexpr std::size_t kLargeWriteRows = 1000;
// The detail of one import/export record lists the secrets it touched up to this size, then
// counts the rest: a 100,000-line import must not make a multi-megabyte audit record.
constexpr std::size_t kMaxDetailBytes = 8192;

// Appends `item` to a comma-separated list unless the list is full; counts what was left out.
void append_bounded(std::string& list, std::size_t& left_out, const std::string& item) {
  if (list.size() + item.size() + 2 > kMaxDetailBytes) {
    ++left_out;
    return;
  }
  if (!list.empty()) list += ", ";
  list += item;
}

std::string bounded_list(const std::string& list, std::size_t left_out) {
  if (left_out == 0) return list;
  return fmt::format("{}, and {} more", list, left_out);
}

std::string describe_filter(const ListFilter& filter) {
  std::string out = filter.scope ? filter.scope->address() : "*";
  if (filter.kind) out += fmt::format(" kind={}", to_string(*filter.kind));
  if (filter.ns) out += " namespace=" + *filter.ns;
  if (filter.tag) out += " tag=" + *filter.tag;
  return out;
}

// The reminder a new version carries: the previous one unless the request changes it (0 clears).
Status apply_rotation(const SetRequest& request, std::optional<std::int64_t>& rotate_every,
                      std::optional<std::int64_t>& notify_before) {
  if (request.rotate_every_ms) {
    if (*request.rotate_every_ms < 0) return bad_input("the rotation period must not be negative");
    rotate_every = *request.rotate_every_ms == 0 ? std::nullopt : request.rotate_every_ms;
    if (!rotate_every) notify_before.reset();
  }
  if (request.notify_before_ms) {
    if (*request.notify_before_ms < 0) return bad_input("the rotation notice must not be negative");
    notify_before = *request.notify_before_ms == 0 ? std::nullopt : request.notify_before_ms;
  }
  if (notify_before && !rotate_every) return bad_input("a rotation notice needs a rotation period");
  if (notify_before && *notify_before >= *rotate_every) {
    return bad_input("the rotation notice must be shorter than the rotation period");
  }
  return Status::ok();
}

std::string bulk_note(std::size_t size) {
  return fmt::format(" (bulk {})", size);
}

// "secrets[I]: message", keeping the code (a version conflict stays a conflict).
Status item_error(std::size_t index, const Status& status) {
  return status.with_context(fmt::format("secrets[{}]", index));
}
}  // namespace

Result<WriteResult> Engine::set_in_tx(SetRequest& request, std::int64_t counter,
                                      const std::string& note) {
  const SecretAddress& address = request.address;
  LOCKBOX_ASSIGN_OR_RETURN(auto row, rows_->find_secret(address.scope.address(), address.name));
  if (row) LOCKBOX_TRY(check_head(address, *row));
  const std::int64_t current = row ? row->head_version : 0;
  if (request.expected_version && *request.expected_version != current) {
    return bad_input(fmt::format("version conflict: {} is at v{}, expected v{}",
                                 address.reference(), current, *request.expected_version));
  }
  NewVersion nv{&request.value, {}, {}, {}, request.expires_at};
  bool existed = false;
  if (row) {
    // Unset fields carry over from the previous version (expiry does not: it is per version).
    LOCKBOX_ASSIGN_OR_RETURN(const SecretMeta prev, read_version(address, *row, row->head_version));
    existed = !prev.tombstone;
    nv.description = prev.description;
    nv.tags = prev.tags;
    nv.metadata = prev.metadata;
    nv.rotate_every = prev.rotate_every_ms;
    nv.notify_before = prev.notify_before_ms;
  }
  if (request.description) nv.description = *request.description;
  if (request.tags) nv.tags = *request.tags;
  if (request.metadata) nv.metadata = *request.metadata;
  LOCKBOX_TRY(apply_rotation(request, nv.rotate_every, nv.notify_before));
  LOCKBOX_ASSIGN_OR_RETURN(SecretMeta meta, write_version(address, std::move(row), nv, counter));
  LOCKBOX_TRY(append_audit_in_tx(
      {"secret.set", address.reference(), "ok",
       fmt::format("v{} {}{}", meta.version, existed ? "updated" : "created", note)}));
  return WriteResult{std::move(meta), existed ? WriteOutcome::kUpdated : WriteOutcome::kCreated};
}

Result<WriteResult> Engine::set(SetRequest request) {
  LOCKBOX_TRY(validate_set_request(request, options_.limits));
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t counter, next_change_counter());
  LOCKBOX_ASSIGN_OR_RETURN(WriteResult written, set_in_tx(request, counter, ""));
  LOCKBOX_TRY(store_change_counter(counter));
  LOCKBOX_TRY(tx.commit());
  return written;
}

Result<SecretMeta> Engine::remove_in_tx(const SecretAddress& address, std::int64_t counter,
                                        const std::string& note) {
  LOCKBOX_ASSIGN_OR_RETURN(auto row, rows_->find_secret(address.scope.address(), address.name));
  if (!row) return not_found("no secret " + address.reference());
  LOCKBOX_TRY(check_head(address, *row));
  LOCKBOX_ASSIGN_OR_RETURN(const SecretMeta prev, read_version(address, *row, row->head_version));
  if (prev.tombstone) {
    return not_found(
        fmt::format("{} was already deleted at v{}", address.reference(), prev.version));
  }
  const NewVersion tombstone{nullptr,
                             prev.description,
                             prev.tags,
                             prev.metadata,
                             std::nullopt,
                             prev.rotate_every_ms,
                             prev.notify_before_ms};
  LOCKBOX_ASSIGN_OR_RETURN(SecretMeta meta,
                           write_version(address, std::move(row), tombstone, counter));
  LOCKBOX_TRY(append_audit_in_tx({"secret.delete", address.reference(), "ok",
                                  fmt::format("v{} tombstone{}", meta.version, note)}));
  return meta;
}

Result<SecretMeta> Engine::remove(const SecretAddress& address) {
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t counter, next_change_counter());
  LOCKBOX_ASSIGN_OR_RETURN(SecretMeta meta, remove_in_tx(address, counter, ""));
  LOCKBOX_TRY(store_change_counter(counter));
  LOCKBOX_TRY(tx.commit());
  return meta;
}

Result<std::vector<WriteResult>> Engine::set_many(std::vector<SetRequest> requests) {
  // Everything that needs no store is checked first, so a bad item costs no transaction.
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < requests.size(); ++i) {
    if (Status st = validate_set_request(requests[i], options_.limits); !st.is_ok())
      return item_error(i, st);
    const auto [it, fresh] = seen.emplace(requests[i].address.reference(), i);
    if (!fresh) {
      return bad_input(fmt::format("secrets[{}]: {} is also secrets[{}]", i,
                                   requests[i].address.reference(), it->second));
    }
  }
  std::vector<WriteResult> out;
  if (requests.empty()) return out;
  out.reserve(requests.size());
  const std::string note = bulk_note(requests.size());
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t counter, next_change_counter());
  for (std::size_t i = 0; i < requests.size(); ++i) {
    auto written = set_in_tx(requests[i], counter, note);
    if (!written.is_ok()) return item_error(i, written.status());
    out.push_back(std::move(written).value());
  }
  LOCKBOX_TRY(store_change_counter(counter));
  LOCKBOX_TRY(tx.commit());
  if (out.size() > kLargeWriteRows / 2) (void)rows_->compact();
  return out;
}

Result<std::vector<SecretMeta>> Engine::remove_many(const std::vector<SecretAddress>& addresses) {
  std::unordered_map<std::string, std::size_t> seen;
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    if (Status st = validate_name(addresses[i].name, "secret name"); !st.is_ok())
      return item_error(i, st);
    const auto [it, fresh] = seen.emplace(addresses[i].reference(), i);
    if (!fresh) {
      return bad_input(fmt::format("secrets[{}]: {} is also secrets[{}]", i,
                                   addresses[i].reference(), it->second));
    }
  }
  std::vector<SecretMeta> out;
  if (addresses.empty()) return out;
  out.reserve(addresses.size());
  const std::string note = bulk_note(addresses.size());
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t counter, next_change_counter());
  for (std::size_t i = 0; i < addresses.size(); ++i) {
    auto removed = remove_in_tx(addresses[i], counter, note);
    if (!removed.is_ok()) return item_error(i, removed.status());
    out.push_back(std::move(removed).value());
  }
  LOCKBOX_TRY(store_change_counter(counter));
  LOCKBOX_TRY(tx.commit());
  return out;
}

Status Engine::purge(const SecretAddress& address) {
  {
    LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
    LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t counter, next_change_counter());
    LOCKBOX_ASSIGN_OR_RETURN(auto row, rows_->find_secret(address.scope.address(), address.name));
    if (!row) return not_found("no secret " + address.reference());
    // A secret whose head does not verify cannot leave its scope's digest correctly: restore it.
    LOCKBOX_TRY(check_head(address, *row));
    LOCKBOX_TRY(update_scope(row->scope, &*row, nullptr, counter));
    LOCKBOX_TRY(rows_->delete_secret(row->id));
    LOCKBOX_TRY(store_change_counter(counter));
    LOCKBOX_TRY(append_audit_in_tx({"secret.purge", address.reference(), "ok",
                                    fmt::format("{} versions destroyed", row->head_version)}));
    LOCKBOX_TRY(tx.commit());
  }
  // Give the freed pages back (SQLite: fold the zeroed pages into the file and truncate the WAL,
  // so the old ciphertext frames do not linger). Readers in other processes can delay this; the
  // backend retries later by itself, so a failure here is only a warning.
  if (!rows_->compact().is_ok()) {
    log::warn("purge of {} committed, but the WAL could not be truncated now", address.reference());
  }
  return Status::ok();
}

Result<SecretMeta> Engine::rollback(const SecretAddress& address, std::int64_t version) {
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t counter, next_change_counter());
  LOCKBOX_ASSIGN_OR_RETURN(auto row, rows_->find_secret(address.scope.address(), address.name));
  if (!row) return not_found("no secret " + address.reference());
  LOCKBOX_TRY(check_head(address, *row));
  LOCKBOX_ASSIGN_OR_RETURN(const SecretMeta target, read_version(address, *row, version));
  if (target.tombstone) {
    return bad_input(fmt::format("cannot roll back {} to v{}: that version is a deletion",
                                 address.reference(), version));
  }
  LOCKBOX_ASSIGN_OR_RETURN(const SecretValue value, decrypt_version(address, *row, version));
  const NewVersion nv{&value,
                      target.description,
                      target.tags,
                      target.metadata,
                      target.expires_at,
                      target.rotate_every_ms,
                      target.notify_before_ms};
  LOCKBOX_ASSIGN_OR_RETURN(SecretMeta meta, write_version(address, std::move(row), nv, counter));
  LOCKBOX_TRY(store_change_counter(counter));
  LOCKBOX_TRY(append_audit_in_tx({"secret.rollback", address.reference(), "ok",
                                  fmt::format("v{} from v{}", meta.version, version)}));
  LOCKBOX_TRY(tx.commit());
  return meta;
}

Result<ImportSummary> Engine::import(const Scope& scope, std::vector<ImportEntry> entries) {
  // Validate everything before touching the store: all or nothing. A later duplicate wins.
  std::unordered_map<std::string, std::size_t> last_index;
  for (std::size_t i = 0; i < entries.size(); ++i) {
    LOCKBOX_TRY(validate_name(entries[i].name, "secret name"));
    LOCKBOX_TRY(validate_value(entries[i].value, options_.limits).with_context(entries[i].name));
    last_index[entries[i].name] = i;
  }
  ImportSummary summary;
  std::string written;
  std::size_t left_out = 0;
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t counter, next_change_counter());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const ImportEntry& entry = entries[i];
    if (last_index[entry.name] != i) continue;
    const SecretAddress address{scope, entry.name};
    LOCKBOX_ASSIGN_OR_RETURN(auto row, rows_->find_secret(address.scope.address(), address.name));
    NewVersion nv{&entry.value, {}, {}, {}, std::nullopt};
    bool existed = false;
    if (row) {
      LOCKBOX_TRY(check_head(address, *row));
      LOCKBOX_ASSIGN_OR_RETURN(const SecretMeta prev,
                               read_version(address, *row, row->head_version));
      existed = !prev.tombstone;
      if (existed && prev.fingerprint == fingerprint(fingerprint_key_, scope.address(), entry.name,
                                                     entry.value.reveal())) {
        ++summary.unchanged;
        continue;
      }
      nv.description = prev.description;
      nv.tags = prev.tags;
      nv.metadata = prev.metadata;
      nv.rotate_every = prev.rotate_every_ms;
      nv.notify_before = prev.notify_before_ms;
    }
    LOCKBOX_ASSIGN_OR_RETURN(const SecretMeta meta,
                             write_version(address, std::move(row), nv, counter));
    ++(existed ? summary.updated : summary.created);
    append_bounded(written, left_out, fmt::format("{}@v{}", entry.name, meta.version));
  }
  if (summary.created + summary.updated > 0) LOCKBOX_TRY(store_change_counter(counter));
  // One record for the import (SPEC §7: each action one record), naming what it wrote.
  LOCKBOX_TRY(append_audit_in_tx(
      {"secret.import", scope.address(), "ok",
       fmt::format("{} created, {} updated, {} unchanged{}{}", summary.created, summary.updated,
                   summary.unchanged, written.empty() ? "" : ": ",
                   bounded_list(written, left_out))}));
  LOCKBOX_TRY(tx.commit());
  // A large import leaves a WAL of tens of MB (SQLite), which every later process would replay on
  // open (lockbox processes are usually the store's only connection). Fold it in now.
  if (summary.created + summary.updated > kLargeWriteRows) (void)rows_->compact();
  return summary;
}

Result<std::vector<RevealedSecret>> Engine::export_values(const ListFilter& filter) {
  ListFilter live = filter;
  live.include_deleted = false;
  LOCKBOX_ASSIGN_OR_RETURN(auto heads, list(live));
  std::vector<RevealedSecret> out;
  out.reserve(heads.size());
  for (SecretMeta& meta : heads) {
    const SecretAddress address{meta.scope, meta.name};
    LOCKBOX_ASSIGN_OR_RETURN(SecretValue value, decrypt(address, meta.version));
    out.push_back({std::move(meta), std::move(value)});
  }
  // Fail closed: the record, naming every secret exported, is committed before any value leaves
  // the store. One record per export (SPEC §7: each action one record).
  std::string exported;
  std::size_t left_out = 0;
  for (const RevealedSecret& s : out) {
    append_bounded(exported, left_out,
                   fmt::format("{}@v{}", SecretAddress{s.meta.scope, s.meta.name}.reference(),
                               s.meta.version));
  }
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_TRY(
      append_audit_in_tx({"secret.export", describe_filter(filter), "ok",
                          fmt::format("{} secrets{}{}", out.size(), exported.empty() ? "" : ": ",
                                      bounded_list(exported, left_out))}));
  LOCKBOX_TRY(tx.commit());
  return out;
}

}  // namespace lockbox::store
