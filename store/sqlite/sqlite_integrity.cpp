// SqliteBackend: what row authentication needs from SQLite (SPEC §17): the schema's objects, the
// change counter with its MAC, scope rows, and MACs for rows that predate authentication.
#include <fmt/format.h>

#include <array>
#include <string_view>

#include "store/internal/schema_rules.hpp"
#include "store/sqlite/sqlite_backend.hpp"

namespace lockbox::store::sqlite {
namespace {

// Every table and named index any schema version creates (schema.cpp), and SQLite's own tables.
constexpr std::array<std::string_view, 12> kTables = {
    "meta",   "master_keys", "keyring",         "secrets",      "versions",     "quarantine",
    "audit",  "tokens",      "scopes",          "sqlite_sequence", "sqlite_stat1", "sqlite_stat4"};
constexpr std::array<std::string_view, 4> kIndexes = {"master_keys_one_current", "keyring_one_active",
                                                      "versions_by_key", "tokens_live_name"};

bool known(std::string_view type, std::string_view name, std::string_view table) {
  const auto in = [](const auto& list, std::string_view n) {
    for (std::string_view k : list) {
      if (k == n) return true;
    }
    return false;
  };
  if (type == "table") return name == table && in(kTables, name);
  if (type != "index" || !in(kTables, table)) return false;
  // The implicit indexes of PRIMARY KEY and UNIQUE constraints: sqlite_autoindex_<table>_<n>.
  const std::string prefix = fmt::format("sqlite_autoindex_{}_", table);
  return in(kIndexes, name) || (name.starts_with(prefix) && name.size() > prefix.size());
}

Result<ScopeRow> read_scope(const Statement& st) {
  return ScopeRow{st.text(0),
                  st.int64(1),
                  Bytes(st.blob(2).begin(), st.blob(2).end()),
                  st.text(3),
                  st.int64(4),
                  Bytes(st.blob(5).begin(), st.blob(5).end())};
}

#define LOCKBOX_SCOPE_COLUMNS "SELECT scope, members, digest, next, change_counter, row_mac FROM scopes "

}  // namespace

// The schema version that created each of lockbox's own tables (kTables' first nine).
constexpr std::array<int, 9> kSinceVersion = {1, 1, 1, 1, 1, 1, 1, 2, 3};

// A table lockbox created that is gone (dropped outside lockbox): exit 5, not a bare SQL error.
Status missing_table(const std::array<bool, 9>& seen, int version) {
  for (std::size_t i = 0; i < seen.size(); ++i) {
    if (!seen[i] && version >= kSinceVersion[i]) {
      return integrity_error(fmt::format("the store's table {} is missing: the database was tampered with; "
                                         "restore a backup",
                                         kTables[i]));
    }
  }
  return Status::ok();
}

Status SqliteBackend::verify_schema_objects() {
  LOCKBOX_ASSIGN_OR_RETURN(const int version, schema_version());
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT type, name, tbl_name FROM sqlite_schema"));
  std::array<bool, 9> seen{};
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return missing_table(seen, version);
    const std::string type = st.text(0);
    const std::string name = st.text(1);
    for (std::size_t i = 0; i < seen.size(); ++i) seen[i] = seen[i] || (type == "table" && name == kTables[i]);
    if (!known(type, name, st.text(2))) {
      return unknown_schema_object_error(type, name);
    }
  }
}

Status SqliteBackend::set_change_counter(std::int64_t value, ByteView mac) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow(
      "INSERT OR REPLACE INTO meta(key, value) VALUES ('change_counter', ?), ('change_counter_mac', ?)"));
  st->bind(1, value).bind_blob(2, mac);
  return st->run();
}

Result<CounterRow> SqliteBackend::change_counter() {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow(
      "SELECT key, value FROM meta WHERE key IN ('change_counter', 'change_counter_mac')"));
  CounterRow out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
    if (!row) return out;
    if (st->text(0) == "change_counter") {
      out.value = st->int64(1);
    } else {
      out.mac = Bytes(st->blob(1).begin(), st->blob(1).end());
    }
  }
}

Status SqliteBackend::set_secret_mac(std::int64_t secret_id, ByteView row_mac) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE secrets SET row_mac = ? WHERE id = ?"));
  st.bind_blob(1, row_mac).bind(2, secret_id);
  return st.run();
}

Status SqliteBackend::set_version_mac(std::int64_t secret_id, std::int64_t version, ByteView row_mac) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow("UPDATE versions SET row_mac = ? WHERE secret_id = ? AND version = ?"));
  st->bind_blob(1, row_mac).bind(2, secret_id).bind(3, version);
  return st->run();
}

Result<std::optional<ScopeRow>> SqliteBackend::scope_at_or_before(std::string_view scope) {
  // Text compares with BINARY collation: byte order, the order the chain is kept in.
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow(LOCKBOX_SCOPE_COLUMNS
                                               "WHERE scope <= ? ORDER BY scope DESC LIMIT 1"));
  st->bind(1, scope);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<ScopeRow>();
  LOCKBOX_ASSIGN_OR_RETURN(ScopeRow r, read_scope(*st));
  return std::optional<ScopeRow>(std::move(r));
}

Result<std::vector<ScopeRow>> SqliteBackend::scopes() {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare(LOCKBOX_SCOPE_COLUMNS "ORDER BY scope"));
  std::vector<ScopeRow> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return out;
    LOCKBOX_ASSIGN_OR_RETURN(ScopeRow r, read_scope(st));
    out.push_back(std::move(r));
  }
}

Status SqliteBackend::put_scope(const ScopeRow& row) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow(
      "INSERT OR REPLACE INTO scopes(scope, members, digest, next, change_counter, row_mac) "
      "VALUES (?, ?, ?, ?, ?, ?)"));
  st->bind(1, row.scope).bind(2, row.members).bind_blob(3, row.digest).bind(4, row.next)
      .bind(5, row.change_counter).bind_blob(6, row.row_mac);
  return st->run();
}

}  // namespace lockbox::store::sqlite
