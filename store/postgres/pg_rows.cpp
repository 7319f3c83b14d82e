// PgBackend: secret, version, quarantine and scope rows, the change counter, and MACs for rows
// that predate row authentication. The launch path runs heads() once per scope and
// secret_version() once per injected secret, each one prepared statement.
#include <fmt/format.h>

#include <algorithm>

#include "store/postgres/pg_backend.hpp"
#include "store/row_codec.hpp"

namespace lockbox::store::postgres {
namespace {

#define LOCKBOX_VERSION_COLUMNS                                                          \
  "v.version, v.tombstone, v.key_id, v.fingerprint, v.description, v.tags, v.metadata, " \
  "v.expires_at, v.created_at, v.actor, v.row_rev, v.row_mac, v.rotate_every, v.notify_before"
#define LOCKBOX_SECRET_COLUMNS \
  "s.id, s.scope, s.name, s.uid, s.head_version, s.created_at, s.row_mac"
constexpr int kVersionColumnCount = 14;
constexpr int kSecretColumnCount = 7;

// A column that cannot be decoded marks the row damaged instead of failing the whole query, so
// one bad row never hides the others (SPEC §10).
VersionRow read_version(const Rows& r, int i, int c) {
  VersionRow v;
  v.version = r.i64(i, c);
  v.tombstone = r.i64(i, c + 1) != 0;
  v.key_id = static_cast<std::uint32_t>(r.i64(i, c + 2));
  v.fingerprint = r.null(i, c + 3) ? std::string() : r.text(i, c + 3);
  v.description = r.text(i, c + 4);
  auto tags = decode_tags(r.bytes(i, c + 5));
  auto metadata = decode_metadata(r.bytes(i, c + 6));
  if (tags.is_ok()) v.tags = std::move(tags).value();
  if (metadata.is_ok()) v.metadata = std::move(metadata).value();
  if (!tags.is_ok()) v.damaged = tags.status().message();
  if (!metadata.is_ok()) v.damaged = metadata.status().message();
  v.expires_at = r.opt_i64(i, c + 7);
  v.created_at = r.i64(i, c + 8);
  v.actor = r.text(i, c + 9);
  v.row_rev = r.i64(i, c + 10);
  v.row_mac = r.opt_bytes(i, c + 11);
  v.rotate_every = r.opt_i64(i, c + 12);
  v.notify_before = r.opt_i64(i, c + 13);
  return v;
}

SecretRow read_secret(const Rows& r, int i, int c) {
  return SecretRow{r.i64(i, c),     r.text(i, c + 1), r.text(i, c + 2),     r.copy(i, c + 3),
                   r.i64(i, c + 4), r.i64(i, c + 5),  r.opt_bytes(i, c + 6)};
}

// secret columns, version columns, envelope.
SecretVersionRow read_with_envelope(const Rows& r, int i, int c) {
  SecretVersionRow out{read_secret(r, i, c), read_version(r, i, c + kSecretColumnCount)};
  const int env = c + kSecretColumnCount + kVersionColumnCount;
  if (!r.null(i, env)) out.version.envelope = r.copy(i, env);
  return out;
}

ScopeRow read_scope(const Rows& r, int i) {
  return ScopeRow{r.text(i, 0), r.i64(i, 1), r.copy(i, 2), r.text(i, 3), r.i64(i, 4), r.copy(i, 5)};
}

#define LOCKBOX_SCOPE_COLUMNS \
  "SELECT scope, members, digest, next, change_counter, row_mac FROM lockbox.scopes "

}  // namespace

Result<std::optional<SecretRow>> PgBackend::find_secret(std::string_view scope,
                                                        std::string_view name) {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r,
                           db_->run("SELECT " LOCKBOX_SECRET_COLUMNS
                                    " FROM lockbox.secrets s WHERE s.scope = $1 AND s.name = $2",
                                    Params().text(scope).text(name)));
  if (r.size() == 0) return std::optional<SecretRow>();
  return std::optional<SecretRow>(read_secret(r, 0, 0));
}

Result<std::int64_t> PgBackend::insert_secret(const SecretRow& row) {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run("INSERT INTO lockbox.secrets(scope, name, uid, "
                                            "head_version, created_at) VALUES ($1, $2, $3, $4, $5) "
                                            "RETURNING id",
                                            Params()
                                                .text(row.scope)
                                                .text(row.name)
                                                .bytes(row.uid)
                                                .i64(row.head_version)
                                                .i64(row.created_at)));
  return r.i64(0, 0);
}

Status PgBackend::set_head(std::int64_t secret_id, std::int64_t head_version, ByteView row_mac) {
  return db_->queue("UPDATE lockbox.secrets SET head_version = $1, row_mac = $2 WHERE id = $3",
                    Params().i64(head_version).bytes(row_mac).i64(secret_id));
}

