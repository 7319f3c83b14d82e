// SqliteStore: API tokens (SPEC §5, §8). A token is `lbx_<id>_<secret>`: 16 hex characters of
// random id (the lookup key, safe to log) and 64 hex characters of random secret. The store keeps
// only SHA-256(secret): a copy of the database cannot be used to call the API. The secret has
// 256 bits of entropy, so a plain digest (no salt, no stretching) is enough.
#include <fmt/format.h>

#include "core/scope.hpp"
#include "store/crypto.hpp"
#include "store/sqlite/keyring.hpp"
#include "store/sqlite/sqlite_store.hpp"

namespace lockbox::store::sqlite {
namespace {

constexpr std::string_view kPrefix = "lbx_";
constexpr std::size_t kIdBytes = 8;       // 16 hex characters
constexpr std::size_t kSecretBytes = 32;  // 64 hex characters

constexpr const char* kTokenColumns =
    "SELECT id, name, role, created_at, created_by, expires_at, revoked_at FROM tokens ";

TokenInfo read_token(const Statement& st) {
  return TokenInfo{st.text(0), st.text(1), st.text(2), st.int64(3), st.text(4),
                   st.optional_int64(5), st.optional_int64(6)};
}

// Splits `lbx_<id>_<secret>` into its parts; false for any other shape.
bool parse_token(std::string_view token, std::string_view& id, std::string_view& secret) {
  if (token.size() != kPrefix.size() + 2 * kIdBytes + 1 + 2 * kSecretBytes) return false;
  if (token.substr(0, kPrefix.size()) != kPrefix || token[kPrefix.size() + 2 * kIdBytes] != '_') {
    return false;
  }
  id = token.substr(kPrefix.size(), 2 * kIdBytes);
  secret = token.substr(kPrefix.size() + 2 * kIdBytes + 1);
  return is_lower_hex(id) && is_lower_hex(secret);
}

Status refused() { return denied("invalid, expired or revoked token"); }

// kSecretBytes random bytes as lower-case hex, built in wiping buffers only.
Status random_secret_hex(Random& random, SecretValue& out) {
  SecretValue raw;
  std::uint8_t* bytes = raw.resize_for_write(kSecretBytes);
  LOCKBOX_TRY(random.fill({bytes, kSecretBytes}));
  static constexpr char kHex[] = "0123456789abcdef";
  char* hex = reinterpret_cast<char*>(out.resize_for_write(2 * kSecretBytes));
  for (std::size_t i = 0; i < kSecretBytes; ++i) {
    hex[2 * i] = kHex[bytes[i] >> 4];
    hex[2 * i + 1] = kHex[bytes[i] & 0x0f];
  }
  return Status::ok();
}

}  // namespace

Result<NewToken> SqliteStore::create_token(const std::string& name, const std::string& role,
                                           std::optional<UnixMillis> expires_at) {
  LOCKBOX_TRY(validate_name(name, "token name"));
  LOCKBOX_TRY(validate_name(role, "role"));
  Bytes id(kIdBytes);
  LOCKBOX_TRY(random_of(options_).fill(id));
  SecretValue secret;
  LOCKBOX_TRY(random_secret_hex(random_of(options_), secret));
  NewToken created;
  created.info = TokenInfo{to_hex(id), name, role, clock_of(options_).now(), options_.actor,
                           expires_at, std::nullopt};
  created.token = SecretValue(kPrefix);
  created.token.append(created.info.id);
  created.token.append("_");
  created.token.append(secret.reveal());
  const Mac hash = sha256(as_bytes(secret.reveal()));
  LOCKBOX_ASSIGN_OR_RETURN(auto tx, Transaction::begin(db_));
  {
    LOCKBOX_ASSIGN_OR_RETURN(auto live, db_.prepare(
        "SELECT 1 FROM tokens WHERE name = ? AND revoked_at IS NULL"));
    live.bind(1, name);
    LOCKBOX_ASSIGN_OR_RETURN(const bool exists, live.step());
    if (exists) return bad_input(fmt::format("a token named {} exists; revoke it first", name));
  }
  LOCKBOX_ASSIGN_OR_RETURN(auto ins, db_.prepare(
      "INSERT INTO tokens(id, name, role, secret_hash, created_at, created_by, expires_at) "
      "VALUES (?, ?, ?, ?, ?, ?, ?)"));
  ins.bind(1, created.info.id).bind(2, name).bind(3, role).bind_blob(4, hash)
      .bind(5, created.info.created_at).bind(6, options_.actor).bind_optional(7, expires_at);
  LOCKBOX_TRY(ins.run());
  LOCKBOX_TRY(append_audit_in_tx({"token.create", "token:" + name, "ok",
                                  fmt::format("id {}, role {}, {}", created.info.id, role,
                                              expires_at ? "expires" : "no expiry")}));
  LOCKBOX_TRY(tx->commit());
  return created;
}

Result<std::vector<TokenInfo>> SqliteStore::list_tokens() {
  LOCKBOX_ASSIGN_OR_RETURN(
      auto st, db_.prepare(std::string(kTokenColumns) + "ORDER BY created_at, rowid"));
  std::vector<TokenInfo> out;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) return out;
    out.push_back(read_token(st));
  }
}

