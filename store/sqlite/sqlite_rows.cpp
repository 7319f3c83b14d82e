// SqliteBackend: secret, version and quarantine rows. The launch path runs heads() once per scope
// and secret_version() once per injected secret, both from statements prepared once per
// connection and reset by their Borrowed guard on every path.
#include <fmt/format.h>

#include <algorithm>

#include "store/row_codec.hpp"
#include "store/sqlite/sqlite_backend.hpp"

namespace lockbox::store::sqlite {
namespace {

// Columns of a version row, in the order read_version_columns() reads them.
#define LOCKBOX_VERSION_COLUMNS                                                          \
  "v.version, v.tombstone, v.key_id, v.fingerprint, v.description, v.tags, v.metadata, " \
  "v.expires_at, v.created_at, v.actor, v.row_rev, v.row_mac, v.rotate_every, v.notify_before"
#define LOCKBOX_SECRET_COLUMNS \
  "s.id, s.scope, s.name, s.uid, s.head_version, s.created_at, s.row_mac"
constexpr int kVersionColumnCount = 14;
constexpr int kSecretColumnCount = 7;

std::optional<Bytes> optional_blob(const Statement& st, int c) {
  if (st.is_null(c)) return std::nullopt;
  return Bytes(st.blob(c).begin(), st.blob(c).end());
}

// A column that cannot be decoded marks the row damaged instead of failing the whole query, so
// one bad row never hides the others (SPEC §10).
VersionRow read_version_columns(const Statement& st, int c) {
  VersionRow v;
  v.version = st.int64(c);
  v.tombstone = st.int64(c + 1) != 0;
  v.key_id = static_cast<std::uint32_t>(st.is_null(c + 2) ? 0 : st.int64(c + 2));
  v.fingerprint = st.is_null(c + 3) ? std::string() : st.text(c + 3);
  v.description = st.text(c + 4);
  auto tags = decode_tags(st.blob(c + 5));
  auto metadata = decode_metadata(st.blob(c + 6));
  if (tags.is_ok()) v.tags = std::move(tags).value();
  if (metadata.is_ok()) v.metadata = std::move(metadata).value();
  if (!tags.is_ok()) v.damaged = tags.status().message();
  if (!metadata.is_ok()) v.damaged = metadata.status().message();
  v.expires_at = st.optional_int64(c + 7);
  v.created_at = st.int64(c + 8);
  v.actor = st.text(c + 9);
  v.row_rev = st.int64(c + 10);
  v.row_mac = optional_blob(st, c + 11);
  v.rotate_every = st.optional_int64(c + 12);
  v.notify_before = st.optional_int64(c + 13);
  return v;
}

SecretRow read_secret_columns(const Statement& st, int c) {
  return SecretRow{st.int64(c),
                   st.text(c + 1),
                   st.text(c + 2),
                   Bytes(st.blob(c + 3).begin(), st.blob(c + 3).end()),
                   st.int64(c + 4),
                   st.int64(c + 5),
                   optional_blob(st, c + 6)};
}

}  // namespace

Result<std::optional<SecretRow>> SqliteBackend::find_secret(std::string_view scope,
                                                            std::string_view name) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow("SELECT " LOCKBOX_SECRET_COLUMNS
                                               " FROM secrets s WHERE s.scope = ? AND s.name = ?"));
  st->bind(1, scope).bind(2, name);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<SecretRow>();
  return std::optional<SecretRow>(read_secret_columns(*st, 0));
}

Result<std::int64_t> SqliteBackend::insert_secret(const SecretRow& row) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow("INSERT INTO secrets(scope, name, uid, "
                                               "head_version, created_at) VALUES (?, ?, ?, ?, ?)"));
  st->bind(1, row.scope)
      .bind(2, row.name)
      .bind_blob(3, row.uid)
      .bind(4, row.head_version)
      .bind(5, row.created_at);
  LOCKBOX_TRY(st->run());
  return db_.last_insert_rowid();
}

