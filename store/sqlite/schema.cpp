#include "store/sqlite/schema.hpp"

#include <string>

#include "store/internal/schema_rules.hpp"

namespace lockbox::store::sqlite {
namespace {

// Migration 1: the whole schema of CRYPTO.md.
//  meta          store id, key kind, passphrase salt/iterations, change counter
//  master_keys   one row per master-key generation with its key-check value (KCV)
//  keyring       wrapped data/audit/fingerprint keys, states, nonce budget and reservations
//  secrets       one row per (scope, name), with a never-reused uid and the head version
//  versions      append-only versions, row_rev for compare-and-swap, per-version expiry
//  quarantine    versions that failed authentication during re-encryption
//  audit         HMAC-chained records
constexpr const char* kMigration1 = R"sql(
CREATE TABLE meta (
  key   TEXT PRIMARY KEY,
  value ANY
) STRICT;

CREATE TABLE master_keys (
  generation INTEGER PRIMARY KEY,
  kcv        BLOB NOT NULL,
  state      TEXT NOT NULL CHECK (state IN ('current', 'retired')),
  created_at INTEGER NOT NULL
) STRICT;
CREATE UNIQUE INDEX master_keys_one_current ON master_keys(state) WHERE state = 'current';

CREATE TABLE keyring (
  key_id          INTEGER PRIMARY KEY AUTOINCREMENT,
  purpose         TEXT NOT NULL CHECK (purpose IN ('data', 'audit', 'fingerprint')),
  state           TEXT NOT NULL CHECK (state IN ('active', 'decrypt_only', 'retired', 'destroyed')),
  kek_generation  INTEGER NOT NULL,
  wrapped         BLOB,
  created_at      INTEGER NOT NULL,
  encryptions     INTEGER NOT NULL DEFAULT 0,
  reserved        INTEGER NOT NULL DEFAULT 0,
  max_encryptions INTEGER NOT NULL,
  row_rev         INTEGER NOT NULL DEFAULT 1
) STRICT;
CREATE UNIQUE INDEX keyring_one_active ON keyring(purpose) WHERE state = 'active';

CREATE TABLE secrets (
  id           INTEGER PRIMARY KEY AUTOINCREMENT,
  scope        TEXT NOT NULL,
  name         TEXT NOT NULL,
  uid          BLOB NOT NULL UNIQUE,
  head_version INTEGER NOT NULL,
  created_at   INTEGER NOT NULL,
  UNIQUE (scope, name)
) STRICT;

CREATE TABLE versions (
  secret_id   INTEGER NOT NULL REFERENCES secrets(id) ON DELETE CASCADE,
  version     INTEGER NOT NULL,
  tombstone   INTEGER NOT NULL CHECK (tombstone IN (0, 1)),
  key_id      INTEGER,
  envelope    BLOB,
  fingerprint TEXT,
  description TEXT NOT NULL,
  tags        BLOB NOT NULL,
  metadata    BLOB NOT NULL,
  expires_at  INTEGER,
  created_at  INTEGER NOT NULL,
  actor       TEXT NOT NULL,
  row_rev     INTEGER NOT NULL DEFAULT 1,
  PRIMARY KEY (secret_id, version)
) STRICT;
CREATE INDEX versions_by_key ON versions(key_id) WHERE key_id IS NOT NULL;

CREATE TABLE quarantine (
  secret_id   INTEGER NOT NULL,
  version     INTEGER NOT NULL,
  key_id      INTEGER,
  reason      TEXT NOT NULL,
  detected_at INTEGER NOT NULL,
  PRIMARY KEY (secret_id, version)
) STRICT;

CREATE TABLE audit (
  seq       INTEGER PRIMARY KEY,
  ts        INTEGER NOT NULL,
  actor     TEXT NOT NULL,
  action    TEXT NOT NULL,
  target    TEXT NOT NULL,
  outcome   TEXT NOT NULL,
  detail    TEXT NOT NULL,
  prev_mac  BLOB NOT NULL,
  entry_mac BLOB NOT NULL
) STRICT;

PRAGMA user_version = 1;
)sql";

// Migration 2: API tokens (SPEC §5, §8). A token `lbx_<id>_<secret>` is looked up by id and
// checked against the SHA-256 of its secret part; the token itself is never stored. A name is
// unique among tokens that are not revoked.
constexpr const char* kMigration2 = R"sql(
CREATE TABLE tokens (
  id          TEXT PRIMARY KEY,
  name        TEXT NOT NULL,
  role        TEXT NOT NULL,
  secret_hash BLOB NOT NULL,
  created_at  INTEGER NOT NULL,
  created_by  TEXT NOT NULL,
  expires_at  INTEGER,
  revoked_at  INTEGER
) STRICT;
CREATE UNIQUE INDEX tokens_live_name ON tokens(name) WHERE revoked_at IS NULL;

PRAGMA user_version = 2;
)sql";

