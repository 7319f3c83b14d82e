#pragma once
// Which policy applies (SPEC §5 global options): --policy FILE (or LOCKBOX_POLICY), else
// ./lockbox.yaml when present, else the built-in defaults of policy.hpp.

#include <filesystem>
#include <optional>

#include "cli/command.hpp"
#include "core/status.hpp"
#include "policies/policy.hpp"

namespace lockbox::cli {

// The policy file to read, or nullopt when none is given and ./lockbox.yaml is absent.
std::optional<std::filesystem::path> policy_path(const GlobalOptions& globals);

// Loads the applicable policy (kBadInput FILE:LINE:COLUMN on errors; a given file that is missing
// is an error, an absent ./lockbox.yaml is not).
Result<policies::Policy> load_policy(const GlobalOptions& globals);

}  // namespace lockbox::cli
