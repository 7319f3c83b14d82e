#pragma once
// The policy file (SPEC §9) as plain validated structs. No YAML type leaves this module: the
// loader (policy_loader.hpp) turns a file into a Policy or an error with file:line:column.
// Every field has the SPEC default, so a missing file behaves like an empty one.

#include <cstdint>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/scope.hpp"

namespace lockbox::policies {

enum class NameTransform { kKeep, kPosix };       // inject.name_transform
enum class OnExpired { kSkip, kFail };            // inject.on_expired
enum class EnvOverride { kAllow, kWarn, kDeny };  // namespaces.<ns>.env_override

inline constexpr std::int64_t kDayMs = 86'400'000;

struct InjectPolicy {
  std::string prefix = "FLUXBASE_SECRET_";  // [A-Za-z_][A-Za-z0-9_]* or empty
  NameTransform name_transform = NameTransform::kKeep;
  OnExpired on_expired = OnExpired::kSkip;
};

struct LimitsPolicy {
  std::size_t max_value_bytes = 64 * 1024;
};

struct RotationPolicy {
  std::int64_t data_key_max_age_ms = 90 * kDayMs;
  std::int64_t secret_max_age_ms = 180 * kDayMs;
  std::int64_t notify_before_ms = 7 * kDayMs;
};

struct NamespacePolicy {
  EnvOverride env_override = EnvOverride::kAllow;
  std::optional<std::vector<ScopeKind>> resolution;  // overrides Policy::resolution
};

// A function or a job (jobs add retries).
struct FunctionPolicy {
  std::string name;
  std::optional<std::string> ns;         // `namespace:`; launches default to "default"
  std::vector<std::string> command;      // exactly as written: never rewritten (SPEC §9)
  // Where the policy's command runs: `workdir` resolved against the policy file's directory, or
  // that directory itself; empty for the built-in policy (the invoker's directory).
  std::filesystem::path workdir;
  std::optional<std::int64_t> timeout_ms;
  std::optional<std::vector<std::string>> secrets;  // glob allow-list; nullopt = everything
  std::vector<std::string> require;
  int retries = 0;                       // jobs only
};

// Permissions of a role: scope patterns per permission (SPEC §8).
struct RolePolicy {
  std::vector<std::string> read, write, del, reveal, resolve;  // `delete:` is stored in del
};

struct Policy {
  int version = 1;
  std::vector<ScopeKind> resolution = {ScopeKind::kApikey, ScopeKind::kGroup, ScopeKind::kFunction,
                                       ScopeKind::kNamespace, ScopeKind::kGlobal};
  InjectPolicy inject;
  LimitsPolicy limits;
  RotationPolicy rotation;
  std::map<std::string, NamespacePolicy> namespaces;
  std::map<std::string, FunctionPolicy> functions;
  std::map<std::string, FunctionPolicy> jobs;
  std::map<std::string, RolePolicy> roles;
  std::filesystem::path source;  // the file it came from; empty for the built-in defaults

  // The resolution order for `ns` (its own if set, else the global one).
  [[nodiscard]] const std::vector<ScopeKind>& resolution_for(const std::string& ns) const;
  // env_override for `ns` (kAllow when the namespace has no entry).
  [[nodiscard]] EnvOverride env_override_for(const std::string& ns) const;
};

}  // namespace lockbox::policies
