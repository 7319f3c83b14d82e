#include "api/scheduler.hpp"

#include <algorithm>
#include <chrono>

#include "core/log.hpp"

namespace lockbox::api {

KeyScheduler::KeyScheduler(SchedulerConfig config) : config_(std::move(config)) {
  if (config_.clock == nullptr) config_.clock = &process_clock();
}

KeyScheduler::~KeyScheduler() { stop(); }

void KeyScheduler::start() {
  stopping_ = false;
  thread_ = std::thread([this] { loop(); });
}

void KeyScheduler::stop() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

Result<bool> KeyScheduler::run_once(store::Store& store, const Clock& clock, std::int64_t max_age_ms,
                                    const std::function<bool()>& stopping) {
  LOCKBOX_ASSIGN_OR_RETURN(const store::KeyStatus keys, store.key_status());
  bool rotated = false;
  if (max_age_ms > 0 && clock.now() - keys.active_created_at >= max_age_ms) {
    LOCKBOX_ASSIGN_OR_RETURN(const store::RotateResult r,
                             store.rotate_data_key(keys.active_version, "scheduled by lockbox serve"));
    rotated = r.rotated;
    if (r.rotated) log::notice("serve: data key {} rotated (due); key {} is now active", r.previous, r.active);
  }
  LOCKBOX_ASSIGN_OR_RETURN(const store::KeyStatus after, store.key_status());
  std::int64_t pending = 0;
  for (const auto& k : after.keys) {
    if (k.version != after.active_version) pending += k.versions_encrypted;
  }
  if (pending == 0 || stopping()) return rotated;
  store::ReencryptOptions options;
  options.batch_size = 1000;
  LOCKBOX_ASSIGN_OR_RETURN(const store::ReencryptSummary summary, store.reencrypt(options));
  log::notice("serve: re-encrypted {} versions under key {} ({} quarantined)", summary.reencrypted,
              summary.active, summary.quarantined);
  return rotated;
}

void KeyScheduler::loop() {
  std::unique_ptr<store::Store> store;
  auto stopping = [this] {
    std::lock_guard guard(mu_);
    return stopping_;
  };
  auto next_check = std::chrono::steady_clock::now();
  std::unique_lock lock(mu_);
  while (!stopping_) {
    lock.unlock();
    if (!store) {
      auto opened = config_.open_store();
      if (opened.is_ok()) {
        store = std::move(opened).value();
        store->set_actor("lockbox-serve");
      } else {
        log::error("serve: scheduler cannot open the store: {}", opened.status().message());
      }
    }
    if (store && std::chrono::steady_clock::now() >= next_check) {
      next_check = std::chrono::steady_clock::now() + std::chrono::milliseconds(config_.interval_ms);
      auto done = run_once(*store, *config_.clock, config_.max_age_ms, stopping);
      if (!done.is_ok()) log::error("serve: scheduled key work failed: {}", done.status().message());
    }
    if (store) {
      if (Status st = store->maintenance(); !st.is_ok()) log::warn("serve: maintenance failed: {}", st.message());
    }
    lock.lock();
    cv_.wait_for(lock, std::chrono::milliseconds(std::min(config_.interval_ms, config_.maintenance_interval_ms)),
                 [this] { return stopping_; });
  }
}

}  // namespace lockbox::api
