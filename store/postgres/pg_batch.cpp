// PgBackend: multi-row statements for writes that come in groups (the group-committed audit
// records of `serve` and the launcher). One INSERT of up to kPage rows is one round trip where a
// row at a time would be one each; the rows and their order are the engine's, unchanged.
#include <fmt/format.h>

#include <algorithm>

#include "store/postgres/pg_backend.hpp"

namespace lockbox::store::postgres {
namespace {

// "($1, $2, ..., $n), ($n+1, ...), ..." for `rows` rows of `columns` parameters each.
std::string values_list(std::size_t rows, std::size_t columns) {
  std::string out;
  out.reserve(rows * columns * 5);
  std::size_t n = 0;
  for (std::size_t r = 0; r < rows; ++r) {
    out += r == 0 ? "(" : ", (";
    for (std::size_t c = 0; c < columns; ++c) {
      if (c != 0) out += ", ";
      out += '$';
      out += std::to_string(++n);
    }
    out += ')';
  }
  return out;
}

// Rows per statement: PostgreSQL allows 65,535 parameters; a page of this many keeps a statement
// well under that for every table, and its text prepared once per distinct size.
constexpr std::size_t kPage = 500;

}  // namespace

Status PgBackend::insert_audits(const std::vector<AuditRecord>& records) {
  for (std::size_t start = 0; start < records.size(); start += kPage) {
    const std::size_t n = std::min(kPage, records.size() - start);
    Params p;
    for (std::size_t i = start; i < start + n; ++i) {
      const AuditRecord& a = records[i];
      p.i64(a.seq)
          .i64(a.ts)
          .text(a.actor)
          .text(a.action)
          .text(a.target)
          .text(a.outcome)
          .text(a.detail)
          .bytes(a.prev_mac)
          .bytes(a.entry_mac);
    }
    LOCKBOX_TRY(db_->queue(
        "INSERT INTO lockbox.audit(seq, ts, actor, action, target, outcome, detail, prev_mac, "
        "entry_mac) VALUES " +
            values_list(n, 9),
        p));
  }
  return Status::ok();
}

}  // namespace lockbox::store::postgres
