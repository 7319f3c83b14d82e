// Engine: API tokens (SPEC §5, §8). A token is `lbx_<id>_<secret>`: 16 hex characters of
// random id (the lookup key, safe to log) and 64 hex characters of random secret. The store keeps
// only a keyed hash of the secret, token_secret_hash (HMAC-SHA256 under the row key, bound to the
// store and the token id, store/row_auth.hpp): a copy of the database can neither call the API nor
// check a guess, and without the master key nobody can make a row that verifies. The secret has
// 256 bits of entropy, so no salt or stretching is needed. Each row also carries a MAC over its
// identity, role, hash, expiry and revocation (SPEC §17). Tokens made before row authentication
// keep their SHA-256 digest (hash_scheme 1), but only under a row MAC the migration gave them.
#include <fmt/format.h>

#include "core/scope.hpp"
#include "store/crypto.hpp"
#include "store/row_auth.hpp"
#include "store/engine/engine.hpp"
#include "store/engine/options.hpp"
#include "store/validation.hpp"

namespace lockbox::store {
namespace {

constexpr std::string_view kPrefix = "lbx_";
constexpr std::size_t kIdBytes = 8;       // 16 hex characters
constexpr std::size_t kSecretBytes = 32;  // 64 hex characters

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

// TokenRow::hash_scheme values (persistent, never renumber).
constexpr int kLegacySha256 = 1;
constexpr int kKeyedHash = 2;

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

Result<NewToken> Engine::create_token(const std::string& name, const std::string& role,
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
  const Mac hash = token_secret_hash(row_auth_key_, store_id_, created.info.id, secret.reveal());
  TokenRow row{created.info, Bytes(hash.begin(), hash.end()), kKeyedHash, std::nullopt};
  const Mac mac = token_mac(row);
  row.row_mac = Bytes(mac.begin(), mac.end());
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(const bool exists, rows_->live_token_named(name));
  if (exists) return bad_input(fmt::format("a token named {} exists; revoke it first", name));
  LOCKBOX_TRY(rows_->insert_token(row));
  LOCKBOX_TRY(append_audit_in_tx({"token.create", "token:" + name, "ok",
                                  fmt::format("id {}, role {}, {}", created.info.id, role,
                                              expires_at ? "expires" : "no expiry")}));
  LOCKBOX_TRY(tx.commit());
  return created;
}

Mac Engine::token_mac(const TokenRow& row) const {
  const TokenInfo& t = row.info;
  return token_row_mac(row_auth_key_, store_id_,
                       {t.id, t.name, t.role, row.secret_hash, t.created_at, t.created_by, t.expires_at,
                        t.revoked_at});
}

bool Engine::token_authentic(const TokenRow& row) const {
  return row.row_mac && mac_equal(token_mac(row), *row.row_mac);
}

Result<std::vector<TokenInfo>> Engine::list_tokens() {
  LOCKBOX_ASSIGN_OR_RETURN(const auto rows, rows_->tokens());
  std::vector<TokenInfo> out;
  out.reserve(rows.size());
  for (const TokenRow& row : rows) {
    out.push_back(row.info);
    out.back().authentic = token_authentic(row);
  }
  return out;
}

Result<TokenInfo> Engine::revoke_token(const std::string& name) {
  LOCKBOX_TRY(validate_name(name, "token name"));
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kWrite));
  LOCKBOX_ASSIGN_OR_RETURN(auto found, rows_->live_token_by_name(name));
  if (!found) return not_found(fmt::format("no live token named {}", name));
  // A row that fails authentication is revoked too (that is how a damaged token is cleaned up),
  // and its new MAC makes the revocation itself authentic.
  TokenRow row = *std::move(found);
  row.info.revoked_at = clock_of(options_).now();
  const Mac mac = token_mac(row);
  LOCKBOX_TRY(rows_->set_token_revoked(row.info.id, *row.info.revoked_at, mac));
  LOCKBOX_TRY(append_audit_in_tx({"token.revoke", "token:" + name, "ok", "id " + row.info.id}));
  LOCKBOX_TRY(tx.commit());
  return row.info;
}

Result<TokenInfo> Engine::authenticate_token(std::string_view token, std::string* known_name) {
  if (known_name != nullptr) known_name->clear();
  std::string_view id;
  std::string_view secret;
  if (!parse_token(token, id, secret)) return refused();
  LOCKBOX_ASSIGN_OR_RETURN(const auto found, rows_->token(id));
  // The digest is computed and compared whether or not the id exists, so the time taken does not
  // tell a wrong secret from an unknown id. A row must also carry a valid MAC (SPEC §17): without
  // the master key nobody can insert one, or raise its role, un-revoke or un-expire it.
  const bool legacy = found && found->hash_scheme == kLegacySha256;
  const Mac presented = legacy ? sha256(as_bytes(secret))
                               : token_secret_hash(row_auth_key_, store_id_, id, secret);
  Mac stored{};
  std::optional<TokenInfo> info;
  if (found && found->secret_hash.size() == stored.size()) {
    std::copy(found->secret_hash.begin(), found->secret_hash.end(), stored.begin());
    info = found->info;
  }
  if (known_name != nullptr && info) *known_name = info->name;
  const bool authentic = found && token_authentic(*found);
  const bool secret_ok = constant_time_equal(presented, stored) && info.has_value();
  if (!secret_ok || !authentic || info->revoked_at) return refused();
  if (info->expires_at && *info->expires_at <= clock_of(options_).now()) return refused();
  return *std::move(info);
}

}  // namespace lockbox::store
