#pragma once
// SecretValue: the only type that holds plaintext secret bytes.
// - owns its bytes on the heap and wipes them (OPENSSL_cleanse) when destroyed or reassigned;
// - has no operator<<, no fmt formatter and no implicit conversion: the one way to read it is the
//   grep-able reveal(), so every place that touches plaintext is visible in review;
// - move-only; copy explicitly with clone().
// Thread-safety: like std::string (distinct objects may be used concurrently).

#include <cstddef>
#include <cstdint>
#include <string_view>

namespace lockbox {

class SecretValue {
 public:
  SecretValue() = default;
  explicit SecretValue(std::string_view bytes);
  ~SecretValue();
  SecretValue(SecretValue&& other) noexcept;
  SecretValue& operator=(SecretValue&& other) noexcept;
  SecretValue(const SecretValue&) = delete;
  SecretValue& operator=(const SecretValue&) = delete;

  // The plaintext. The view is valid until this object is changed or destroyed.
  [[nodiscard]] std::string_view reveal() const { return {data_, size_}; }
  [[nodiscard]] std::size_t size() const { return size_; }
  [[nodiscard]] bool empty() const { return size_ == 0; }
  [[nodiscard]] SecretValue clone() const { return SecretValue(reveal()); }

  // Appends bytes, growing the buffer; the old buffer is wiped before it is freed.
  void append(std::string_view bytes);
  // Writable access for decryption: resize (wiping) to n bytes, return the buffer.
  std::uint8_t* resize_for_write(std::size_t n);
  void clear();

  // Constant-time equality (length is not hidden).
  [[nodiscard]] bool equals(const SecretValue& other) const;

 private:
  void reserve_exact(std::size_t capacity);
  char* data_ = nullptr;
  std::size_t size_ = 0;
  std::size_t capacity_ = 0;
};

// Wipes a byte range (OPENSSL_cleanse); for std::string buffers that briefly held secret bytes.
void wipe(void* data, std::size_t n);

}  // namespace lockbox
