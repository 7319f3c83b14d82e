#include "policies/policy.hpp"

namespace lockbox::policies {

const std::vector<ScopeKind>& Policy::resolution_for(const std::string& ns) const {
  if (auto it = namespaces.find(ns); it != namespaces.end() && it->second.resolution) {
    return *it->second.resolution;
  }
  return resolution;
}

EnvOverride Policy::env_override_for(const std::string& ns) const {
  if (auto it = namespaces.find(ns); it != namespaces.end()) return it->second.env_override;
  return EnvOverride::kAllow;
}

}  // namespace lockbox::policies