Status SqliteBackend::set_head(std::int64_t secret_id, std::int64_t head_version,
                               ByteView row_mac) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.borrow("UPDATE secrets SET head_version = ?, row_mac = ? WHERE id = ?"));
  st->bind(1, head_version).bind_blob(2, row_mac).bind(3, secret_id);
  return st->run();
}

Status SqliteBackend::delete_secret(std::int64_t secret_id) {
  LOCKBOX_ASSIGN_OR_RETURN(auto q, db_.prepare("DELETE FROM quarantine WHERE secret_id = ?"));
  q.bind(1, secret_id);
  LOCKBOX_TRY(q.run());
  // versions go with ON DELETE CASCADE; secure_delete=ON zeroes the freed pages.
  LOCKBOX_ASSIGN_OR_RETURN(auto del, db_.prepare("DELETE FROM secrets WHERE id = ?"));
  del.bind(1, secret_id);
  return del.run();
}

Result<std::optional<VersionRow>> SqliteBackend::version(std::int64_t secret_id,
                                                         std::int64_t version, bool with_envelope) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.borrow("SELECT " LOCKBOX_VERSION_COLUMNS
                          ", v.envelope FROM versions v WHERE v.secret_id = ? AND v.version = ?"));
  st->bind(1, secret_id).bind(2, version);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<VersionRow>();
  VersionRow v = read_version_columns(*st, 0);
  if (with_envelope && !st->is_null(kVersionColumnCount)) {
    v.envelope.assign(st->blob(kVersionColumnCount).begin(), st->blob(kVersionColumnCount).end());
  }
  return std::optional<VersionRow>(std::move(v));
}

Result<std::optional<SecretVersionRow>> SqliteBackend::secret_version(std::string_view scope,
                                                                      std::string_view name,
                                                                      std::int64_t version) {
  // One indexed query for the secret and the version row together.
  LOCKBOX_ASSIGN_OR_RETURN(auto st,
                           db_.borrow("SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
                                      ", v.envelope FROM secrets s "
                                      "JOIN versions v ON v.secret_id = s.id AND v.version = ? "
                                      "WHERE s.scope = ? AND s.name = ?"));
  st->bind(1, version).bind(2, scope).bind(3, name);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<SecretVersionRow>();
  SecretVersionRow out{read_secret_columns(*st, 0), read_version_columns(*st, kSecretColumnCount)};
  const int env = kSecretColumnCount + kVersionColumnCount;
  if (!st->is_null(env)) out.version.envelope.assign(st->blob(env).begin(), st->blob(env).end());
  return std::optional<SecretVersionRow>(std::move(out));
}

Result<std::vector<VersionRow>> SqliteBackend::versions(std::int64_t secret_id) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.prepare("SELECT " LOCKBOX_VERSION_COLUMNS
                           " FROM versions v WHERE v.secret_id = ? ORDER BY v.version"));
  st.bind(1, secret_id);
  std::vector<VersionRow> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return out;
    out.push_back(read_version_columns(st, 0));
  }
}

Result<std::vector<SecretVersionRow>> SqliteBackend::heads(
    const std::optional<std::string>& scope) {
  // Two fixed statements, prepared once per connection: the scoped one runs for every scope of
  // a launch.
  static constexpr const char* kAllHeads =
      "SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
      " FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head_version"
      " ORDER BY s.scope, s.name";
  static constexpr const char* kScopeHeads =
      "SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
      " FROM secrets s JOIN versions v ON v.secret_id = s.id AND v.version = s.head_version"
      " WHERE s.scope = ? ORDER BY s.name";
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow(scope ? kScopeHeads : kAllHeads));
  if (scope) st->bind(1, *scope);
  std::vector<SecretVersionRow> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
    if (!row) return out;
    out.push_back({read_secret_columns(*st, 0), read_version_columns(*st, kSecretColumnCount)});
  }
}

