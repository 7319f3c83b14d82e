#pragma once
// Positional arguments shared by the secrets commands: NAME (with the scope flags) and VERSION.
// Errors are kBadInput and never echo the argument (a value may have been typed there).

#include <cstdint>
#include <string>

#include "cli/scope_flags.hpp"
#include "core/status.hpp"
#include "store/types.hpp"

namespace lockbox::cli {

// The secret that NAME and the scope flags designate.
Result<store::SecretAddress> secret_address(const ScopeFlags& flags, const std::string& name);

// A VERSION argument: a positive decimal integer.
Result<std::int64_t> parse_version(const std::string& text);

}  // namespace lockbox::cli
