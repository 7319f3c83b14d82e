#pragma once
// Printing a resolution (resolve, run --dry-run): names, final variables, winning origins and
// versions; never values. JSON (exact, SPEC §5): an array of {name, env, scope, version} where an
// override has scope "env-file:<path>" or "host" and version null.

#include "resolver/resolver.hpp"

namespace lockbox::cli {

void print_resolution(const resolver::Resolution& resolution, bool json);

}  // namespace lockbox::cli
