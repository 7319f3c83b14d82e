#include "api/audit_batcher.hpp"

#include <memory>

#include "core/log.hpp"

namespace lockbox::api {

AuditBatcher::AuditBatcher(Commit commit, std::size_t max_batch)
    : commit_(std::move(commit)),
      max_batch_(max_batch == 0 ? 1 : max_batch),
      committer_([this] { run(); }) {}

AuditBatcher::~AuditBatcher() {
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
  }
  cv_.notify_all();
  committer_.join();
}

Status AuditBatcher::append(store::AuditEvent event, bool durable) {
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    Status status;
  };
  auto wait = std::make_shared<Wait>();
  append_async(std::move(event), durable, [wait](const Status& status) {
    std::lock_guard lock(wait->mu);
    wait->status = status;
    wait->done = true;
    wait->cv.notify_one();
  });
  std::unique_lock lock(wait->mu);
  wait->cv.wait(lock, [&] { return wait->done; });
  return wait->status;
}

void AuditBatcher::append_async(store::AuditEvent event, bool durable, Done done) {
  {
    std::lock_guard lock(mu_);
    queue_.push_back(Pending{std::move(event), durable, std::move(done)});
  }
  cv_.notify_one();
}

// The committer: a batch of everything pending, one commit, every callback; until stopped and
// drained.
void AuditBatcher::run() {
  std::unique_lock lock(mu_);
  for (;;) {
    cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
    if (queue_.empty()) return;  // stopping, nothing left
    std::vector<Pending> batch;
    while (!queue_.empty() && batch.size() < max_batch_) {
      batch.push_back(std::move(queue_.front()));
      queue_.pop_front();
    }
    lock.unlock();
    Status status;
    try {
      std::vector<store::AuditEvent> events;
      events.reserve(batch.size());
      bool any_durable = false;
      for (const auto& p : batch) {
        events.push_back(p.event);
        any_durable = any_durable || p.durable;
      }
      status = commit_(events, any_durable);
    } catch (...) {
      status = runtime_error("audit batch failed");
    }
    {  // counted before any caller learns its status, so batches() and records() include it
      std::lock_guard count(mu_);
      ++batches_;
      records_ += batch.size();
    }
    for (auto& p : batch) {
      try {
        if (p.done) p.done(status);
      } catch (...) {
        log::error("api: an audit completion failed");
      }
    }
    lock.lock();
  }
}

std::uint64_t AuditBatcher::batches() const {
  std::lock_guard lock(mu_);
  return batches_;
}

std::uint64_t AuditBatcher::records() const {
  std::lock_guard lock(mu_);
  return records_;
}

}  // namespace lockbox::api
