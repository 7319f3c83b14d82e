// Row integrity MACs (store/row_auth.hpp). The golden vectors are a persistent format: once shipped
// they never change, or stored rows would stop verifying.
//
// The expected hex was computed independently of the C++ writer, from the byte layout documented in
// row_auth.hpp, with the python3 script below (STORE_ID, AUDIT, UID1, UID2 are kStoreId, kAuditKey,
// kUid1, kUid2; xor is bytewise). The HKDF line was also checked with the openssl CLI:
//   openssl kdf -keylen 32 -kdfopt digest:SHA256 -kdfopt hexkey:<AUDIT> -kdfopt hexsalt:<STORE_ID>
//     -kdfopt hexinfo:000000136c6f636b626f782f76312f726f772d61757468 HKDF
// clang-format off
//   import hmac, hashlib, struct
//   H = lambda k, m: hmac.new(k, m, hashlib.sha256).digest()
//   LP = lambda b: struct.pack('>I', len(b)) + (b.encode() if isinstance(b, str) else b)
//   I = lambda v: struct.pack('>q', v)
//   O = lambda v: b'\0' if v is None else b'\1' + I(v)
//   L = lambda xs: struct.pack('>I', len(xs)) + b''.join(LP(x) for x in xs)
//   M = lambda d: struct.pack('>I', len(d)) + b''.join(LP(k) + LP(d[k]) for k in sorted(d))
//   sid = bytes.fromhex(STORE_ID); audit = bytes.fromhex(AUDIT)
//   key = H(H(sid, audit), LP('lockbox/v1/row-auth') + b'\1')          # HKDF, 32 bytes
//   msg = lambda label, body: H(key, LP(label) + LP(sid) + body)
//   th = msg('lockbox/v1/token-secret', LP('a1b2c3d4e5f60718') + LP('s3cr3t-part'))
//   tok = (LP('a1b2c3d4e5f60718') + LP('ci-deploy') + LP('admin') + LP(th) + I(1700000000000)
//         + LP('cli:alice'))
//   TOKEN_ROW = msg('lockbox/v1/token-row', tok + O(1800000000000) + O(None))
//   TOKEN_ROW_REVOKED = msg('lockbox/v1/token-row', tok + O(None) + O(1710000000000))
//   ident = LP('namespace:production') + LP('DB_PASSWORD') + LP(UID1)
//   VERSION = msg('lockbox/v1/version-row', ident + I(3) + b'\0' + LP('ff56005238fc0a2d')
//         + LP('primary db') + L(['prod', 'db']) + M({'tier': '1', 'owner': 'team-a'})
//         + O(1767225600000) + I(1700000000000) + LP('cli:alice'))
//   TOMBSTONE = msg('lockbox/v1/version-row', ident + I(4) + b'\1' + LP('') + LP('') + L([])
//         + M({}) + O(None) + I(1700000100000) + LP('cli:bob'))
//   HEAD = msg('lockbox/v1/head-row', ident + I(3) + I(1690000000000))
//   PRF1 = msg('lockbox/v1/scope-member', ident + I(3))
//   PRF2 = msg('lockbox/v1/scope-member', LP('namespace:production') + LP('API_KEY') + LP(UID2)
//         + I(1))
//   DIGEST = xor(PRF1, PRF2)
//   SCOPE = msg('lockbox/v1/scope-row', LP('namespace:production') + I(2) + DIGEST
//         + LP('namespace:staging') + I(42))
//   SENTINEL = msg('lockbox/v1/scope-row', LP('') + I(0) + bytes(32) + LP('') + I(0))
//   COUNTER = msg('lockbox/v1/change-counter', I(42))
// clang-format on

#include "store/row_auth.hpp"

#include <catch2/catch.hpp>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "store/key_schedule.hpp"
#include "tests/store/crypto_test_util.hpp"

