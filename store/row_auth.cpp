#include "store/row_auth.hpp"

#include "core/secret_value.hpp"

namespace lockbox::store {

namespace {

// LP(label) || LP(store_id): the start of every message in row_auth.hpp.
Bytes message_start(std::string_view label, ByteView store_id) {
  Bytes out;
  out.reserve(256);
  append_lp(out, label);
  append_lp(out, store_id);
  return out;
}

void append_int(Bytes& out, std::int64_t v) {
  append_u64be(out, static_cast<std::uint64_t>(v));
}

void append_bool(Bytes& out, bool v) {
  out.push_back(v ? 0x01 : 0x00);
}

void append_opt(Bytes& out, const std::optional<std::int64_t>& v) {
  append_bool(out, v.has_value());
  if (v) append_int(out, *v);
}

void append_count(Bytes& out, std::size_t count) {
  append_u32be(out, static_cast<std::uint32_t>(count));
}

// LP(scope) || LP(name) || LP(uid): the identity of one secret.
void append_identity(Bytes& out, std::string_view scope_address, std::string_view name,
                     ByteView uid) {
  append_lp(out, scope_address);
  append_lp(out, name);
  append_lp(out, uid);
}

}  // namespace

Result<SecureKey> derive_row_auth_key(const SecureKey& audit_key, ByteView store_id) {
  Bytes info;
  append_lp(info, kLabelRowAuthKey);
  return hkdf_key(audit_key.bytes(), store_id, info);
}

Mac token_row_mac(const SecureKey& key, ByteView store_id, const TokenRowFields& row) {
  Bytes m = message_start(kLabelTokenRow, store_id);
  append_lp(m, row.id);
  append_lp(m, row.name);
  append_lp(m, row.role);
  append_lp(m, row.secret_hash);
  append_int(m, row.created_at);
  append_lp(m, row.created_by);
  append_opt(m, row.expires_at);
  append_opt(m, row.revoked_at);
  return hmac_sha256(key.bytes(), m);
}

Mac token_secret_hash(const SecureKey& key, ByteView store_id, std::string_view token_id,
                      std::string_view secret) {
  // Sized exactly so it never reallocates (which would leave an unwiped copy of the secret).
  Bytes m;
  m.reserve(std::size_t{4} * 4 + kLabelTokenSecret.size() + store_id.size() + token_id.size() +
            secret.size());
  append_lp(m, kLabelTokenSecret);
  append_lp(m, store_id);
  append_lp(m, token_id);
  append_lp(m, secret);
  const Mac mac = hmac_sha256(key.bytes(), m);
  wipe(m.data(), m.size());
  return mac;
}

Mac version_row_mac(const HmacKey& key, ByteView store_id, std::string_view scope_address,
                    std::string_view name, ByteView uid, std::int64_t version,
                    const VersionRowFields& row) {
  Bytes m = message_start(kLabelVersionRow, store_id);
  append_identity(m, scope_address, name, uid);
  append_int(m, version);
  append_bool(m, row.tombstone);
  append_lp(m, row.fingerprint);
  append_lp(m, row.description);
  append_count(m, row.tags.size());
  for (const std::string& tag : row.tags) append_lp(m, tag);
  append_count(m, row.metadata.size());
  for (const auto& [k, v] : row.metadata) {
    append_lp(m, k);
    append_lp(m, v);
  }
  append_opt(m, row.expires_at);
  append_int(m, row.created_at);
  append_lp(m, row.actor);
  if (row.rotate_every || row.notify_before) {
    append_lp(m, std::string_view("rotation"));
    append_opt(m, row.rotate_every);
    append_opt(m, row.notify_before);
  }
  return key.mac(m);
}

Mac head_row_mac(const HmacKey& key, ByteView store_id, std::string_view scope_address,
                 std::string_view name, ByteView uid, std::int64_t head_version,
                 UnixMillis created_at) {
  Bytes m = message_start(kLabelHeadRow, store_id);
  append_identity(m, scope_address, name, uid);
  append_int(m, head_version);
  append_int(m, created_at);
  return key.mac(m);
}

ScopeDigest& ScopeDigest::operator^=(const ScopeDigest& other) {
  for (std::size_t i = 0; i < bytes.size(); ++i) bytes[i] ^= other.bytes[i];
  return *this;
}

ScopeDigest member_prf(const HmacKey& key, ByteView store_id, std::string_view scope_address,
                       std::string_view name, ByteView uid, std::int64_t head_version) {
  Bytes m = message_start(kLabelScopeMember, store_id);
  append_identity(m, scope_address, name, uid);
  append_int(m, head_version);
  return ScopeDigest{key.mac(m)};
}

Mac scope_row_mac(const HmacKey& key, ByteView store_id, std::string_view scope_address,
                  const ScopeRowFields& row) {
  Bytes m = message_start(kLabelScopeRow, store_id);
  append_lp(m, scope_address);
  append_int(m, row.members);
  append_raw(m, row.digest.bytes);
  append_lp(m, row.next);
  append_int(m, row.change_counter);
  return key.mac(m);
}

Mac change_counter_mac(const HmacKey& key, ByteView store_id, std::int64_t change_counter) {
  Bytes m = message_start(kLabelChangeCounter, store_id);
  append_int(m, change_counter);
  return key.mac(m);
}

bool mac_equal(const Mac& expected, ByteView stored) {
  return constant_time_equal(expected, stored);
}

}  // namespace lockbox::store
