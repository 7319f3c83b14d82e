#pragma once
// Console sessions (SPEC §14): a browser signs in once with an API token and then carries a
// random session id in a cookie. The store keeps, per session, the SHA-256 of its id (never the
// id itself), the SHA-256 of its CSRF token, the API token it was opened with (a wiped
// SecretValue: every request of the session is authenticated again with it, so a revoked or
// expired token ends the session at once) and the time of its last use. Memory only: a restart
// of `serve` signs everybody out.
//
// Ids and CSRF tokens are 32 bytes from RAND_bytes, sent as 64 hex digits; digests are compared
// with CRYPTO_memcmp. A session unused for `idle_ms` is gone, and so is one older than
// kSessionMaxAgeMs however busy. One token holds at most kMaxSessionsPerToken sessions (its oldest
// goes first), so a valid low-privilege token cannot evict everybody else's sessions; the table is
// bounded too: when full, the least recently used session goes.
// Thread-safety: every method may be called from any thread.

#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/secret_value.hpp"

namespace lockbox::api {

// The idle expiry of a console session when `serve --session-idle` does not say otherwise.
inline constexpr std::int64_t kDefaultSessionIdleMs = 30LL * 60 * 1000;  // 30 minutes
inline constexpr std::size_t kDefaultMaxSessions = 4096;
inline constexpr std::int64_t kSessionMaxAgeMs = 12LL * 60 * 60 * 1000;  // 12 hours, however busy
inline constexpr std::size_t kMaxSessionsPerToken = 8;

class SessionStore {
 public:
  struct Issued {
    std::string id;    // for the cookie
    std::string csrf;  // for the X-Lockbox-CSRF header
  };
  enum class Check { kOk, kNoSession, kBadCsrf };

  SessionStore(const Clock& clock, std::int64_t idle_ms = kDefaultSessionIdleMs,
               std::size_t max_sessions = kDefaultMaxSessions);

  // Opens a session for `token` (already authenticated by the caller).
  Issued open(const SecretValue& token);
  // Looks the session up and, when it lives, refreshes its idle timer and copies its token into
  // `token`. The CSRF token must match too (kBadCsrf otherwise, and the session is not
  // refreshed). An expired session is removed (kNoSession).
  Check use(std::string_view id, const std::string& csrf, SecretValue& token);
  // Removes the session (sign-out, or its token was refused). False when there was none.
  bool close(std::string_view id);
  [[nodiscard]] std::size_t size() const;

 private:
  struct Entry {
    std::string csrf_digest;
    std::string token_digest;  // which token opened it (for the per-token cap)
    SecretValue token;
    UnixMillis created = 0;
    UnixMillis last_used = 0;
  };
  [[nodiscard]] bool expired(const Entry& e, UnixMillis now) const;
  void evict_locked(UnixMillis now, const std::string& token_digest);

  const Clock& clock_;
  std::int64_t idle_ms_;
  std::size_t max_sessions_;
  mutable std::mutex mu_;
  std::map<std::string, Entry> sessions_;  // by SHA-256 of the id
};

}  // namespace lockbox::api
