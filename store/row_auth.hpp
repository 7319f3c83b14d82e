#pragma once
// Row integrity (SPEC §17): MACs over the rows that decide access or which value is served, and an
// incremental per-scope membership digest. Pure functions; no database code.
//
// Key: row_auth_key = HKDF-SHA256(AUDITKEY, salt=store_id, info=LP("lockbox/v1/row-auth")).
// The audit key is wrapped in the keyring, so nobody without the master key can derive this key,
// and it survives a master-key rewrap unchanged (rewrap stays O(keys), no row is re-MACed). The
// distinct HKDF label separates it from the audit chain key ("lockbox/v1/audit-chain").
//
// NOTE: persistent formats; never renumber a label or change an encoding (add a v2 label instead).
// Every message is HMAC-SHA256(row_auth_key, LP(label) || LP(store_id) || fields...), where
//   LP(x)    = u32be(len(x)) || x            (strings, blobs, uid)
//   int      = u64be(two's complement of the int64)
//   bool     = one byte 0x00 / 0x01
//   opt(int) = 0x00 when absent, else 0x01 || u64be(value)
//   list(s)  = u32be(count) || LP(s_0) || ... || LP(s_n-1)          (in the given order)
//   map(m)   = u32be(count) || LP(k_0) || LP(v_0) || ...             (in std::map key order)
// The labels are distinct and each message starts with LP(label), so no message of one kind can
// be read as another (LP encodings are prefix-free and injective).
//   token row   "lockbox/v1/token-row":   LP(id) LP(name) LP(role) LP(secret_hash) int(created_at)
//                                          LP(created_by) opt(expires_at) opt(revoked_at)
//   token hash  "lockbox/v1/token-secret": LP(token_id) LP(secret)
//   version row "lockbox/v1/version-row": LP(scope) LP(name) LP(uid) int(version) bool(tombstone)
//                                          LP(fingerprint) LP(description) list(tags)
//                                          map(metadata) opt(expires_at) int(created_at) LP(actor)
//   head row    "lockbox/v1/head-row":    LP(scope) LP(name) LP(uid) int(head_version)
//                                          int(created_at)
//   member PRF  "lockbox/v1/scope-member": LP(scope) LP(name) LP(uid) int(head_version)
//   scope row   "lockbox/v1/scope-row":   LP(scope) int(members) digest(32 raw bytes) LP(next)
//                                          int(change_counter)
//   counter     "lockbox/v1/change-counter": int(change_counter)
// A version MAC does not cover key_id or the envelope: the envelope is authenticated by its own
// AAD (scope, name, uid, version), and re-encryption changes both without changing meaning.
//
// Scope membership (XOR-MAC / MSet-XOR-Hash, Bellare-Micciancio): digest = XOR over the scope's
// secrets of member_prf(scope, name, uid, head_version); a write XORs the old member out and the
// new one in, O(1) per write. Why this is sound against someone who can edit rows but has no key:
// - member_prf outputs are never stored anywhere (its label is used for nothing else), so without
//   the key no PRF value is known, and a set of inserted/deleted/changed members whose PRFs XOR to
//   zero cannot be computed (it would need PRF values, or a 2^-256 guess);
// - the stored digest and member count are authenticated by the scope row MAC, so neither can be
//   adjusted to match edited rows;
// - XOR cancels pairs, but the count is bound too: with every real member odd and every other
//   element even in multiplicity and the same total, the multiset must be the original one.
// The reader recomputes the digest from the head rows it reads (a launch already reads them all).
// Scope rows form one chain in byte order of their addresses, starting at the sentinel scope ""
// (no real address is empty): each row names the next scope (`next`, "" at the end) under its
// MAC, like DNSSEC's NSEC records. So the absence of a scope is proved by the row before it
// (`prev.scope < S < prev.next`, or prev is the last), and deleting a scope row together with all
// of its secrets breaks the chain instead of making a launch fall through to a broader scope.
// Adding a scope rewrites its predecessor: O(1). Scope rows are never deleted (an emptied scope
// keeps members 0), so the chain only grows.
// The change counter carries a MAC too, and each scope row the counter of its last write, so an
// engine that has seen a scope row newer than the counter knows the counter was rolled back.
// NOT detected (out of scope, SPEC §0 snapshot rollback): replaying a whole older scope row
// together with all the rows it covers; audit checkpoints detect part of that.
// Thread-safety: pure.

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/secure_key.hpp"
#include "core/status.hpp"
#include "store/bytes.hpp"
#include "store/crypto.hpp"

