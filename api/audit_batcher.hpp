#pragma once
// AuditBatcher: group commit of the server's audit records (SPEC §7, issue 6). Reveals and
// resolves must commit their record before the value is sent ("no record, no value"), and each
// record is its own fsync'd transaction on the CLI (~1.5 ms here): at thousands of requests a
// second that is the bottleneck. Here one committer thread takes every pending record (up to
// max_batch) and commits them in one append_audit_batch(); records that arrive during a commit
// are in the next batch. append() blocks its caller until its batch is committed;
// append_async() returns at once and calls back from the committer thread, so a resolve does not
// hold an io thread while it waits (issue 13: io threads parked in the wait made the tail).
//
// Durability: a batch is durable (synchronous=FULL) when any record in it asks to be; resolve
// and launch records may use synchronous=NORMAL (SPEC §6).
// The destructor commits what is still pending, calls its callbacks, then joins the thread.
// Thread-safety: append() and append_async() may be called from any number of threads.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include "core/status.hpp"
#include "store/store.hpp"

namespace lockbox::api {

class AuditBatcher {
 public:
  // `commit` writes one batch in one transaction; it is called by the committer thread only.
  using Commit = std::function<Status(const std::vector<store::AuditEvent>&, bool durable)>;
  // Called once with the status of the record's batch, on the committer thread; must not block.
  using Done = std::function<void(const Status&)>;

  explicit AuditBatcher(Commit commit, std::size_t max_batch = 256);
  ~AuditBatcher();
  AuditBatcher(const AuditBatcher&) = delete;
  AuditBatcher& operator=(const AuditBatcher&) = delete;

  // Returns once `event` is committed (ok) or its batch failed (the error). Blocks the caller.
  Status append(store::AuditEvent event, bool durable);
  // Queues `event`; `done` gets the status of its batch once committed (or failed).
  void append_async(store::AuditEvent event, bool durable, Done done);

  // Batches committed and records written so far (for tests and metrics).
  [[nodiscard]] std::uint64_t batches() const;
  [[nodiscard]] std::uint64_t records() const;

 private:
  struct Pending {
    store::AuditEvent event;
    bool durable = false;
    Done done;
  };

  void run();

  Commit commit_;
  std::size_t max_batch_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stopping_ = false;
  std::uint64_t batches_ = 0;
  std::uint64_t records_ = 0;
  std::thread committer_;  // last: started once the members above exist
};

}  // namespace lockbox::api
