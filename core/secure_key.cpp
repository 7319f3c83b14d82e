#include "core/secure_key.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <utility>

namespace lockbox {

bool init_secure_heap() {
  if (CRYPTO_secure_malloc_initialized() == 1) return true;
  // 64 KiB, minimum allocation 32 bytes: room for a keyring of a few hundred keys.
  return CRYPTO_secure_malloc_init(64 * 1024, 32) == 1;
}

SecureKey::SecureKey() {
  data_ = static_cast<std::uint8_t*>(OPENSSL_secure_zalloc(kSize));
}

SecureKey::SecureKey(std::span<const std::uint8_t> bytes) : SecureKey() {
  std::memcpy(data_, bytes.data(), bytes.size() < kSize ? bytes.size() : kSize);
}

SecureKey::~SecureKey() {
  if (data_ != nullptr) OPENSSL_secure_clear_free(data_, kSize);
}

SecureKey::SecureKey(SecureKey&& other) noexcept : data_(std::exchange(other.data_, nullptr)) {}

SecureKey& SecureKey::operator=(SecureKey&& other) noexcept {
  if (this != &other) {
    if (data_ != nullptr) OPENSSL_secure_clear_free(data_, kSize);
    data_ = std::exchange(other.data_, nullptr);
  }
  return *this;
}

bool SecureKey::equals(const SecureKey& other) const {
  return CRYPTO_memcmp(data_, other.data_, kSize) == 0;
}

}  // namespace lockbox
