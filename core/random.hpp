#pragma once
// Random: an injected seam for key, nonce and uid generation. OsRandom draws from OpenSSL's
// RAND_bytes (the only production source); tests inject fixed or failing sources to prove that a
// failing RNG fails closed.
// Thread-safety: OsRandom is thread-safe.

#include <cstddef>
#include <cstdint>
#include <span>

#include "core/status.hpp"

namespace lockbox {

class Random {
 public:
  virtual ~Random() = default;
  // Fills `out` entirely or returns a kRuntime error (never partially random data).
  [[nodiscard]] virtual Status fill(std::span<std::uint8_t> out) = 0;
};

class OsRandom final : public Random {
 public:
  [[nodiscard]] Status fill(std::span<std::uint8_t> out) override;
  static OsRandom& instance();
};

}  // namespace lockbox
