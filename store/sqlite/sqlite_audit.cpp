// SqliteStore: reading and verifying the audit trail (SPEC §7). Appending is in sqlite_writes.cpp.
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
#include "store/sqlite/sqlite_store.hpp"

namespace lockbox::store::sqlite {
namespace {

constexpr const char* kSelectColumns =
    "SELECT seq, ts, actor, action, target, outcome, detail, prev_mac, entry_mac FROM audit ";

// A deferred read transaction: every statement inside it sees one snapshot of the database (WAL),
// so a writer committing meanwhile cannot show us half of its work. Ends with ROLLBACK: nothing
// was written, and a read transaction has nothing to commit.
class ReadTransaction {
 public:
  static Result<ReadTransaction> begin(Db& db) {
    LOCKBOX_TRY(db.exec("BEGIN DEFERRED"));
    return ReadTransaction(db);
  }
  ReadTransaction(ReadTransaction&& other) noexcept : db_(std::exchange(other.db_, nullptr)) {}
  ReadTransaction& operator=(ReadTransaction&&) = delete;
  ReadTransaction(const ReadTransaction&) = delete;
  ReadTransaction& operator=(const ReadTransaction&) = delete;
  ~ReadTransaction() {
    if (db_ != nullptr) (void)db_->exec("ROLLBACK");
  }

 private:
  explicit ReadTransaction(Db& db) : db_(&db) {}
  Db* db_;
};

// Copies a stored MAC; false when the column does not hold exactly 32 bytes.
bool copy_mac(ByteView stored, Mac& out) {
  if (stored.size() != out.size()) return false;
  std::copy(stored.begin(), stored.end(), out.begin());
  return true;
}

// One row of kSelectColumns. `macs_ok` is false when either MAC column has the wrong length.
AuditRecord read_record(const Statement& st, bool& macs_ok) {
  AuditRecord r;
  r.seq = st.int64(0);
  r.ts = st.int64(1);
  r.actor = st.text(2);
  r.action = st.text(3);
  r.target = st.text(4);
  r.outcome = st.text(5);
  r.detail = st.text(6);
  const bool prev_ok = copy_mac(st.blob(7), r.prev_mac);
  const bool entry_ok = copy_mac(st.blob(8), r.entry_mac);
  macs_ok = prev_ok && entry_ok;
  return r;
}

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

Status SqliteStore::for_each_audit(const AuditFilter& filter,
                                   const std::function<Status(const AuditRecord&)>& visit) {
  const bool target_is_glob =
      filter.target && filter.target->find_first_of("*?") != std::string::npos;
  LOCKBOX_ASSIGN_OR_RETURN(
      Statement st, db_.prepare(std::string(kSelectColumns) +
                                "WHERE (?1 IS NULL OR ts >= ?1) AND (?2 IS NULL OR action = ?2) "
                                "AND (?3 IS NULL OR target = ?3) ORDER BY seq"));
  st.bind_optional(1, filter.since);
  if (filter.action) {
    st.bind(2, *filter.action);
  } else {
    st.bind_null(2);
  }
  if (filter.target && !target_is_glob) {
    st.bind(3, *filter.target);
  } else {
    st.bind_null(3);  // a glob is matched below, outside SQL (GLOB would give '?' and '[' meaning)
  }
  // One statement reads one snapshot: records committed during the walk are not visited.
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool has_row, st.step());
    if (!has_row) return Status::ok();
    bool macs_ok = false;
    const AuditRecord record = read_record(st, macs_ok);
    if (target_is_glob && !glob_match(*filter.target, record.target)) continue;
    LOCKBOX_TRY(visit(record));
  }
}

Result<AuditVerifyResult> SqliteStore::verify_audit(
    const std::optional<AuditCheckpoint>& checkpoint) {
  if (checkpoint && checkpoint->seq < 0)
    return bad_input("audit checkpoint seq must not be negative");
  // "0:<zero MAC>" is the checkpoint of an empty trail; seq 0 with another MAC names no record.
  if (checkpoint && checkpoint->seq == 0 && !mac_equal(checkpoint->mac, Mac{})) {
    return bad_input("an audit checkpoint of seq 0 must carry a zero MAC");
  }
  LOCKBOX_ASSIGN_OR_RETURN(ReadTransaction tx, ReadTransaction::begin(db_));
  LOCKBOX_ASSIGN_OR_RETURN(Statement st, db_.prepare(std::string(kSelectColumns) + "ORDER BY seq"));
  ChainWalk walk;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool has_row, st.step());
    if (!has_row) break;
    ++walk.result.records;
    bool macs_ok = false;
    const AuditRecord record = read_record(st, macs_ok);
    walk.result.last_seq = record.seq;
    if (walk.broken()) continue;  // keep counting; nothing after the first failure is trusted
    check_record(audit_chain_key_, record, macs_ok, walk);
    if (!walk.broken() && checkpoint) check_against_checkpoint(record, *checkpoint, walk);
  }
  if (!walk.broken() && checkpoint) check_tail(*checkpoint, walk);
  return walk.result;
}

Result<AuditCheckpoint> SqliteStore::audit_checkpoint() {
  LOCKBOX_ASSIGN_OR_RETURN(
      Statement st, db_.prepare("SELECT seq, entry_mac FROM audit ORDER BY seq DESC LIMIT 1"));
  LOCKBOX_ASSIGN_OR_RETURN(const bool has_row, st.step());
  AuditCheckpoint checkpoint;  // seq 0 and a zero MAC: the checkpoint of an empty trail
  if (!has_row) return checkpoint;
  checkpoint.seq = st.int64(0);
  if (!copy_mac(st.blob(1), checkpoint.mac)) {
    return integrity_error(fmt::format("audit record {} is damaged", checkpoint.seq));
  }
  return checkpoint;
}

}  // namespace lockbox::store::sqlite
