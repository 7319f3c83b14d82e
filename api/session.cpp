#include "api/session.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <array>
#include <stdexcept>

namespace lockbox::api {
namespace {

constexpr std::size_t kRandomBytes = 32;

std::string to_hex(const unsigned char* data, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out;
  out.reserve(n * 2);
  for (std::size_t i = 0; i < n; ++i) {
    out.push_back(kDigits[data[i] >> 4]);
    out.push_back(kDigits[data[i] & 0x0f]);
  }
  return out;
}

std::string random_hex() {
  std::array<unsigned char, kRandomBytes> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1) {
    throw std::runtime_error("RAND_bytes failed");  // no entropy: refuse to open a session
  }
  std::string out = to_hex(bytes.data(), bytes.size());
  OPENSSL_cleanse(bytes.data(), bytes.size());
  return out;
}

std::string digest(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
  unsigned int n = 0;
  if (EVP_Digest(text.data(), text.size(), md.data(), &n, EVP_sha256(), nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return std::string(reinterpret_cast<const char*>(md.data()), n);
}

bool same_digest(const std::string& a, const std::string& b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

SessionStore::SessionStore(const Clock& clock, std::int64_t idle_ms, std::size_t max_sessions)
    : clock_(clock), idle_ms_(idle_ms), max_sessions_(max_sessions == 0 ? 1 : max_sessions) {}

SessionStore::Issued SessionStore::open(const SecretValue& token) {
  Issued issued{random_hex(), random_hex()};
  Entry entry{digest(issued.csrf), token.clone(), clock_.now()};
  std::lock_guard lock(mu_);
  evict_locked(entry.last_used);
  sessions_.insert_or_assign(digest(issued.id), std::move(entry));
  return issued;
}

SessionStore::Check SessionStore::use(std::string_view id, const std::string* csrf, SecretValue& token) {
  const std::string key = digest(id);
  const std::string csrf_key = csrf != nullptr ? digest(*csrf) : std::string();
  const UnixMillis now = clock_.now();
  std::lock_guard lock(mu_);
  // The map is keyed by a digest, so its ordered lookup reveals nothing about the id itself.
  auto it = sessions_.find(key);
  if (it == sessions_.end() || !same_digest(it->first, key)) return Check::kNoSession;
  if (now - it->second.last_used >= idle_ms_) {
    sessions_.erase(it);
    return Check::kNoSession;
  }
  if (csrf != nullptr && !same_digest(it->second.csrf_digest, csrf_key)) return Check::kBadCsrf;
  it->second.last_used = now;
  token = it->second.token.clone();
  return Check::kOk;
}

bool SessionStore::close(std::string_view id) {
  const std::string key = digest(id);
  std::lock_guard lock(mu_);
  return sessions_.erase(key) > 0;
}

std::size_t SessionStore::size() const {
  std::lock_guard lock(mu_);
  return sessions_.size();
}

void SessionStore::evict_locked(UnixMillis now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = now - it->second.last_used >= idle_ms_ ? sessions_.erase(it) : std::next(it);
  }
  while (sessions_.size() >= max_sessions_) {
    auto oldest = sessions_.begin();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (it->second.last_used < oldest->second.last_used) oldest = it;
    }
    sessions_.erase(oldest);
  }
}

}  // namespace lockbox::api