Status PgBackend::set_secret_mac(std::int64_t secret_id, ByteView row_mac) {
  return db_->queue("UPDATE lockbox.secrets SET row_mac = $1 WHERE id = $2",
                    Params().bytes(row_mac).i64(secret_id));
}

Status PgBackend::set_version_mac(std::int64_t secret_id, std::int64_t version, ByteView row_mac) {
  return db_->queue(
      "UPDATE lockbox.versions SET row_mac = $1 WHERE secret_id = $2 AND version = $3",
      Params().bytes(row_mac).i64(secret_id).i64(version));
}

Status PgBackend::delete_secret(std::int64_t secret_id) {
  LOCKBOX_TRY(
      db_->run("DELETE FROM lockbox.quarantine WHERE secret_id = $1", Params().i64(secret_id))
          .status());
  // versions go with ON DELETE CASCADE.
  return db_->run("DELETE FROM lockbox.secrets WHERE id = $1", Params().i64(secret_id)).status();
}

Result<std::optional<VersionRow>> PgBackend::version(std::int64_t secret_id, std::int64_t version,
                                                     bool with_envelope) {
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r, db_->run(with_envelope ? "SELECT " LOCKBOX_VERSION_COLUMNS
                                       ", v.envelope FROM lockbox.versions v "
                                       "WHERE v.secret_id = $1 AND v.version = $2"
                                     : "SELECT " LOCKBOX_VERSION_COLUMNS " FROM lockbox.versions v "
                                       "WHERE v.secret_id = $1 AND v.version = $2",
                       Params().i64(secret_id).i64(version)));
  if (r.size() == 0) return std::optional<VersionRow>();
  VersionRow v = read_version(r, 0, 0);
  if (with_envelope && !r.null(0, kVersionColumnCount)) v.envelope = r.copy(0, kVersionColumnCount);
  return std::optional<VersionRow>(std::move(v));
}

Status PgBackend::scan_versions(const VersionVisitor& visit) {
  // Keyset pages of kPage rows (with envelopes) in the caller's snapshot: a few hundred round trips
  // for 100,000 versions instead of one per version, and bounded memory.
  constexpr int kPage = 1000;
  std::int64_t after_secret = -1;
  std::int64_t after_version = -1;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(
        Rows r,
        db_->run(
            "SELECT v.secret_id, " LOCKBOX_VERSION_COLUMNS ", v.envelope FROM lockbox.versions v "
            "WHERE (v.secret_id, v.version) > ($1, $2) ORDER BY v.secret_id, v.version LIMIT " +
                std::to_string(kPage),
            Params().i64(after_secret).i64(after_version)));
    for (int i = 0; i < r.size(); ++i) {
      VersionRow v = read_version(r, i, 1);
      if (!r.null(i, 1 + kVersionColumnCount)) v.envelope = r.copy(i, 1 + kVersionColumnCount);
      after_secret = r.i64(i, 0);
      after_version = v.version;
      LOCKBOX_TRY(visit(after_secret, v));
    }
    if (r.size() < kPage) return Status::ok();
  }
}

Result<std::optional<SecretVersionRow>> PgBackend::secret_version(std::string_view scope,
                                                                  std::string_view name,
                                                                  std::int64_t version) {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r,
                           db_->run("SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
                                    ", v.envelope FROM lockbox.secrets s "
                                    "JOIN lockbox.versions v ON v.secret_id = s.id AND v.version = "
                                    "$1 WHERE s.scope = $2 AND s.name = $3",
                                    Params().i64(version).text(scope).text(name)));
  if (r.size() == 0) return std::optional<SecretVersionRow>();
  return std::optional<SecretVersionRow>(read_with_envelope(r, 0, 0));
}

Result<std::vector<VersionRow>> PgBackend::versions(std::int64_t secret_id) {
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r, db_->run("SELECT " LOCKBOX_VERSION_COLUMNS
                       " FROM lockbox.versions v WHERE v.secret_id = $1 ORDER BY v.version",
                       Params().i64(secret_id)));
  std::vector<VersionRow> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(read_version(r, i, 0));
  return out;
}

Result<std::vector<SecretVersionRow>> PgBackend::heads(const std::optional<std::string>& scope) {
  static constexpr const char* kAllHeads =
      "SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
      " FROM lockbox.secrets s JOIN lockbox.versions v ON v.secret_id = s.id AND v.version = "
      "s.head_version"
      " ORDER BY s.scope, s.name";
  static constexpr const char* kScopeHeads =
      "SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
      " FROM lockbox.secrets s JOIN lockbox.versions v ON v.secret_id = s.id AND v.version = "
      "s.head_version"
      " WHERE s.scope = $1 ORDER BY s.name";
  Params p;
  if (scope) p.text(*scope);
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run(scope ? kScopeHeads : kAllHeads, p));
  std::vector<SecretVersionRow> out;
  out.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i)
    out.push_back({read_secret(r, i, 0), read_version(r, i, kSecretColumnCount)});
  return out;
}

