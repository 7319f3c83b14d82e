#include "api/access.hpp"

#include "policies/scope_pattern.hpp"

namespace lockbox::api {
namespace {

const std::vector<std::string>* patterns_of(const policies::RolePolicy& role, Permission permission) {
  switch (permission) {
    case Permission::kRead: return &role.read;
    case Permission::kWrite: return &role.write;
    case Permission::kDelete: return &role.del;
    case Permission::kReveal: return &role.reveal;
    case Permission::kResolve: return &role.resolve;
    case Permission::kPurge: return nullptr;  // admin only
  }
  return nullptr;
}

}  // namespace

std::string_view to_string(Permission permission) {
  switch (permission) {
    case Permission::kRead: return "read";
    case Permission::kWrite: return "write";
    case Permission::kDelete: return "delete";
    case Permission::kReveal: return "reveal";
    case Permission::kResolve: return "resolve";
    case Permission::kPurge: return "purge";
  }
  return "?";
}

Principal principal_for(std::string token_name, std::string role, const policies::Policy& policy) {
  Principal who{std::move(token_name), std::move(role), nullptr};
  if (!who.admin()) {
    auto it = policy.roles.find(who.role);
    if (it != policy.roles.end()) who.policy = &it->second;
  }
  return who;
}

bool allowed(const Principal& who, Permission permission, const Scope& scope) {
  if (who.admin()) return true;
  if (who.policy == nullptr) return false;
  const auto* patterns = patterns_of(*who.policy, permission);
  if (patterns == nullptr) return false;
  for (const auto& pattern : *patterns) {
    if (policies::scope_pattern_matches(pattern, scope)) return true;
  }
  return false;
}

bool holds_any(const Principal& who, Permission permission) {
  if (who.admin()) return true;
  if (who.policy == nullptr) return false;
  const auto* patterns = patterns_of(*who.policy, permission);
  return patterns != nullptr && !patterns->empty();
}

}  // namespace lockbox::api