Result<std::optional<SecretVersionRow>> SqliteBackend::head(std::string_view scope,
                                                            std::string_view name) {
  // LEFT JOIN: a secret whose head row is missing comes back with an empty version (not found).
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.borrow(
          "SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
          " FROM secrets s LEFT JOIN versions v "
          "ON v.secret_id = s.id AND v.version = s.head_version WHERE s.scope = ? AND s.name = ?"));
  st->bind(1, scope).bind(2, name);
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
  if (!row) return std::optional<SecretVersionRow>();
  SecretVersionRow out{read_secret_columns(*st, 0), {}};
  if (!st->is_null(kSecretColumnCount)) out.version = read_version_columns(*st, kSecretColumnCount);
  return std::optional<SecretVersionRow>(std::move(out));
}

Result<Backend::ScopeHeads> SqliteBackend::scope_heads(std::string_view scope) {
  // The scope row at or before `scope` (as scope_at_or_before) joined with the scope's heads (as
  // heads(scope)), in one statement: one snapshot, one step loop. A scope without heads gives one
  // row with NULL secret columns; a secret without its head version row is left out, as heads()
  // does.
  static constexpr const char* kScopeHeads =
      "SELECT c.scope, c.members, c.digest, c.next, c.change_counter, "
      "c.row_mac, " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
      " FROM (SELECT * FROM scopes WHERE scope <= ?1 ORDER BY scope DESC LIMIT 1) c "
      "LEFT JOIN secrets s ON s.scope = ?1 LEFT JOIN versions v ON v.secret_id = s.id AND "
      "v.version = s.head_version";
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.borrow(kScopeHeads));
  st->bind(1, scope);
  ScopeHeads out;
  constexpr int kS = 6;
  const auto by_name = [](const SecretVersionRow& a, const SecretVersionRow& b) {
    return a.secret.name < b.secret.name;
  };
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
    if (!row) break;
    if (!out.scope_row) {
      out.scope_row =
          ScopeRow{st->text(0), st->int64(1), Bytes(st->blob(2).begin(), st->blob(2).end()),
                   st->text(3), st->int64(4), Bytes(st->blob(5).begin(), st->blob(5).end())};
    }
    if (st->is_null(kS) || st->is_null(kS + kSecretColumnCount)) continue;
    out.heads.push_back(
        {read_secret_columns(*st, kS), read_version_columns(*st, kS + kSecretColumnCount)});
  }
  // heads(scope)'s order (the index on (scope, name) already yields it; no temp b-tree for an ORDER
  // BY).
  if (!std::is_sorted(out.heads.begin(), out.heads.end(), by_name))
    std::sort(out.heads.begin(), out.heads.end(), by_name);
  return out;
}

Status SqliteBackend::insert_version(std::int64_t secret_id, const VersionRow& v) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.borrow(
          "INSERT INTO versions(secret_id, version, tombstone, key_id, envelope, fingerprint, "
          "description, "
          "tags, metadata, expires_at, created_at, actor, row_mac, rotate_every, notify_before) "
          "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"));
  st->bind(1, secret_id).bind(2, v.version).bind(3, std::int64_t{v.tombstone ? 1 : 0});
  if (v.tombstone) {
    st->bind_null(4).bind_null(5).bind_null(6);
  } else {
    st->bind(4, std::int64_t{v.key_id}).bind_blob(5, v.envelope).bind(6, v.fingerprint);
  }
  st->bind(7, v.description)
      .bind_blob(8, encode_tags(v.tags))
      .bind_blob(9, encode_metadata(v.metadata))
      .bind_optional(10, v.expires_at)
      .bind(11, v.created_at)
      .bind(12, v.actor);
  if (v.row_mac) {
    st->bind_blob(13, *v.row_mac);
  } else {
    st->bind_null(13);
  }
  st->bind_optional(14, v.rotate_every).bind_optional(15, v.notify_before);
  return st->run();
}

