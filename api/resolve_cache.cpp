#include "api/resolve_cache.hpp"

namespace lockbox::api {

std::optional<ResolveCache::Entry> ResolveCache::find(const std::string& key, std::int64_t counter,
                                                      UnixMillis now) {
  std::lock_guard lock(mu_);
  auto it = slots_.find(key);
  if (it == slots_.end()) return std::nullopt;
  const Entry& e = it->second.entry;
  const bool too_old = now < e.computed_at || now - e.computed_at >= kMaxAgeMs;
  if (e.counter != counter || (e.valid_until && *e.valid_until <= now) || too_old) {
    bytes_ -= e.body.size();
    lru_.erase(it->second.position);
    slots_.erase(it);
    return std::nullopt;
  }
  lru_.splice(lru_.begin(), lru_, it->second.position);
  return Entry{e.counter, e.valid_until, e.body.clone(), e.audit_detail, e.secrets, e.computed_at};
}

void ResolveCache::put(const std::string& key, Entry entry) {
  if (max_entries_ == 0 || entry.body.size() > max_bytes_) return;
  std::lock_guard lock(mu_);
  if (auto it = slots_.find(key); it != slots_.end()) {
    bytes_ -= it->second.entry.body.size();
    lru_.erase(it->second.position);
    slots_.erase(it);
  }
  while (!slots_.empty() &&
         (slots_.size() >= max_entries_ || bytes_ + entry.body.size() > max_bytes_)) {
    evict_one();
  }
  bytes_ += entry.body.size();
  lru_.push_front(key);
  slots_.emplace(key, Slot{std::move(entry), lru_.begin()});
}

void ResolveCache::clear() {
  std::lock_guard lock(mu_);
  slots_.clear();
  lru_.clear();
  bytes_ = 0;
}

std::size_t ResolveCache::size() {
  std::lock_guard lock(mu_);
  return slots_.size();
}

void ResolveCache::evict_one() {
  auto it = slots_.find(lru_.back());
  bytes_ -= it->second.entry.body.size();
  slots_.erase(it);
  lru_.pop_back();
}

}  // namespace lockbox::api