Result<TokenInfo> SqliteStore::revoke_token(const std::string& name) {
  LOCKBOX_TRY(validate_name(name, "token name"));
  LOCKBOX_ASSIGN_OR_RETURN(auto tx, Transaction::begin(db_));
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare(std::string(kTokenColumns) +
                                                "WHERE name = ? AND revoked_at IS NULL"));
  st.bind(1, name);
  LOCKBOX_ASSIGN_OR_RETURN(const bool found, st.step());
  if (!found) return not_found(fmt::format("no live token named {}", name));
  TokenInfo token = read_token(st);
  st.reset();
  token.revoked_at = clock_of(options_).now();
  LOCKBOX_ASSIGN_OR_RETURN(auto upd, db_.prepare("UPDATE tokens SET revoked_at = ? WHERE id = ?"));
  upd.bind(1, *token.revoked_at).bind(2, token.id);
  LOCKBOX_TRY(upd.run());
  LOCKBOX_TRY(append_audit_in_tx({"token.revoke", "token:" + name, "ok", "id " + token.id}));
  LOCKBOX_TRY(tx->commit());
  return token;
}

Result<TokenInfo> SqliteStore::authenticate_token(std::string_view token, std::string* known_name) {
  if (known_name != nullptr) known_name->clear();
  std::string_view id;
  std::string_view secret;
  if (!parse_token(token, id, secret)) return refused();
  LOCKBOX_ASSIGN_OR_RETURN(Statement * st, db_.cached(
      "SELECT id, name, role, created_at, created_by, expires_at, revoked_at, secret_hash "
      "FROM tokens WHERE id = ?"));
  st->bind(1, id);
  LOCKBOX_ASSIGN_OR_RETURN(const bool found, st->step());
  // The digest is computed and compared whether or not the id exists, so the time taken does not
  // tell a wrong secret from an unknown id.
  const Mac presented = sha256(as_bytes(secret));
  Mac stored{};
  std::optional<TokenInfo> info;
  if (found && st->blob(7).size() == stored.size()) {
    std::copy(st->blob(7).begin(), st->blob(7).end(), stored.begin());
    info = read_token(*st);
  }
  st->reset();
  if (known_name != nullptr && info) *known_name = info->name;
  const bool secret_ok = constant_time_equal(presented, stored) && info.has_value();
  if (!secret_ok || info->revoked_at) return refused();
  if (info->expires_at && *info->expires_at <= clock_of(options_).now()) return refused();
  return *std::move(info);
}

}  // namespace lockbox::store::sqlite
