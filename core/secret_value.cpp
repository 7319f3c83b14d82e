#include "core/secret_value.hpp"

#include <openssl/crypto.h>

#include <cstring>
#include <new>
#include <utility>

namespace lockbox {

void wipe(void* data, std::size_t n) {
  if (data != nullptr && n > 0) OPENSSL_cleanse(data, n);
}

SecretValue::SecretValue(std::string_view bytes) { append(bytes); }

SecretValue::~SecretValue() { clear(); }

SecretValue::SecretValue(SecretValue&& other) noexcept
    : data_(std::exchange(other.data_, nullptr)),
      size_(std::exchange(other.size_, 0)),
      capacity_(std::exchange(other.capacity_, 0)) {}

SecretValue& SecretValue::operator=(SecretValue&& other) noexcept {
  if (this != &other) {
    clear();
    data_ = std::exchange(other.data_, nullptr);
    size_ = std::exchange(other.size_, 0);
    capacity_ = std::exchange(other.capacity_, 0);
  }
  return *this;
}

void SecretValue::clear() {
  if (data_ != nullptr) {
    wipe(data_, capacity_);
    delete[] data_;
  }
  data_ = nullptr;
  size_ = capacity_ = 0;
}

void SecretValue::reserve_exact(std::size_t capacity) {
  // Never realloc: copy into a fresh buffer and wipe the old one, so no stale copy survives.
  char* fresh = new char[capacity == 0 ? 1 : capacity];
  if (size_ > 0) std::memcpy(fresh, data_, size_);
  if (data_ != nullptr) {
    wipe(data_, capacity_);
    delete[] data_;
  }
  data_ = fresh;
  capacity_ = capacity;
}

void SecretValue::append(std::string_view bytes) {
  if (bytes.empty()) {
    if (data_ == nullptr) reserve_exact(0);
    return;
  }
  if (size_ + bytes.size() > capacity_) {
    std::size_t want = capacity_ * 2;
    if (want < size_ + bytes.size()) want = size_ + bytes.size();
    reserve_exact(want);
  }
  std::memcpy(data_ + size_, bytes.data(), bytes.size());
  size_ += bytes.size();
}

std::uint8_t* SecretValue::resize_for_write(std::size_t n) {
  clear();
  reserve_exact(n);
  size_ = n;
  return reinterpret_cast<std::uint8_t*>(data_);
}

bool SecretValue::equals(const SecretValue& other) const {
  if (size_ != other.size_) return false;
  if (size_ == 0) return true;
  return CRYPTO_memcmp(data_, other.data_, size_) == 0;
}

}  // namespace lockbox