Result<bool> SqliteBackend::replace_envelope(std::int64_t secret_id, std::int64_t version,
                                             std::int64_t row_rev, std::uint32_t old_key,
                                             std::uint32_t new_key, ByteView envelope) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.borrow("UPDATE versions SET key_id = ?, envelope = ?, row_rev = row_rev + 1 "
                          "WHERE secret_id = ? AND version = ? AND row_rev = ? AND key_id = ?"));
  st->bind(1, std::int64_t{new_key})
      .bind_blob(2, envelope)
      .bind(3, secret_id)
      .bind(4, version)
      .bind(5, row_rev)
      .bind(6, std::int64_t{old_key});
  LOCKBOX_TRY(st->run());
  return db_.changes() == 1;
}

Result<std::vector<SecretVersionRow>> SqliteBackend::versions_under_key(std::uint32_t key_id,
                                                                        std::size_t limit) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.borrow("SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS ", v.envelope "
                 "FROM versions v JOIN secrets s ON s.id = v.secret_id "
                 "WHERE v.key_id = ? AND NOT EXISTS (SELECT 1 FROM quarantine q "
                 "WHERE q.secret_id = v.secret_id AND q.version = v.version) LIMIT ?"));
  st->bind(1, std::int64_t{key_id}).bind(2, static_cast<std::int64_t>(limit));
  std::vector<SecretVersionRow> out;
  const int env = kSecretColumnCount + kVersionColumnCount;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st->step());
    if (!row) return out;
    SecretVersionRow r{read_secret_columns(*st, 0), read_version_columns(*st, kSecretColumnCount)};
    if (!st->is_null(env)) r.version.envelope.assign(st->blob(env).begin(), st->blob(env).end());
    out.push_back(std::move(r));
  }
}

Status SqliteBackend::quarantine(const QuarantineRow& row) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.borrow(
          "INSERT OR IGNORE INTO quarantine(secret_id, version, key_id, reason, detected_at) "
          "VALUES (?, ?, ?, ?, ?)"));
  st->bind(1, row.secret_id)
      .bind(2, row.version)
      .bind(3, std::int64_t{row.key_id})
      .bind(4, row.reason)
      .bind(5, row.detected_at);
  return st->run();
}

Result<std::vector<Backend::QuarantineEntry>> SqliteBackend::quarantined() {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st,
      db_.prepare("SELECT q.secret_id, q.version, q.key_id, q.reason, "
                  "q.detected_at, " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
                  ", v.envelope FROM quarantine q "
                  "LEFT JOIN versions v ON v.secret_id = q.secret_id AND v.version = q.version "
                  "LEFT JOIN secrets s ON s.id = q.secret_id ORDER BY s.scope, s.name, q.version"));
  std::vector<QuarantineEntry> out;
  constexpr int kS = 5;
  constexpr int kV = kS + kSecretColumnCount;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return out;
    QuarantineEntry e;
    e.row = {st.int64(0), st.int64(1), static_cast<std::uint32_t>(st.is_null(2) ? 0 : st.int64(2)),
             st.text(3), st.int64(4)};
    if (!st.is_null(kS) && !st.is_null(kV)) {
      e.current = SecretVersionRow{read_secret_columns(st, kS), read_version_columns(st, kV)};
      const int env = kV + kVersionColumnCount;
      if (!st.is_null(env))
        e.current->version.envelope.assign(st.blob(env).begin(), st.blob(env).end());
    }
    out.push_back(std::move(e));
  }
}

Status SqliteBackend::release_quarantine(std::int64_t secret_id, std::int64_t version) {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.prepare("DELETE FROM quarantine WHERE secret_id = ? AND version = ?"));
  st.bind(1, secret_id).bind(2, version);
  return st.run();
}

}  // namespace lockbox::store::sqlite
