#pragma once
// Byte strings and the injective encodings of CRYPTO.md: LP(s) = u32be(len(s)) || s.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace lockbox::store {

using Bytes = std::vector<std::uint8_t>;
using ByteView = std::span<const std::uint8_t>;

inline ByteView as_bytes(std::string_view s) {
  return {reinterpret_cast<const std::uint8_t*>(s.data()), s.size()};
}
void append_u32be(Bytes& out, std::uint32_t v);
void append_u64be(Bytes& out, std::uint64_t v);
void append_raw(Bytes& out, ByteView bytes);
// LP(s): u32be length then the bytes.
void append_lp(Bytes& out, ByteView bytes);
inline void append_lp(Bytes& out, std::string_view s) { append_lp(out, as_bytes(s)); }
std::uint32_t read_u32be(const std::uint8_t* p);

std::string to_hex(ByteView bytes);
// True when `text` holds only 0-9 a-f (the canonical form of tokens and audit checkpoints).
inline bool is_lower_hex(std::string_view text) {
  return text.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}
// Lower- or upper-case hex; empty optional-like result via bool.
bool from_hex(std::string_view hex, Bytes& out);

}  // namespace lockbox::store
