#pragma once
// Scope patterns (SPEC §8): what a role's permissions name. A pattern is
//   *                      every scope
//   global                 the global scope
//   apikey:ID  group:ID  namespace:ID  function:NS/FN
// where each identifier segment (ID, NS, FN) is 1-256 characters of the name rule
// [A-Za-z0-9_-] plus `*`, and `*` matches any run of characters within that one segment (never
// `/` or `:`). Examples: `namespace:prod*`, `function:production/*`, `apikey:*`.
// `namespace:X` does not imply `function:X/*`; the kind is never a wildcard.

#include <string_view>

#include "core/scope.hpp"
#include "core/status.hpp"

namespace lockbox::policies {

// True when `pattern` has the shape above.
bool is_valid_scope_pattern(std::string_view pattern);

// kBadInput naming the expected shape when `pattern` is not valid (the pattern is not echoed;
// callers that know it is harmless may echo it with their own position).
Status validate_scope_pattern(std::string_view pattern);

// True when `scope` is one of the scopes `pattern` names: the kinds are equal and each identifier
// segment matches its pattern segment (`*` within that segment only). An invalid pattern matches
// nothing. Role checks of the REST API (SPEC §8) rest on this.
bool scope_pattern_matches(std::string_view pattern, const Scope& scope);

}  // namespace lockbox::policies
