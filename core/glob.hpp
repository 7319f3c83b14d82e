#pragma once
// Shell-style glob matching with `*` (any run of characters, `/` and `:` included) and `?` (any
// one character); no character classes, no escapes. Used for policy secret patterns and audit
// target filters. O(pattern * text) at worst, never exponential.
// Thread-safety: pure.

#include <string_view>

namespace lockbox {

bool glob_match(std::string_view pattern, std::string_view text);

}  // namespace lockbox