namespace lockbox::store {

inline constexpr std::string_view kLabelRowAuthKey = "lockbox/v1/row-auth";
inline constexpr std::string_view kLabelTokenRow = "lockbox/v1/token-row";
inline constexpr std::string_view kLabelTokenSecret = "lockbox/v1/token-secret";
inline constexpr std::string_view kLabelVersionRow = "lockbox/v1/version-row";
inline constexpr std::string_view kLabelHeadRow = "lockbox/v1/head-row";
inline constexpr std::string_view kLabelScopeMember = "lockbox/v1/scope-member";
inline constexpr std::string_view kLabelScopeRow = "lockbox/v1/scope-row";
inline constexpr std::string_view kLabelChangeCounter = "lockbox/v1/change-counter";

// From the unwrapped audit key (purpose 'audit'); kRuntime on an OpenSSL failure.
Result<SecureKey> derive_row_auth_key(const SecureKey& audit_key, ByteView store_id);

// The columns of a `tokens` row that its MAC covers (all of them but the MAC itself).
struct TokenRowFields {
  std::string id;
  std::string name;
  std::string role;
  Bytes secret_hash;  // token_secret_hash() as stored
  UnixMillis created_at = 0;
  std::string created_by;
  std::optional<UnixMillis> expires_at;
  std::optional<UnixMillis> revoked_at;
};

Mac token_row_mac(const SecureKey& key, ByteView store_id, const TokenRowFields& row);
// Keyed hash of a token's secret part (replaces the bare SHA-256): a row inserted without the key
// cannot hold the hash of a secret the attacker chose. Compare with mac_equal. The message holds
// the secret and is wiped after use.
Mac token_secret_hash(const SecureKey& key, ByteView store_id, std::string_view token_id,
                      std::string_view secret);

// The columns of a `versions` row that its MAC covers. A tombstone has an empty fingerprint.
struct VersionRowFields {
  bool tombstone = false;
  std::string fingerprint;
  std::string description;
  std::vector<std::string> tags;
  std::map<std::string, std::string> metadata;
  std::optional<UnixMillis> expires_at;
  UnixMillis created_at = 0;
  std::string actor;
  // Rotation reminder (schema v4). MACed only when either is set, so the MACs of rows written
  // before reminders existed stay valid; clearing or adding one changes the MAC.
  std::optional<std::int64_t> rotate_every;
  std::optional<std::int64_t> notify_before;
};

// scope_address, name, uid and version are the *request's* identity (as for the AAD).
Mac version_row_mac(const HmacKey& key, ByteView store_id, std::string_view scope_address,
                    std::string_view name, ByteView uid, std::int64_t version,
                    const VersionRowFields& row);
// The `secrets` row: which version is the head.
Mac head_row_mac(const HmacKey& key, ByteView store_id, std::string_view scope_address,
                 std::string_view name, ByteView uid, std::int64_t head_version,
                 UnixMillis created_at);

// 32-byte XOR accumulator of member PRFs; all-zero is the empty scope.
struct ScopeDigest {
  std::array<std::uint8_t, 32> bytes{};
  // Adds or removes one member (XOR is its own inverse, and order-independent).
  ScopeDigest& operator^=(const ScopeDigest& other);
  // Not constant-time: the digest is not a secret to compare against; verify scope_row_mac.
  bool operator==(const ScopeDigest&) const = default;
};

// The PRF of one member. NEVER store it (per row or anywhere): soundness rests on that.
ScopeDigest member_prf(const HmacKey& key, ByteView store_id, std::string_view scope_address,
                       std::string_view name, ByteView uid, std::int64_t head_version);
// The columns of a `scopes` row that its MAC covers (with its address).
struct ScopeRowFields {
  std::int64_t members = 0;         // how many secrets the scope holds (tombstoned ones included)
  ScopeDigest digest;               // XOR of their member PRFs
  std::string next;                 // the next scope address in the chain, "" for the last row
  std::int64_t change_counter = 0;  // the store's change counter after the scope's last write
};
Mac scope_row_mac(const HmacKey& key, ByteView store_id, std::string_view scope_address,
                  const ScopeRowFields& row);
// The store's change counter (meta), so it cannot be set to a value no write produced.
Mac change_counter_mac(const HmacKey& key, ByteView store_id, std::int64_t change_counter);

// Constant-time comparison of a computed MAC with a stored one (false when sizes differ).
bool mac_equal(const Mac& expected, ByteView stored);

}  // namespace lockbox::store
