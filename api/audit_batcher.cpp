#include "api/audit_batcher.hpp"

namespace lockbox::api {

AuditBatcher::AuditBatcher(Commit commit, std::size_t max_batch)
    : commit_(std::move(commit)), max_batch_(max_batch == 0 ? 1 : max_batch) {}

Status AuditBatcher::append(store::AuditEvent event, bool durable) {
  auto mine = std::make_shared<Pending>();
  mine->event = std::move(event);
  mine->durable = durable;
  std::unique_lock lock(mu_);
  queue_.push_back(mine);
  while (!mine->done) {
    if (committing_) {
      cv_.wait(lock);
      continue;
    }
    // Lead the next batch: everything pending (up to max_batch_), ours among the first.
    committing_ = true;
    std::vector<std::shared_ptr<Pending>> batch;
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
        events.push_back(p->event);
        any_durable = any_durable || p->durable;
      }
      status = commit_(events, any_durable);
    } catch (...) {
      // Never leave committing_ set: every later reveal would wait forever.
      status = runtime_error("audit batch failed");
    }
    lock.lock();
    for (const auto& p : batch) {
      p->status = status;
      p->done = true;
    }
    ++batches_;
    records_ += batch.size();
    committing_ = false;
    cv_.notify_all();
  }
  return mine->status;
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
