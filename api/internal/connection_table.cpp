#include "api/internal/connection_table.hpp"

#include <algorithm>

#include "api/auth_limiter.hpp"

namespace lockbox::api::internal {

ConnectionTable::Admission ConnectionTable::admit(const std::string& peer) {
  const std::string key = address_key(peer);
  std::lock_guard lock(mu_);
  if (open_ >= limits_.max_connections) return Admission::kRefused;
  auto it = per_key_.find(key);
  if (it != per_key_.end() && it->second >= limits_.per_address) return Admission::kRefused;
  // At most a quarter of the slots is reserved, so a small max_connections still serves anyone.
  const std::size_t reserved =
      std::min(limits_.reserved_for_authenticated, limits_.max_connections / 4);
  const bool probation = unauthenticated_ >= limits_.max_connections - reserved;
  ++open_;
  ++unauthenticated_;
  ++per_key_[key];
  return probation ? Admission::kProbation : Admission::kAdmitted;
}

void ConnectionTable::authenticated(const std::string& peer) {
  const std::string key = address_key(peer);
  std::lock_guard lock(mu_);
  if (unauthenticated_ > 0) --unauthenticated_;
  forget_one(key);
}

void ConnectionTable::forget_one(const std::string& key) {
  auto it = per_key_.find(key);
  if (it != per_key_.end() && --it->second == 0) per_key_.erase(it);
}

void ConnectionTable::release(const std::string& peer, bool was_authenticated) {
  const std::string key = address_key(peer);
  std::lock_guard lock(mu_);
  if (open_ > 0) --open_;
  if (was_authenticated) return;  // authenticated() already took it off its address
  if (unauthenticated_ > 0) --unauthenticated_;
  forget_one(key);
}

bool ConnectionTable::under_pressure() const {
  std::lock_guard lock(mu_);
  return open_ >= limits_.pressure_connections;
}

std::size_t ConnectionTable::open() const {
  std::lock_guard lock(mu_);
  return open_;
}

}  // namespace lockbox::api::internal
