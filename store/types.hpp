#pragma once
// Plain data types of the store interface (no backend type anywhere).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/scope.hpp"
#include "core/secret_value.hpp"

namespace lockbox::store {

// Limits of SPEC §10 (policy `limits` can lower or raise max_value_bytes later).
struct Limits {
  std::size_t max_value_bytes = 64 * 1024;
  std::size_t max_description_bytes = 1024;
  std::size_t max_tags = 32;
};

// Metadata of one version of a secret (never the value).
struct SecretMeta {
  Scope scope;
  std::string name;
  std::int64_t version = 0;  // 1-based
  std::string fingerprint;   // 16 hex chars; empty for a tombstone
  std::string description;
  std::vector<std::string> tags;
  std::map<std::string, std::string> metadata;
  std::optional<UnixMillis> expires_at;
  UnixMillis created_at = 0;  // the secret's first version's time
  UnixMillis updated_at = 0;  // this version's time
  std::string actor;          // who wrote this version
  bool tombstone = false;
  std::uint32_t key_id = 0;  // DEK that encrypts this version (0 for a tombstone)
  std::int64_t row_rev = 0;  // compare-and-swap revision of the version row
  // Only with ListFilter::keep_damaged: why this secret's head version is damaged or fails
  // authentication (a one-line message naming it); scope and name are set, nothing else is.
  std::string damaged;
  // Rotation reminder (SPEC §13), carried to the next version like the description: rotate every
  // `rotate_every_ms`, warned `notify_before_ms` ahead. Unset: no reminder.
  std::optional<std::int64_t> rotate_every_ms;
  std::optional<std::int64_t> notify_before_ms;

  // When the reminder falls due: this version's time + rotate_every - notify_before (nullopt
  // without a reminder or for a tombstone).
  [[nodiscard]] std::optional<UnixMillis> rotation_due_at() const {
    if (tombstone || !rotate_every_ms) return std::nullopt;
    return updated_at + *rotate_every_ms - notify_before_ms.value_or(0);
  }
  [[nodiscard]] bool rotation_due(UnixMillis now) const {
    const auto at = rotation_due_at();
    return at && now >= *at;
  }
};

struct SecretAddress {
  Scope scope;
  std::string name;
  [[nodiscard]] std::string reference() const { return scope.address() + "/" + name; }
};

// A write of a new version. Fields left unset keep the previous version's description, tags and
// metadata; expires_at belongs to a version and is NOT carried over.
struct SetRequest {
  SecretAddress address;
  SecretValue value;
  std::optional<std::string> description;
  std::optional<std::vector<std::string>> tags;
  std::optional<std::map<std::string, std::string>> metadata;
  std::optional<UnixMillis> expires_at;
  // When set, the write fails with kRuntime-free conflict (kBadInput "version conflict") unless
  // the current version equals it (0 = the secret must not exist).
  std::optional<std::int64_t> expected_version;
  // Rotation reminder: unset keeps the previous version's; 0 clears it (rotate_every clears both).
  // notify_before needs a rotate_every (given or kept) greater than it.
  std::optional<std::int64_t> rotate_every_ms;
  std::optional<std::int64_t> notify_before_ms;
};

enum class WriteOutcome { kCreated, kUpdated, kUnchanged };

struct ListFilter {
  std::optional<Scope> scope;
  std::optional<ScopeKind> kind;
  std::optional<std::string> ns;  // namespace:NS and function:NS/* scopes
  std::optional<std::string> tag;
  bool include_deleted = false;
  // A secret whose head version is damaged or fails authentication comes back with
  // SecretMeta::damaged set instead of failing the whole list (the CLI's `secrets list` names it
  // and lists the others, SPEC §10). A scope that fails still fails the list.
  bool keep_damaged = false;
};

struct ImportEntry {
  std::string name;
  SecretValue value;
};

struct ImportSummary {
  std::size_t created = 0;
  std::size_t updated = 0;
  std::size_t unchanged = 0;
};

struct RevealedSecret {
  SecretMeta meta;
  SecretValue value;
};

// An API token as stored (never its secret part). `id` is the public part of lbx_<id>_<secret>.
struct TokenInfo {
  std::string id;
  std::string name;
  std::string role;
  UnixMillis created_at = 0;
  std::string created_by;
  std::optional<UnixMillis> expires_at;
  std::optional<UnixMillis> revoked_at;
  // False when the row fails authentication (edited, inserted or damaged without the master
  // key): such a token is refused, and `tokens list` and `doctor` report it.
  bool authentic = true;
};

// A token just created: `token` is the whole `lbx_<id>_<secret>`, shown once and never stored.
struct NewToken {
  TokenInfo info;
  SecretValue token;
};

}  // namespace lockbox::store
