#pragma once
// AuthLimiter: SPEC §8's 429 on too many failed authentications from one address. Each address
// gets a fixed window: after `max_failures` failures within `window`, every failing attempt from
// that address is answered 429 (with Retry-After, and not audited) until the window that began
// with its first failure ends; requests with a valid token still pass (ApiService). Successful
// requests do not reset the count. IPv6 addresses count per /64 (one host usually owns the whole
// prefix). The table is bounded: when full, expired entries go first, then the oldest.
//
// Besides, a global budget: after `global_max_failures` failures from all addresses together
// within a window (one that began with the first failure after the last window ended), every
// failing attempt from any address is 429 until that window ends. Many addresses (a /8 of
// loopback, a botnet) therefore cannot turn failures into more than global_max_failures audit
// records (and fsyncs) a window: the refused attempts are counted in metrics, not audited one by
// one (the failure that exhausts the budget is audited, saying so).
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
  // What a counted failure did.
  enum class Effect { kNone, kBlocksAddress, kExhaustsBudget };

  AuthLimiter(int max_failures, std::int64_t window_ms, std::size_t max_addresses = 65536,
              int global_max_failures = 100);

  // 0 when `address` may try; otherwise the seconds until it may try again (Retry-After), for
  // its own block or the global one, whichever ends later.
  std::int64_t blocked_for(const std::string& address, UnixMillis now);
  // Counts a failure; says when this failure is the one that starts the address's block or the
  // global one (audit it once, saying so).
  Effect record_failure(const std::string& address, UnixMillis now);

 private:
  struct Entry {
    UnixMillis window_start = 0;
    int failures = 0;
  };
  void evict(UnixMillis now);

  int max_failures_;
  int global_max_failures_;
  Entry global_;
  std::int64_t window_ms_;
  std::size_t max_addresses_;
  std::mutex mu_;
  std::unordered_map<std::string, Entry> entries_;
};

}  // namespace lockbox::api
