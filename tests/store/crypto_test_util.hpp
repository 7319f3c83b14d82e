#pragma once
// Test seams for the crypto tests: scripted and failing Random sources, hex helpers.

#include <cstdint>
#include <cstring>
#include <span>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "core/random.hpp"
#include "core/secure_key.hpp"
#include "core/status.hpp"
#include "store/bytes.hpp"

namespace lockbox::store::testing {

// Hands out the scripted bytes in order; fails (like a broken RNG) once they run out, so a test
// that draws more randomness than it scripted notices.
class FixedRandom final : public Random {
 public:
  explicit FixedRandom(Bytes script) : script_(std::move(script)) {}
  [[nodiscard]] Status fill(std::span<std::uint8_t> out) override {
    if (script_.size() - pos_ < out.size()) return runtime_error("fixed random exhausted");
    std::memcpy(out.data(), script_.data() + pos_, out.size());
    pos_ += out.size();
    return Status::ok();
  }
  [[nodiscard]] std::size_t remaining() const { return script_.size() - pos_; }

 private:
  Bytes script_;
  std::size_t pos_ = 0;
};

class FailingRandom final : public Random {
 public:
  [[nodiscard]] Status fill(std::span<std::uint8_t> out) override {
    // Scribble first: a caller that ignored the error would use these bytes.
    std::memset(out.data(), 0x5a, out.size());
    ++calls_;
    return runtime_error("random number generator failed");
  }
  [[nodiscard]] int calls() const { return calls_; }

 private:
  int calls_ = 0;
};

// Decodes a hex literal of a test vector; an invalid literal is a bug in the test.
inline Bytes hex(std::string_view text) {
  Bytes out;
  if (!from_hex(text, out)) throw std::invalid_argument("bad hex literal in test");
  return out;
}

inline SecureKey key_from_hex(std::string_view text) {
  return SecureKey(hex(text));
}

inline std::string hex_of(ByteView bytes) {
  return to_hex(bytes);
}

}  // namespace lockbox::store::testing
