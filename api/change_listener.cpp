#include "api/change_listener.hpp"

#include <chrono>
#include <optional>
#include <utility>

#include "core/log.hpp"

namespace lockbox::api {

void ChangeListener::start() {
  stopping_ = false;
  // The first read happens here, so every write after start() returns is reported.
  std::unique_ptr<store::Store> store;
  std::optional<std::int64_t> seen;
  if (auto opened = config_.open_store(); opened.is_ok()) {
    store = std::move(opened).value();
    if (auto counter = store->change_counter(); counter.is_ok()) seen = *counter;
  }
  thread_ = std::thread([this, s = std::move(store), seen]() mutable { loop(std::move(s), seen); });
}

void ChangeListener::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ChangeListener::loop(std::unique_ptr<store::Store> store, std::optional<std::int64_t> seen) {
  bool failing = false;
  auto fail = [&](const Status& status) {
    if (!failing) log::warn("serve: change listener: {} (retrying every second)", status.message());
    failing = true;
    store.reset();  // `seen` stays: a change during the outage is reported on the next read
    for (int i = 0; i < 4 && !stopping_; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
  };
  while (!stopping_) {
    if (!store) {
      auto opened = config_.open_store();
      if (!opened.is_ok()) {
        fail(opened.status());
        continue;
      }
      store = std::move(opened).value();
    }
    if (!seen) {
      auto counter = store->change_counter();
      if (!counter.is_ok()) {
        fail(counter.status());
        continue;
      }
      seen = *counter;
    }
    auto now = store->wait_for_change(*seen, config_.slice_ms);
    if (!now.is_ok()) {
      fail(now.status());
      continue;
    }
    failing = false;
    if (*now != *seen) {
      seen = *now;
      config_.on_change(*now);
    }
  }
}

}  // namespace lockbox::api
