#include "api/auth_limiter.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <algorithm>

namespace lockbox::api {
std::string address_key(const std::string& address) {
  in6_addr v6{};
  if (address.find(':') == std::string::npos || ::inet_pton(AF_INET6, address.c_str(), &v6) != 1)
    return address;
  if (IN6_IS_ADDR_V4MAPPED(&v6)) return address;
  std::fill(v6.s6_addr + 8, v6.s6_addr + 16, std::uint8_t{0});
  char text[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET6, &v6, text, sizeof text);
  return std::string(text) + "/64";
}

AuthLimiter::AuthLimiter(int max_failures, std::int64_t window_ms, std::size_t max_addresses,
                         int global_max_failures)
    : max_failures_(max_failures),
      global_max_failures_(global_max_failures),
      window_ms_(window_ms),
      max_addresses_(max_addresses) {}

std::int64_t AuthLimiter::blocked_for(const std::string& peer, UnixMillis now) {
  const std::string address = address_key(peer);
  const auto seconds_until = [now](UnixMillis end) {
    return std::max<std::int64_t>(1, (end - now + 999) / 1000);
  };
  std::lock_guard lock(mu_);
  std::int64_t wait = 0;
  const UnixMillis global_end = global_.window_start + window_ms_;
  if (global_.failures >= global_max_failures_ && now < global_end)
    wait = seconds_until(global_end);
  auto it = entries_.find(address);
  if (it == entries_.end()) return wait;
  const UnixMillis end = it->second.window_start + window_ms_;
  if (now >= end) {
    entries_.erase(it);
    return wait;
  }
  if (it->second.failures < max_failures_) return wait;
  return std::max(wait, seconds_until(end));
}

AuthLimiter::Effect AuthLimiter::record_failure(const std::string& peer, UnixMillis now) {
  const std::string address = address_key(peer);
  std::lock_guard lock(mu_);
  if (global_.failures == 0 || now >= global_.window_start + window_ms_) global_ = Entry{now, 0};
  const bool exhausts = ++global_.failures == global_max_failures_;
  auto it = entries_.find(address);
  if (it != entries_.end() && now >= it->second.window_start + window_ms_) {
    entries_.erase(it);
    it = entries_.end();
  }
  if (it == entries_.end()) {
    if (entries_.size() >= max_addresses_) evict(now);
    it = entries_.emplace(address, Entry{now, 0}).first;
  }
  ++it->second.failures;
  if (it->second.failures == max_failures_) return Effect::kBlocksAddress;
  return exhausts ? Effect::kExhaustsBudget : Effect::kNone;
}

void AuthLimiter::evict(UnixMillis now) {
  std::erase_if(entries_,
                [&](const auto& kv) { return now >= kv.second.window_start + window_ms_; });
  if (entries_.size() < max_addresses_) return;
  auto oldest = std::min_element(
      entries_.begin(), entries_.end(),
      [](const auto& a, const auto& b) { return a.second.window_start < b.second.window_start; });
  entries_.erase(oldest);
}

}  // namespace lockbox::api
