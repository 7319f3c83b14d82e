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
  const UnixMillis now = clock_.now();
  Entry entry{digest(issued.csrf), digest(token.reveal()), token.clone(), now, now};
  std::lock_guard lock(mu_);
  evict_locked(now, entry.token_digest);
  sessions_.insert_or_assign(digest(issued.id), std::move(entry));
  return issued;
}

SessionStore::Check SessionStore::use(std::string_view id, const std::string& csrf,
                                      SecretValue& token) {
  const std::string key = digest(id);
  const std::string csrf_key = digest(csrf);
  const UnixMillis now = clock_.now();
  std::lock_guard lock(mu_);
  // The map is keyed by a digest, so its ordered lookup reveals nothing about the id itself.
  auto it = sessions_.find(key);
  if (it == sessions_.end() || !same_digest(it->first, key)) return Check::kNoSession;
  if (expired(it->second, now)) {
    sessions_.erase(it);
    return Check::kNoSession;
  }
  if (!same_digest(it->second.csrf_digest, csrf_key)) return Check::kBadCsrf;
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

bool SessionStore::expired(const Entry& e, UnixMillis now) const {
  return now - e.last_used >= idle_ms_ || now - e.created >= kSessionMaxAgeMs || now < e.created;
}

// Makes room for one more session of `token_digest`: drops expired sessions, then that token's
// oldest while it holds kMaxSessionsPerToken, then the least recently used while the table is full.
void SessionStore::evict_locked(UnixMillis now, const std::string& token_digest) {
  std::size_t of_token = 0;
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    if (expired(it->second, now)) {
      it = sessions_.erase(it);
      continue;
    }
    of_token += it->second.token_digest == token_digest ? 1 : 0;
    ++it;
  }
  const auto drop_oldest = [this](bool same_token_only, const std::string& digest_of) {
    auto oldest = sessions_.end();
    for (auto it = sessions_.begin(); it != sessions_.end(); ++it) {
      if (same_token_only && it->second.token_digest != digest_of) continue;
      if (oldest == sessions_.end() || it->second.last_used < oldest->second.last_used) oldest = it;
    }
    if (oldest != sessions_.end()) sessions_.erase(oldest);
  };
  for (; of_token >= kMaxSessionsPerToken; --of_token) drop_oldest(true, token_digest);
  while (!sessions_.empty() && sessions_.size() >= max_sessions_) drop_oldest(false, token_digest);
}

}  // namespace lockbox::api
