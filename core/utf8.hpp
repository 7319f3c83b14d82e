#pragma once
// Strict UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).

#include <string_view>

namespace lockbox {

bool is_valid_utf8(std::string_view bytes);

}  // namespace lockbox