Result<std::optional<SecretVersionRow>> PgBackend::head(std::string_view scope,
                                                        std::string_view name) {
  // LEFT JOIN: a secret whose head row is missing comes back with an empty version (not found).
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r,
      db_->run("SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
               " FROM lockbox.secrets s "
               "LEFT JOIN lockbox.versions v ON v.secret_id = s.id AND v.version = s.head_version "
               "WHERE s.scope = $1 AND s.name = $2",
               Params().text(scope).text(name)));
  if (r.size() == 0) return std::optional<SecretVersionRow>();
  SecretVersionRow out{read_secret(r, 0, 0), {}};
  if (!r.null(0, kSecretColumnCount)) out.version = read_version(r, 0, kSecretColumnCount);
  return std::optional<SecretVersionRow>(std::move(out));
}

Result<Backend::ScopeHeads> PgBackend::scope_heads(std::string_view scope) {
  // One statement, one snapshot (and one round trip): the scope row at or before `scope` (kind 0,
  // in the first six columns after the kind) and the scope's heads (kind 1), sorted here by name.
  // The first branch pads with one NULL per secret and version column (7 + 14).
  static constexpr const char* kScopeHeads =
      "(SELECT 0 AS kind, scope, members, digest, next, change_counter, row_mac, "
      "NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, "
      "NULL, NULL, NULL, "
      "NULL, NULL, NULL FROM lockbox.scopes WHERE scope <= $1 ORDER BY scope DESC LIMIT 1) "
      "UNION ALL (SELECT 1, NULL, NULL, NULL, NULL, NULL, NULL, " LOCKBOX_SECRET_COLUMNS
      ", " LOCKBOX_VERSION_COLUMNS
      " FROM lockbox.secrets s JOIN lockbox.versions v ON v.secret_id = s.id AND v.version = "
      "s.head_version"
      " WHERE s.scope = $1)";
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run(kScopeHeads, Params().text(scope)));
  ScopeHeads out;
  out.heads.reserve(static_cast<std::size_t>(r.size()));
  for (int i = 0; i < r.size(); ++i) {
    if (r.i64(i, 0) == 0) {
      out.scope_row = ScopeRow{r.text(i, 1), r.i64(i, 2), r.copy(i, 3),
                               r.text(i, 4), r.i64(i, 5), r.copy(i, 6)};
    } else {
      out.heads.push_back({read_secret(r, i, 7), read_version(r, i, 7 + kSecretColumnCount)});
    }
  }
  // heads(scope)'s order (byte order, as COLLATE "C"), which the resolver and `secrets list` rely
  // on.
  std::sort(out.heads.begin(), out.heads.end(),
            [](const SecretVersionRow& a, const SecretVersionRow& b) {
              return a.secret.name < b.secret.name;
            });
  return out;
}

Status PgBackend::insert_version(std::int64_t secret_id, const VersionRow& v) {
  Params p;
  p.i64(secret_id).i64(v.version).i64(v.tombstone ? 1 : 0);
  if (v.tombstone) {
    p.null_i64().null_bytes().null_text();
  } else {
    p.i64(v.key_id).bytes(v.envelope).text(v.fingerprint);
  }
  p.text(v.description)
      .bytes(encode_tags(v.tags))
      .bytes(encode_metadata(v.metadata))
      .opt_i64(v.expires_at)
      .i64(v.created_at)
      .text(v.actor)
      .opt_bytes(v.row_mac)
      .opt_i64(v.rotate_every)
      .opt_i64(v.notify_before);
  return db_->queue(
      "INSERT INTO lockbox.versions(secret_id, version, tombstone, key_id, envelope, fingerprint, "
      "description, tags, metadata, expires_at, created_at, actor, row_mac, rotate_every, "
      "notify_before) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
      p);
}

Result<bool> PgBackend::replace_envelope(std::int64_t secret_id, std::int64_t version,
                                         std::int64_t row_rev, std::uint32_t old_key,
                                         std::uint32_t new_key, ByteView envelope) {
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r,
      db_->run("UPDATE lockbox.versions SET key_id = $1, envelope = $2, row_rev = row_rev + 1 "
               "WHERE secret_id = $3 AND version = $4 AND row_rev = $5 AND key_id = $6",
               Params().i64(new_key).bytes(envelope).i64(secret_id).i64(version).i64(row_rev).i64(
                   old_key)));
  return r.affected() == 1;
}

