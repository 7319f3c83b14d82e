#pragma once
// ChangeListener: the push half of SPEC §11 for `lockbox serve`. A thread with its own Store waits
// for the store's change signal (PostgreSQL: LISTEN lockbox_changes; SQLite: the MACed change
// counter, read every 100 ms) and calls on_change once per observed move of the counter, so a
// replica drops the resolve answers computed before a write through another replica or the CLI at
// once instead of keeping their plaintext until the next request notices.
//
// Correctness does not depend on it: every resolve reads the counter itself
// (api/resolve_cache.hpp), so a lost notification costs memory hygiene, never a stale answer. A
// store that cannot be opened or read is retried every second with one log line per failure streak.
// Thread-safety: start() and stop() from one thread; on_change runs on the listener's thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <thread>

#include "core/status.hpp"
#include "store/store.hpp"

namespace lockbox::api {

struct ChangeListenerConfig {
  std::function<Result<std::unique_ptr<store::Store>>()> open_store;  // REQUIRED
  std::function<void(std::int64_t counter)> on_change;                // REQUIRED
  std::int64_t slice_ms = 250;  // how long one wait lasts: bounds how long stop() takes
};

class ChangeListener {
 public:
  explicit ChangeListener(ChangeListenerConfig config) : config_(std::move(config)) {}
  ~ChangeListener() { stop(); }
  ChangeListener(const ChangeListener&) = delete;
  ChangeListener& operator=(const ChangeListener&) = delete;

  // Opens the listener's store and reads the counter before returning (so every write committed
  // after start() is reported), then waits on a thread.
  void start();
  void stop();

 private:
  void loop(std::unique_ptr<store::Store> store, std::optional<std::int64_t> seen);

  ChangeListenerConfig config_;
  std::atomic<bool> stopping_{false};
  std::thread thread_;
};

}  // namespace lockbox::api
