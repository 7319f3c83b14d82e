#include "cli/policy_source.hpp"

#include <system_error>

#include "policies/policy_loader.hpp"

namespace lockbox::cli {

std::optional<std::filesystem::path> policy_path(const GlobalOptions& globals) {
  if (globals.builtin_policy) return std::nullopt;
  if (!globals.policy_file.empty()) return std::filesystem::path(globals.policy_file);
  std::error_code ec;
  if (std::filesystem::exists("lockbox.yaml", ec)) return std::filesystem::path("lockbox.yaml");
  return std::nullopt;
}

Result<policies::Policy> load_policy(const GlobalOptions& globals) {
  const auto path = policy_path(globals);
  if (!path) return policies::Policy{};
  return policies::load_policy_file(*path);
}

}  // namespace lockbox::cli
