#include "core/random.hpp"

#include <openssl/rand.h>

#include <climits>

namespace lockbox {

Status OsRandom::fill(std::span<std::uint8_t> out) {
  if (out.empty()) return Status::ok();
  if (out.size() > INT_MAX || RAND_bytes(out.data(), static_cast<int>(out.size())) != 1) {
    return runtime_error("random number generator failed");
  }
  return Status::ok();
}

OsRandom& OsRandom::instance() {
  static OsRandom random;
  return random;
}

}  // namespace lockbox