namespace lockbox::store {
namespace {

using testing::hex;
using testing::hex_of;
using testing::key_from_hex;

constexpr const char* kAuditKey =
    "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f";
constexpr const char* kStoreId = "4c4f434b424f582d4944000000000001";
constexpr const char* kUid1 = "11111111222233334444555555555555";
constexpr const char* kUid2 = "66666666777788889999aaaaaaaaaaaa";
constexpr const char* kScope = "namespace:production";
constexpr const char* kRowAuthKey =
    "b8fd0a33568b96198180ee35f1e3ea7af17d1d1f312c980369224061f4c5df87";
constexpr const char* kTokenHash =
    "4e6f3090fef9f85ff71120793ce543e8b14b89c2955a34905e3ae28a170388db";
constexpr const char* kSha256OfSecret =
    "77d57ee034f2c6804997804eaaf5dfb73e5519f6f03ac328ade4f056263f9bcb";
constexpr const char* kTokenRow =
    "71e686070cc36dd5aa2c1365aa1562c59668fa577190a72bea7053f506336605";
constexpr const char* kTokenRowRevoked =
    "3e31e2298751b75e638b9ba6954194d6caf62c98671c33998597115b27144a9a";
constexpr const char* kVersion = "09fd243e5003507f98f49ed05f582230cfe466d9d94f76618cc3c49874e0c5e7";
constexpr const char* kTombstone =
    "4cde3b82ca38f6c46147e32da58553758dc150236de7489d89eee0c216a0ae89";
constexpr const char* kHead = "8156d7e673480ca8e4cc66db62c7f8ff95fb2d2ff84e1c563caba8eaa860e3ff";
constexpr const char* kPrf1 = "78dba8f713c7c36fa471b503d3c2a944d12419e327c7180ebcab0bf5c604da25";
constexpr const char* kDigest = "e3ec742fe760bebaccecd39770c2bb197f0a0830e70c5d7b67eac3609fd4b812";
constexpr const char* kScopeRow =
    "f4d66b8535df2c101a6deeb9e731fa0f9b72f737122cae269a895f7cef9e48ad";
constexpr const char* kSentinelRow =
    "1234911662022c315df7931ebdb1c445f85b4a5b9853d860a4aaed3deae5ac7d";
constexpr const char* kCounter = "eb3fc914c4d830f6b996b84db8820c2e8223a3f3016eea5913c6b61b0cb0cedc";

SecureKey row_key() {
  auto key = derive_row_auth_key(key_from_hex(kAuditKey), hex(kStoreId));
  REQUIRE(key.is_ok());
  return std::move(*key);
}

TokenRowFields golden_token(const SecureKey& key) {
  const Mac hash = token_secret_hash(key, hex(kStoreId), "a1b2c3d4e5f60718", "s3cr3t-part");
  return {.id = "a1b2c3d4e5f60718",
          .name = "ci-deploy",
          .role = "admin",
          .secret_hash = Bytes(hash.begin(), hash.end()),
          .created_at = 1700000000000,
          .created_by = "cli:alice",
          .expires_at = 1800000000000,
          .revoked_at = std::nullopt};
}

VersionRowFields golden_version() {
  return {.tombstone = false,
          .fingerprint = "ff56005238fc0a2d",
          .description = "primary db",
          .tags = {"prod", "db"},
          .metadata = {{"tier", "1"}, {"owner", "team-a"}},
          .expires_at = 1767225600000,
          .created_at = 1700000000000,
          .actor = "cli:alice",
          .rotate_every = std::nullopt,  // unset: the MAC is the one rows had before reminders
          .notify_before = std::nullopt};
}

// Applies each mutation to a copy of `base` and checks that every MAC differs from the base's and
// from each other's.
template <typename Fields>
void check_every_change_counts(const Fields& base, const std::function<Mac(const Fields&)>& mac,
                               const std::vector<std::function<void(Fields&)>>& mutations) {
  std::set<std::string> seen{hex_of(mac(base))};
  for (std::size_t i = 0; i < mutations.size(); ++i) {
    Fields changed = base;
    mutations[i](changed);
    INFO("mutation " << i);
    CHECK(seen.insert(hex_of(mac(changed))).second);
  }
}

TEST_CASE("golden vector: the row-auth key derives from the audit key", "[store][row_auth]") {
  CHECK(hex_of(row_key().bytes()) == kRowAuthKey);
}

TEST_CASE("the row-auth key is separate from the audit chain key", "[store][row_auth]") {
  auto chain = derive_audit_chain_key(key_from_hex(kAuditKey), hex(kStoreId));
  REQUIRE(chain.is_ok());
  CHECK(hex_of(chain->bytes()) != kRowAuthKey);
  auto other_store = derive_row_auth_key(key_from_hex(kAuditKey), hex("00" + std::string(30, '1')));
  REQUIRE(other_store.is_ok());
  CHECK(hex_of(other_store->bytes()) != kRowAuthKey);
}

TEST_CASE("golden vector: a token's keyed secret hash, which is not its bare SHA-256",
          "[store][row_auth]") {
  const SecureKey key = row_key();
  const Mac h = token_secret_hash(key, hex(kStoreId), "a1b2c3d4e5f60718", "s3cr3t-part");
  CHECK(hex_of(h) == kTokenHash);
  CHECK(hex_of(sha256(as_bytes("s3cr3t-part"))) == kSha256OfSecret);
  CHECK(hex_of(h) != kSha256OfSecret);
  // Bound to the token id and the key: the same secret under another id or key hashes differently.
  CHECK(hex_of(token_secret_hash(key, hex(kStoreId), "a1b2c3d4e5f60719", "s3cr3t-part")) !=
        kTokenHash);
  CHECK(hex_of(token_secret_hash(key_from_hex(kAuditKey), hex(kStoreId), "a1b2c3d4e5f60718",
                                 "s3cr3t-part")) != kTokenHash);
}

TEST_CASE("golden vector: token row MACs, live and revoked", "[store][row_auth]") {
  const SecureKey key = row_key();
  TokenRowFields row = golden_token(key);
  CHECK(hex_of(token_row_mac(key, hex(kStoreId), row)) == kTokenRow);
  row.expires_at.reset();
  row.revoked_at = 1710000000000;
  CHECK(hex_of(token_row_mac(key, hex(kStoreId), row)) == kTokenRowRevoked);
}

TEST_CASE("golden vector: version row MACs, a value and a tombstone", "[store][row_auth]") {
  const SecureKey key = row_key();
  CHECK(hex_of(version_row_mac(key, hex(kStoreId), kScope, "DB_PASSWORD", hex(kUid1), 3,
                               golden_version())) == kVersion);
  VersionRowFields tomb;  // empty fingerprint, description, tags, metadata; no expiry
  tomb.tombstone = true;
  tomb.created_at = 1700000100000;
  tomb.actor = "cli:bob";
  CHECK(hex_of(version_row_mac(key, hex(kStoreId), kScope, "DB_PASSWORD", hex(kUid1), 4, tomb)) ==
        kTombstone);
}

TEST_CASE("golden vector: head row MAC", "[store][row_auth]") {
  CHECK(hex_of(head_row_mac(row_key(), hex(kStoreId), kScope, "DB_PASSWORD", hex(kUid1), 3,
                            1690000000000)) == kHead);
}

TEST_CASE("golden vector: member PRFs, their XOR digest and the scope row MAC",
          "[store][row_auth]") {
  const SecureKey key = row_key();
  const ScopeDigest p1 = member_prf(key, hex(kStoreId), kScope, "DB_PASSWORD", hex(kUid1), 3);
  const ScopeDigest p2 = member_prf(key, hex(kStoreId), kScope, "API_KEY", hex(kUid2), 1);
  CHECK(hex_of(p1.bytes) == kPrf1);
  ScopeDigest digest;
  digest ^= p1;
  digest ^= p2;
  CHECK(hex_of(digest.bytes) == kDigest);
  CHECK(hex_of(scope_row_mac(key, hex(kStoreId), kScope, {2, digest, "namespace:staging", 42})) ==
        kScopeRow);
  CHECK(hex_of(scope_row_mac(key, hex(kStoreId), "", {})) == kSentinelRow);
}

TEST_CASE("golden vector: the change counter MAC", "[store][row_auth]") {
  CHECK(hex_of(change_counter_mac(row_key(), hex(kStoreId), 42)) == kCounter);
  CHECK(change_counter_mac(row_key(), hex(kStoreId), 41) !=
        change_counter_mac(row_key(), hex(kStoreId), 42));
}

TEST_CASE("every token field changes the token row MAC", "[store][row_auth]") {
  const SecureKey key = row_key();
  const Bytes sid = hex(kStoreId);
  using F = TokenRowFields;
  check_every_change_counts<F>(
      golden_token(key), [&](const F& r) { return token_row_mac(key, sid, r); },
      {[](F& r) { r.id = "a1b2c3d4e5f60719"; }, [](F& r) { r.name = "ci-deplo"; },
       [](F& r) { r.role = "reader"; }, [](F& r) { r.secret_hash[0] ^= 1; },
       [](F& r) { r.created_at += 1; }, [](F& r) { r.created_by = "cli:mallory"; },
       [](F& r) { r.expires_at = *r.expires_at + 1; }, [](F& r) { r.expires_at.reset(); },
       [](F& r) { r.revoked_at = 0; },
       // Moving bytes between adjacent fields is a different message (length prefixes).
       [](F& r) {
         r.name = "ci-deployadmin";
         r.role = "";
       }});
  // The store id is bound too.
  CHECK(token_row_mac(key, hex("00" + std::string(30, '1')), golden_token(key)) !=
        token_row_mac(key, sid, golden_token(key)));
}

TEST_CASE("every version field and identity part changes the version row MAC",
          "[store][row_auth]") {
  const SecureKey key = row_key();
  const Bytes sid = hex(kStoreId);
  using F = VersionRowFields;
  check_every_change_counts<F>(
      golden_version(),
      [&](const F& r) {
        return version_row_mac(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 3, r);
      },
      {[](F& r) { r.tombstone = true; }, [](F& r) { r.fingerprint = "ff56005238fc0a2e"; },
       [](F& r) { r.description = "primary"; },
       [](F& r) {
         r.tags = {"db", "prod"};
       },
       [](F& r) {
         r.tags = {"prodd", "b"};
       },
       [](F& r) { r.tags.pop_back(); }, [](F& r) { r.metadata["tier"] = "2"; },
       [](F& r) { r.metadata.erase("tier"); },
       [](F& r) {
         r.metadata = {{"owner", "team-a1"}, {"tier", ""}};
       },
       [](F& r) { r.expires_at.reset(); }, [](F& r) { r.expires_at = *r.expires_at + 1; },
       [](F& r) { r.created_at -= 1; }, [](F& r) { r.actor = "cli:bob"; }});
  const F v = golden_version();
  const Mac base = version_row_mac(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 3, v);
  CHECK(version_row_mac(key, sid, "namespace:staging", "DB_PASSWORD", hex(kUid1), 3, v) != base);
  CHECK(version_row_mac(key, sid, kScope, "DB_PASSWORD2", hex(kUid1), 3, v) != base);
  CHECK(version_row_mac(key, sid, kScope, "DB_PASSWORD", hex(kUid2), 3, v) != base);
  CHECK(version_row_mac(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 2, v) != base);
}

TEST_CASE("every head and scope row field changes its MAC", "[store][row_auth]") {
  const SecureKey key = row_key();
  const Bytes sid = hex(kStoreId);
  const Mac head = head_row_mac(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 3, 1690000000000);
  CHECK(head_row_mac(key, sid, "namespace:other", "DB_PASSWORD", hex(kUid1), 3, 1690000000000) !=
        head);
  CHECK(head_row_mac(key, sid, kScope, "DB_PASS", hex(kUid1), 3, 1690000000000) != head);
  CHECK(head_row_mac(key, sid, kScope, "DB_PASSWORD", hex(kUid2), 3, 1690000000000) != head);
  CHECK(head_row_mac(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 2, 1690000000000) != head);
  CHECK(head_row_mac(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 3, 1690000000001) != head);

  ScopeDigest d;
  d.bytes[31] = 1;
  const ScopeRowFields row{2, d, "namespace:q", 42};
  const Mac scope = scope_row_mac(key, sid, kScope, row);
  CHECK(scope_row_mac(key, sid, "namespace:other", row) != scope);
  CHECK(scope_row_mac(key, sid, kScope, {3, d, "namespace:q", 42}) != scope);
  CHECK(scope_row_mac(key, sid, kScope, {2, ScopeDigest{}, "namespace:q", 42}) != scope);
  CHECK(scope_row_mac(key, sid, kScope, {2, d, "namespace:r", 42}) != scope);
  CHECK(scope_row_mac(key, sid, kScope, {2, d, "", 42}) != scope);
  CHECK(scope_row_mac(key, sid, kScope, {2, d, "namespace:q", 41}) != scope);
}

TEST_CASE("a member's PRF depends on its scope, name, uid and head version", "[store][row_auth]") {
  const SecureKey key = row_key();
  const Bytes sid = hex(kStoreId);
  const ScopeDigest p = member_prf(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 3);
  CHECK(member_prf(key, sid, "namespace:other", "DB_PASSWORD", hex(kUid1), 3) != p);
  CHECK(member_prf(key, sid, kScope, "DB_PASSWORD_", hex(kUid1), 3) != p);
  CHECK(member_prf(key, sid, kScope, "DB_PASSWORD", hex(kUid2), 3) != p);
  CHECK(member_prf(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 2) != p);
}

TEST_CASE("the scope digest is order-independent and removing a member restores it",
          "[store][row_auth]") {
  const SecureKey key = row_key();
  const Bytes sid = hex(kStoreId);
  std::vector<ScopeDigest> members;
  for (int i = 0; i < 5; ++i) {
    members.push_back(member_prf(key, sid, kScope, "S" + std::to_string(i), hex(kUid1), 1));
  }
  ScopeDigest forward;
  for (const auto& m : members) forward ^= m;
  ScopeDigest backward;
  for (auto it = members.rbegin(); it != members.rend(); ++it) backward ^= *it;
  CHECK(forward == backward);

  const ScopeDigest before = forward;
  const ScopeDigest extra = member_prf(key, sid, kScope, "NEW", hex(kUid2), 1);
  forward ^= extra;
  CHECK(forward != before);
  forward ^= extra;
  CHECK(forward == before);

  // A head change is "remove old member, add new one": the digest moves, and moving back restores.
  ScopeDigest updated = before;
  updated ^= members[2];
  updated ^= member_prf(key, sid, kScope, "S2", hex(kUid1), 2);
  CHECK(updated != before);
  updated ^= member_prf(key, sid, kScope, "S2", hex(kUid1), 2);
  updated ^= members[2];
  CHECK(updated == before);
}

TEST_CASE("the same fields under different labels give different MACs", "[store][row_auth]") {
  const SecureKey key = row_key();
  const Bytes sid = hex(kStoreId);
  // The head row and the member PRF cover the same identity and version; only the label (and the
  // head row's created_at) tells them apart, so a stored head MAC never reveals a member PRF.
  const Mac head = head_row_mac(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 3, 0);
  const ScopeDigest prf = member_prf(key, sid, kScope, "DB_PASSWORD", hex(kUid1), 3);
  CHECK(head != prf.bytes);
  ScopeDigest d;
  std::set<std::string> all{hex_of(head), hex_of(prf.bytes),
                            hex_of(scope_row_mac(key, sid, kScope, {0, d, "", 0})),
                            hex_of(change_counter_mac(key, sid, 0)),
                            hex_of(token_secret_hash(key, sid, kScope, "DB_PASSWORD"))};
  TokenRowFields token;
  all.insert(hex_of(token_row_mac(key, sid, token)));
  all.insert(hex_of(version_row_mac(key, sid, "", "", {}, 0, VersionRowFields{})));
  CHECK(all.size() == 7);
}

TEST_CASE("mac_equal compares in full and refuses other sizes", "[store][row_auth]") {
  const Mac mac = head_row_mac(row_key(), hex(kStoreId), kScope, "DB_PASSWORD", hex(kUid1), 3, 0);
  Bytes stored(mac.begin(), mac.end());
  CHECK(mac_equal(mac, stored));
  stored[31] ^= 0x80;
  CHECK_FALSE(mac_equal(mac, stored));
  stored[31] ^= 0x80;
  stored.pop_back();
  CHECK_FALSE(mac_equal(mac, stored));
  CHECK_FALSE(mac_equal(mac, {}));
}

}  // namespace
}  // namespace lockbox::store
