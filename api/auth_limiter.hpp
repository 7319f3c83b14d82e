#pragma once
// AuthLimiter: SPEC §8's 429 on too many failed authentications from one address. Each address
// gets a fixed window: after `max_failures` failures within `window`, every failing attempt from
// that address is answered 429 (with Retry-After, and not audited) until the window that began
// with its first failure ends; requests with a valid token still pass (ApiService). Successful
// requests do not reset the count. IPv6 addresses count per /64 (one host usually owns the whole
// prefix). The table is bounded: when full, expired entries go first, then the oldest.
// Thread-safety: every method may be called from any thread.

#include <cstdint>
#include <mutex>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"

namespace lockbox::api {

// The key a client is counted under: an IPv4 address as it is, an IPv6 address by its /64
// prefix ("2001:db8:1:2::/64"; one host usually owns the whole prefix).
std::string address_key(const std::string& address);

class AuthLimiter {
 public:
  AuthLimiter(int max_failures, std::int64_t window_ms, std::size_t max_addresses = 65536);

  // 0 when `address` may try; otherwise the seconds until it may try again (Retry-After).
  std::int64_t blocked_for(const std::string& address, UnixMillis now);
  // Counts a failure; true when this failure is the one that starts the block (audit it once).
  bool record_failure(const std::string& address, UnixMillis now);

 private:
  struct Entry {
    UnixMillis window_start = 0;
    int failures = 0;
  };
  void evict(UnixMillis now);

  int max_failures_;
  std::int64_t window_ms_;
  std::size_t max_addresses_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace lockbox::api