Result<std::vector<SecretVersionRow>> PgBackend::versions_under_key(std::uint32_t key_id,
                                                                    std::size_t limit) {
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r, db_->run("SELECT " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS ", v.envelope "
                       "FROM lockbox.versions v JOIN lockbox.secrets s ON s.id = v.secret_id "
                       "WHERE v.key_id = $1 AND NOT EXISTS (SELECT 1 FROM lockbox.quarantine q "
                       "WHERE q.secret_id = v.secret_id AND q.version = v.version) LIMIT $2",
                       Params().i64(key_id).i64(static_cast<std::int64_t>(limit))));
  std::vector<SecretVersionRow> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(read_with_envelope(r, i, 0));
  return out;
}

Status PgBackend::quarantine(const QuarantineRow& row) {
  return db_
      ->run(
          "INSERT INTO lockbox.quarantine(secret_id, version, key_id, reason, detected_at) "
          "VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING",
          Params()
              .i64(row.secret_id)
              .i64(row.version)
              .i64(row.key_id)
              .text(row.reason)
              .i64(row.detected_at))
      .status();
}

Result<std::vector<Backend::QuarantineEntry>> PgBackend::quarantined() {
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r,
      db_->run(
          "SELECT q.secret_id, q.version, q.key_id, q.reason, "
          "q.detected_at, " LOCKBOX_SECRET_COLUMNS ", " LOCKBOX_VERSION_COLUMNS
          ", v.envelope FROM lockbox.quarantine q "
          "LEFT JOIN lockbox.versions v ON v.secret_id = q.secret_id AND v.version = q.version "
          "LEFT JOIN lockbox.secrets s ON s.id = q.secret_id ORDER BY s.scope, s.name, q.version"));
  std::vector<QuarantineEntry> out;
  constexpr int kS = 5;
  for (int i = 0; i < r.size(); ++i) {
    QuarantineEntry e;
    e.row = {r.i64(i, 0), r.i64(i, 1), static_cast<std::uint32_t>(r.i64(i, 2)), r.text(i, 3),
             r.i64(i, 4)};
    if (!r.null(i, kS) && !r.null(i, kS + kSecretColumnCount))
      e.current = read_with_envelope(r, i, kS);
    out.push_back(std::move(e));
  }
  return out;
}

Status PgBackend::release_quarantine(std::int64_t secret_id, std::int64_t version) {
  return db_
      ->run("DELETE FROM lockbox.quarantine WHERE secret_id = $1 AND version = $2",
            Params().i64(secret_id).i64(version))
      .status();
}

// ---- the change counter and scopes ----

Status PgBackend::set_change_counter(std::int64_t value, ByteView mac) {
  return db_->queue(
      "INSERT INTO lockbox.meta(key, num, bin) VALUES ('change_counter', $1, NULL), "
      "('change_counter_mac', NULL, $2) ON CONFLICT (key) DO UPDATE SET num = excluded.num, "
      "bin = excluded.bin",
      Params().i64(value).bytes(mac));
}

Result<CounterRow> PgBackend::change_counter() {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run("SELECT key, num, bin FROM lockbox.meta WHERE key IN "
                                            "('change_counter', 'change_counter_mac')"));
  CounterRow out;
  for (int i = 0; i < r.size(); ++i) {
    if (r.text(i, 0) == "change_counter") {
      out.value = r.i64(i, 1);
    } else {
      out.mac = r.null(i, 2) ? Bytes() : r.copy(i, 2);
    }
  }
  return out;
}

Result<std::optional<ScopeRow>> PgBackend::scope_at_or_before(std::string_view scope) {
  // scope is COLLATE "C": byte order, the order the chain is kept in.
  LOCKBOX_ASSIGN_OR_RETURN(
      Rows r, db_->run(LOCKBOX_SCOPE_COLUMNS "WHERE scope <= $1 ORDER BY scope DESC LIMIT 1",
                       Params().text(scope)));
  if (r.size() == 0) return std::optional<ScopeRow>();
  return std::optional<ScopeRow>(read_scope(r, 0));
}

Result<std::vector<ScopeRow>> PgBackend::scopes() {
  LOCKBOX_ASSIGN_OR_RETURN(Rows r, db_->run(LOCKBOX_SCOPE_COLUMNS "ORDER BY scope"));
  std::vector<ScopeRow> out;
  for (int i = 0; i < r.size(); ++i) out.push_back(read_scope(r, i));
  return out;
}

Status PgBackend::put_scope(const ScopeRow& row) {
  return db_->queue(
      "INSERT INTO lockbox.scopes(scope, members, digest, next, change_counter, row_mac) "
      "VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (scope) DO UPDATE SET members = "
      "excluded.members, "
      "digest = excluded.digest, next = excluded.next, change_counter = excluded.change_counter, "
      "row_mac = excluded.row_mac",
      Params()
          .text(row.scope)
          .i64(row.members)
          .bytes(row.digest)
          .text(row.next)
          .i64(row.change_counter)
          .bytes(row.row_mac));
}

}  // namespace lockbox::store::postgres
