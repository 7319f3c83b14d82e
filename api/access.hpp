#pragma once
// Who may do what through the API (SPEC §8). A token has a role: the built-in `admin` may do
// everything; any other role is a policy role whose permission lists hold scope patterns
// (policies/scope_pattern.hpp). Purge is admin only. Permission is decided before existence:
// a caller without the permission gets 403 whether or not the secret exists.
// Thread-safety: pure.

#include <string>

#include "core/scope.hpp"
#include "policies/policy.hpp"

namespace lockbox::api {

enum class Permission { kRead, kWrite, kDelete, kReveal, kResolve, kPurge };

std::string_view to_string(Permission permission);

struct Principal {
  std::string token_name;
  std::string role;
  const policies::RolePolicy* policy = nullptr;  // null for admin (and for unknown roles)
  [[nodiscard]] bool admin() const { return role == "admin"; }
  // "token:<name>": the actor of the principal's writes and audit records.
  [[nodiscard]] std::string actor() const { return "token:" + token_name; }
};

// The principal of a token with `role` under `policy`. A role the policy no longer defines grants
// nothing (every request 403), so deleting a role from the policy file revokes it.
Principal principal_for(std::string token_name, std::string role, const policies::Policy& policy);

// True when `who` holds `permission` on `scope`.
bool allowed(const Principal& who, Permission permission, const Scope& scope);

// True when `who` holds `permission` on at least one scope pattern (lists: 403 when not).
bool holds_any(const Principal& who, Permission permission);

}  // namespace lockbox::api