// Migration 3: row authentication (SPEC §17). Each row_mac is HMAC-SHA256 under the row-auth key
// (store/row_auth.hpp) over the row's meaning; NULL only until the engine's one-time migration
// MACs the rows that predate it (it needs the master key, which SQL does not have).
//  tokens.hash_scheme  1 = SHA-256 of the secret (tokens created before this migration), 2 = the
//                      keyed token_secret_hash(). Changing the scheme only makes a row fail.
//  secrets.row_mac     which version is the head; versions.row_mac: tombstone, expiry, metadata
//  scopes              one row per scope ever written: member count, XOR digest of its members,
//                      the next scope in the chain and the change counter of its last write;
//                      the sentinel scope '' starts the chain
//  meta 'change_counter_mac'  the MAC of the change counter
constexpr const char* kMigration3 = R"sql(
ALTER TABLE tokens ADD COLUMN row_mac BLOB;
ALTER TABLE tokens ADD COLUMN hash_scheme INTEGER NOT NULL DEFAULT 1 CHECK (hash_scheme IN (1, 2));
ALTER TABLE secrets ADD COLUMN row_mac BLOB;
ALTER TABLE versions ADD COLUMN row_mac BLOB;
CREATE TABLE scopes (
  scope          TEXT PRIMARY KEY,
  members        INTEGER NOT NULL,
  digest         BLOB NOT NULL,
  next           TEXT NOT NULL,
  change_counter INTEGER NOT NULL,
  row_mac        BLOB NOT NULL
) STRICT, WITHOUT ROWID;

PRAGMA user_version = 3;
)sql";

// Migration 4: rotation reminders (SPEC §13), per version like the description and carried to the
// next one: rotate_every and notify_before in milliseconds, NULL when the secret has no reminder.
// versions.row_mac covers them when set (store/row_auth.hpp), so rows written before stay valid.
constexpr const char* kMigration4 = R"sql(
ALTER TABLE versions ADD COLUMN rotate_every INTEGER CHECK (rotate_every IS NULL OR rotate_every > 0);
ALTER TABLE versions ADD COLUMN notify_before INTEGER CHECK (notify_before IS NULL OR notify_before >= 0);

PRAGMA user_version = 4;
)sql";

constexpr const char* kMigrations[] = {kMigration1, kMigration2, kMigration3, kMigration4};

}  // namespace

Result<int> schema_version(Db& db) {
  LOCKBOX_ASSIGN_OR_RETURN(auto stmt, db.prepare("PRAGMA user_version"));
  LOCKBOX_ASSIGN_OR_RETURN(const bool row, stmt.step());
  return row ? static_cast<int>(stmt.int64(0)) : 0;
}

Status migrate(Db& db) {
  LOCKBOX_ASSIGN_OR_RETURN(const int current, schema_version(db));
  if (current > kSchemaVersion) {
    return newer_schema_error(current, kSchemaVersion);
  }
  for (int v = current; v < kSchemaVersion; ++v) {
    LOCKBOX_TRY(db.exec(kMigrations[v]).with_context("migrating store schema"));
  }
  return Status::ok();
}

}  // namespace lockbox::store::sqlite
