#pragma once
// KeyScheduler: the scheduled work of `lockbox serve` (SPEC §5 "scheduled key rotation", issue 6):
// every `interval`, when the active data key is older than `rotation.data_key_max_age`, rotate it
// (compare-and-swap on the active key, so a CLI `keys rotate` or a second server racing it is
// harmless), then re-encrypt in the background; re-encryption also runs at start and after every
// check while versions remain under old keys (resuming an interrupted run). Every
// `maintenance_interval_ms` it also runs Store::maintenance() (the WAL checkpoint the server's
// connections do not do themselves). Its own Store, on its own thread; stop() wakes it and joins.
// Thread-safety: start() and stop() from one thread.

#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>

#include "core/clock.hpp"
#include "core/status.hpp"
#include "store/store.hpp"

namespace lockbox::api {

struct SchedulerConfig {
  std::function<Result<std::unique_ptr<store::Store>>()> open_store;
  const Clock* clock = nullptr;
  std::int64_t max_age_ms = 0;          // rotation.data_key_max_age
  std::int64_t interval_ms = 3'600'000; // how often to check
  std::int64_t maintenance_interval_ms = 1000;
};

class KeyScheduler {
 public:
  explicit KeyScheduler(SchedulerConfig config);
  ~KeyScheduler();
  KeyScheduler(const KeyScheduler&) = delete;
  KeyScheduler& operator=(const KeyScheduler&) = delete;

  void start();
  void stop();

  // One check (what the thread does every interval): rotate when due, then re-encrypt what is
  // left under old keys. Returns whether a rotation happened.
  static Result<bool> run_once(store::Store& store, const Clock& clock, std::int64_t max_age_ms,
                               const std::function<bool()>& stopping);

 private:
  void loop();

  SchedulerConfig config_;
  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::thread thread_;
};

}  // namespace lockbox::api
