#pragma once
// Internal to the api module: who may open a connection (issue 13: one client holding every slot
// with idle keep-alive connections). Counts open connections in total, per client address (IPv6
// per /64, as AuthLimiter) and those that have not yet carried a valid token:
// - beyond max_connections, or beyond per_address connections from one address that have not
//   authenticated: refused (503 and close). A connection leaves its address's count when it
//   carries a valid token, so idle anonymous connections cannot lock out the runtimes that share
//   their address (every function on a host connects from 127.0.0.1);
// - when the connections not yet authenticated fill all but reserved_for_authenticated slots
//   (at most a quarter of max_connections), a
//   new one is admitted on probation: it is closed after its first response unless that request
//   authenticated, so runtimes with tokens still get in;
// - from pressure_connections open, the server shortens the idle timeout of connections that
//   have not authenticated (HttpServer).
// Thread-safety: every method may be called from any thread.

#include <cstddef>
#include <mutex>
#include <string>
#include <unordered_map>

namespace lockbox::api::internal {

struct ConnectionLimits {
  std::size_t max_connections = 512;
  std::size_t per_address = 64;
  std::size_t reserved_for_authenticated = 128;
  std::size_t pressure_connections = 384;
};

class ConnectionTable {
 public:
  enum class Admission { kRefused, kAdmitted, kProbation };

  explicit ConnectionTable(ConnectionLimits limits) : limits_(limits) {}

  // Decides on a new connection from `peer` and, unless refused, counts it (unauthenticated).
  Admission admit(const std::string& peer);
  // A counted connection from `peer` carried a valid token. Call once per connection.
  void authenticated(const std::string& peer);
  // A counted connection closed.
  void release(const std::string& peer, bool was_authenticated);
  [[nodiscard]] bool under_pressure() const;
  [[nodiscard]] std::size_t open() const;

 private:
  void forget_one(const std::string& key);  // REQUIRES: mu_ held

  const ConnectionLimits limits_;
  mutable std::mutex mu_;
  std::size_t open_ = 0;
  std::size_t unauthenticated_ = 0;
  std::unordered_map<std::string, std::size_t> per_key_;  // not yet authenticated, per address
};

}  // namespace lockbox::api::internal
