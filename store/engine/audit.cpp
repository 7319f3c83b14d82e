// Engine: reading and verifying the audit trail (SPEC §7). Appending is in engine_writes.cpp.
//
// verify_audit walks every record by seq and recomputes the chain of CRYPTO.md "Audit chain". A
// chain can only fail at a seq: the walk stops checking at the first failure (everything after it
// depends on what came before) but keeps counting, so the result still says how long the trail is.
#include <fmt/format.h>

#include <algorithm>
#include <string_view>
#include <utility>

#include "core/glob.hpp"
#include "store/audit_chain.hpp"
#include "store/engine/engine.hpp"

namespace lockbox::store {
namespace {

bool mac_equal(const Mac& a, const Mac& b) {
  return constant_time_equal(ByteView(a), ByteView(b));
}

// The walk's state: what the next record must look like, and the first failure found.
struct ChainWalk {
  std::int64_t expected_seq = 1;
  Mac expected_prev{};  // 32 zero bytes before the first record
  AuditVerifyResult result;

  [[nodiscard]] bool broken() const { return result.first_bad_seq.has_value(); }
  void fail(std::int64_t seq, std::string problem) {
    result.first_bad_seq = seq;
    result.problem = std::move(problem);
  }
};

// Checks one record against the chain so far; on failure records the first bad seq.
void check_record(const SecureKey& chain_key, const AuditRecord& r, bool macs_ok, ChainWalk& w) {
  if (r.seq != w.expected_seq) {
    // seq is the primary key and the walk is ordered by it: a seq other than the expected one
    // means the expected record was deleted, or the records were renumbered.
    w.fail(w.expected_seq,
           r.seq > w.expected_seq
               ? fmt::format("record {} is missing", w.expected_seq)
               : fmt::format("found seq {} where record {} belongs", r.seq, w.expected_seq));
  } else if (!macs_ok) {
    w.fail(r.seq, fmt::format("record {} is damaged (a MAC has the wrong length)", r.seq));
  } else if (!mac_equal(r.prev_mac, w.expected_prev)) {
    w.fail(r.seq, r.seq == 1
                      ? std::string("record 1 does not start the chain")
                      : fmt::format("record {} does not follow record {}", r.seq, r.seq - 1));
  } else if (!mac_equal(audit_entry_mac(chain_key, w.expected_prev, r), r.entry_mac)) {
    w.fail(r.seq, fmt::format("record {} was edited", r.seq));
  }
  ++w.expected_seq;
  w.expected_prev = r.entry_mac;
}

// The checkpoint's record must carry the checkpoint's MAC. Checked in seq order with the chain,
// so whichever problem comes first in the trail is the one reported.
void check_against_checkpoint(const AuditRecord& r, const AuditCheckpoint& cp, ChainWalk& w) {
  if (r.seq == cp.seq && !mac_equal(r.entry_mac, cp.mac)) {
    w.fail(cp.seq, fmt::format("record {} does not match the checkpoint", cp.seq));
  }
}

// After the walk: a checkpoint beyond the last record means the tail was cut.
void check_tail(const AuditCheckpoint& cp, ChainWalk& w) {
  if (cp.seq == 0) return;  // the checkpoint of an empty trail: anything verifies against it
  if (cp.seq <= w.result.last_seq) return;
  w.fail(cp.seq, w.result.records == 0
                     ? fmt::format("the trail is empty, but the checkpoint names record {}", cp.seq)
                     : fmt::format("the trail ends at record {}, before the checkpoint",
                                   w.result.last_seq));
}

}  // namespace

Status Engine::for_each_audit(const AuditFilter& filter,
                              const std::function<Status(const AuditRecord&)>& visit) {
  // A glob target is matched here, outside the backend (SQL GLOB would give '?' and '[' meaning).
  const bool target_is_glob = filter.target && filter.target->find_first_of("*?") != std::string::npos;
  AuditFilter exact = filter;
  if (target_is_glob) exact.target.reset();
  return rows_->scan_audit(exact, [&](const AuditRecord& record, bool) -> Status {
    if (target_is_glob && !glob_match(*filter.target, record.target)) return Status::ok();
    return visit(record);
  });
}

Result<AuditVerifyResult> Engine::verify_audit(const std::optional<AuditCheckpoint>& checkpoint) {
  if (checkpoint && checkpoint->seq < 0) return bad_input("audit checkpoint seq must not be negative");
  // "0:<zero MAC>" is the checkpoint of an empty trail; seq 0 with another MAC names no record.
  if (checkpoint && checkpoint->seq == 0 && !mac_equal(checkpoint->mac, Mac{})) {
    return bad_input("an audit checkpoint of seq 0 must carry a zero MAC");
  }
  // One snapshot: a writer committing meanwhile cannot show us half of its work.
  LOCKBOX_ASSIGN_OR_RETURN(Tx tx, Tx::begin(*rows_, TxMode::kRead));
  return walk_audit(checkpoint);
}

Result<AuditVerifyResult> Engine::walk_audit(const std::optional<AuditCheckpoint>& checkpoint) {
  ChainWalk walk;
  LOCKBOX_TRY(rows_->scan_audit({}, [&](const AuditRecord& record, bool macs_ok) -> Status {
    ++walk.result.records;
    walk.result.last_seq = record.seq;
    if (walk.broken()) return Status::ok();  // keep counting; nothing after the first failure is trusted
    check_record(audit_chain_key_, record, macs_ok, walk);
    if (!walk.broken() && checkpoint) check_against_checkpoint(record, *checkpoint, walk);
    return Status::ok();
  }));
  if (!walk.broken() && checkpoint) check_tail(*checkpoint, walk);
  return walk.result;
}

Result<AuditCheckpoint> Engine::audit_checkpoint() {
  LOCKBOX_ASSIGN_OR_RETURN(const auto tail, rows_->audit_tail());
  AuditCheckpoint checkpoint;  // seq 0 and a zero MAC: the checkpoint of an empty trail
  if (!tail) return checkpoint;
  checkpoint.seq = tail->seq;
  if (tail->entry_mac.size() != checkpoint.mac.size()) {
    return integrity_error(fmt::format("audit record {} is damaged", checkpoint.seq));
  }
  std::copy(tail->entry_mac.begin(), tail->entry_mac.end(), checkpoint.mac.begin());
  return checkpoint;
}

}  // namespace lockbox::store
