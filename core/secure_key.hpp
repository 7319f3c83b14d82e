#pragma once
// SecureKey: exactly 32 bytes of key material on OpenSSL's secure heap (mlocked, guarded, wiped
// on free). Non-copyable; move-only. No printing. Call init_secure_heap() once at start.
// Thread-safety: distinct objects may be used concurrently.

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

namespace lockbox {

// Initialises OpenSSL's secure heap (idempotent). Returns false when it cannot be set up, in
// which case SecureKey falls back to the normal heap (still wiped on free).
bool init_secure_heap();

class SecureKey {
 public:
  static constexpr std::size_t kSize = 32;

  SecureKey();  // all-zero key
  explicit SecureKey(std::span<const std::uint8_t> bytes);  // REQUIRES: bytes.size() == kSize
  ~SecureKey();
  SecureKey(SecureKey&& other) noexcept;
  SecureKey& operator=(SecureKey&& other) noexcept;
  SecureKey(const SecureKey&) = delete;
  SecureKey& operator=(const SecureKey&) = delete;

  [[nodiscard]] const std::uint8_t* data() const { return data_; }
  [[nodiscard]] std::uint8_t* mutable_data() { return data_; }
  [[nodiscard]] std::span<const std::uint8_t> bytes() const { return {data_, kSize}; }
  [[nodiscard]] SecureKey clone() const { return SecureKey(bytes()); }
  // Constant-time comparison.
  [[nodiscard]] bool equals(const SecureKey& other) const;

 private:
  std::uint8_t* data_ = nullptr;
};

}  // namespace lockbox
