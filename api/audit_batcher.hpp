#pragma once
// AuditBatcher: group commit of the server's audit records (SPEC §7, issue 6). Reveals and
// resolves must commit their record before the value is sent ("no record, no value"), and each
// record is its own fsync'd transaction on the CLI (~1.5 ms here): at thousands of requests a
// second that is the bottleneck. Here concurrent callers share one transaction: the first caller
// to find no commit in flight becomes the leader, takes every pending record and commits them in
// one append_audit_batch(); the others wait for that commit and get its status. A caller that
// arrived during a commit is in the next batch (led by one of the waiters). No background thread.
//
// Durability: a batch is durable (synchronous=FULL) when any record in it asks to be; resolve
// and launch records may use synchronous=NORMAL (SPEC §6).
// Thread-safety: append() may be called from any number of threads.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "core/status.hpp"
#include "store/store.hpp"

namespace lockbox::api {

class AuditBatcher {
 public:
  // `commit` writes one batch in one transaction; it is called by one thread at a time.
  using Commit = std::function<Status(const std::vector<store::AuditEvent>&, bool durable)>;

  explicit AuditBatcher(Commit commit, std::size_t max_batch = 256);

  // Returns once `event` is committed (ok) or its batch failed (the error). Blocks the caller.
  Status append(store::AuditEvent event, bool durable);

  // Batches committed and records written so far (for tests and metrics).
  [[nodiscard]] std::uint64_t batches() const;
  [[nodiscard]] std::uint64_t records() const;

 private:
  struct Pending {
    store::AuditEvent event;
    bool durable = false;
    bool done = false;
    Status status;
  };

  Commit commit_;
  std::size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::shared_ptr<Pending>> queue_;
  bool committing_ = false;
  std::uint64_t batches_ = 0;
  std::uint64_t records_ = 0;
};

}  // namespace lockbox::api
