#include "store/postgres/pg_conn.hpp"

#include <fmt/format.h>
#include <poll.h>

#include <algorithm>
#include <cctype>
#include <utility>

#include "store/postgres/libpq_api.hpp"

namespace lockbox::store::postgres {
namespace {

constexpr unsigned kInt8Oid = 20;
constexpr unsigned kTextOid = 25;
constexpr unsigned kByteaOid = 17;

std::string big_endian(std::int64_t v) {
  std::string out(8, '\0');
  auto u = static_cast<std::uint64_t>(v);
  for (int i = 7; i >= 0; --i) {
    out[static_cast<std::size_t>(i)] = static_cast<char>(u & 0xFFU);
    u >>= 8U;
  }
  return out;
}

// The first line of a libpq message, without "connection to server ... failed:" and "FATAL:".
std::string one_line_reason(std::string_view message) {
  std::string_view line = message.substr(0, message.find('\n'));
  if (const auto failed = line.find("failed: "); failed != std::string_view::npos)
    line.remove_prefix(failed + 8);
  for (std::string_view prefix : {"FATAL:", "ERROR:"}) {
    if (line.starts_with(prefix)) line.remove_prefix(prefix.size());
  }
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.front())) != 0)
    line.remove_prefix(1);
  while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back())) != 0)
    line.remove_suffix(1);
  std::string out(line);
  if (!out.empty()) out[0] = static_cast<char>(std::tolower(static_cast<unsigned char>(out[0])));
  return out.empty() ? "unknown error" : out;
}

std::string describe(const LibPq& pq, const pg_conn* conn) {
  const char* host = pq.host(conn);
  const char* port = pq.port(conn);
  const char* db = pq.db(conn);
  return fmt::format("host {} port {} database {}",
                     host != nullptr && *host != '\0' ? host : "localhost",
                     port != nullptr && *port != '\0' ? port : "5432", db != nullptr ? db : "?");
}

void ignore_notice(void*, const char*) {}

}  // namespace

std::string redact_url(std::string_view url) {
  std::string out(url);
  // postgresql://user:password@host... : the userinfo ends at the last '@' before the path.
  if (const auto scheme = out.find("://"); scheme != std::string::npos) {
    const std::size_t start = scheme + 3;
    const std::size_t path = out.find_first_of("/?", start);
    const std::size_t at = out.rfind('@', path == std::string::npos ? std::string::npos : path);
    if (at != std::string::npos && at >= start) {
      const std::size_t colon = out.find(':', start);
      if (colon != std::string::npos && colon < at) out.replace(colon + 1, at - colon - 1, "***");
    }
  }
  // ...?password=secret&... (libpq accepts every keyword as a query parameter).
  for (std::size_t pos = out.find('?'); pos != std::string::npos; pos = out.find('&', pos + 1)) {
    constexpr std::string_view kKey = "password=";
    if (out.compare(pos + 1, kKey.size(), kKey) != 0) continue;
    const std::size_t value = pos + 1 + kKey.size();
    const std::size_t end = out.find('&', value);
    out.replace(value, (end == std::string::npos ? out.size() : end) - value, "***");
  }
  return out;
}

// ---- Params ----

Params& Params::add(unsigned type, std::string value, bool null) {
  lengths_.push_back(static_cast<int>(value.size()));
  values_.push_back(std::move(value));
  nulls_.push_back(null);
  types_.push_back(type);
  formats_.push_back(1);
  return *this;
}

Params& Params::i64(std::int64_t v) {
  return add(kInt8Oid, big_endian(v), false);
}
Params& Params::text(std::string_view v) {
  return add(kTextOid, std::string(v), false);
}
Params& Params::bytes(ByteView v) {
  return add(kByteaOid, std::string(reinterpret_cast<const char*>(v.data()), v.size()), false);
}
Params& Params::opt_i64(const std::optional<std::int64_t>& v) {
  return v ? i64(*v) : null_i64();
}
Params& Params::opt_bytes(const std::optional<Bytes>& v) {
  return v ? bytes(*v) : null_bytes();
}
Params& Params::null_i64() {
  return add(kInt8Oid, {}, true);
}
Params& Params::null_text() {
  return add(kTextOid, {}, true);
}
Params& Params::null_bytes() {
  return add(kByteaOid, {}, true);
}

std::vector<const char*> Params::pointers() const {
  std::vector<const char*> out;
  out.reserve(values_.size());
  for (std::size_t i = 0; i < values_.size(); ++i)
    out.push_back(nulls_[i] ? nullptr : values_[i].data());
  return out;
}

// ---- Rows ----

Rows::~Rows() {
  if (result_ != nullptr) pq_->clear(result_);
}

Rows::Rows(Rows&& other) noexcept
    : pq_(other.pq_), result_(std::exchange(other.result_, nullptr)) {}

int Rows::size() const {
  return pq_->ntuples(result_);
}
bool Rows::null(int row, int col) const {
  return pq_->getisnull(result_, row, col) != 0;
}

std::int64_t Rows::i64(int row, int col) const {
  if (null(row, col)) return 0;
  const auto* p = reinterpret_cast<const unsigned char*>(pq_->getvalue(result_, row, col));
  const int n = pq_->getlength(result_, row, col);
  std::uint64_t u = 0;
  for (int i = 0; i < n; ++i) u = (u << 8U) | p[i];
  if (n > 0 && n < 8 && (p[0] & 0x80U) != 0)
    u |= ~std::uint64_t{0} << (8U * static_cast<unsigned>(n));
  return static_cast<std::int64_t>(u);
}

std::optional<std::int64_t> Rows::opt_i64(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return i64(row, col);
}

std::string Rows::text(int row, int col) const {
  return std::string(pq_->getvalue(result_, row, col),
                     static_cast<std::size_t>(pq_->getlength(result_, row, col)));
}

ByteView Rows::bytes(int row, int col) const {
  const auto* p = reinterpret_cast<const std::uint8_t*>(pq_->getvalue(result_, row, col));
  return ByteView(p, static_cast<std::size_t>(pq_->getlength(result_, row, col)));
}

Bytes Rows::copy(int row, int col) const {
  const ByteView b = bytes(row, col);
  return Bytes(b.begin(), b.end());
}

std::optional<Bytes> Rows::opt_bytes(int row, int col) const {
  if (null(row, col)) return std::nullopt;
  return copy(row, col);
}

std::int64_t Rows::affected() const {
  const char* n = pq_->cmd_tuples(result_);
  return n == nullptr || *n == '\0' ? 0 : std::stoll(n);
}

// ---- Conn ----

Conn::Conn(const LibPq* pq, pg_conn* conn, std::int64_t busy_timeout_ms)
    : pq_(pq), conn_(conn), busy_timeout_ms_(busy_timeout_ms), where_(describe(*pq, conn)) {}

Conn::~Conn() {
  pq_->finish(conn_);
}

Result<std::unique_ptr<Conn>> Conn::connect(const std::string& url, std::int64_t busy_timeout_ms) {
  LOCKBOX_ASSIGN_OR_RETURN(const LibPq* pq, load_libpq());
  // Defaults first: the URL's own parameters (expanded in place of dbname) override them.
  const char* keys[] = {"connect_timeout", "application_name", "client_encoding", "dbname",
                        nullptr};
  const char* values[] = {"10", "lockbox", "UTF8", url.c_str(), nullptr};
  pg_conn* raw = pq->connectdb_params(keys, values, 1);
  if (raw == nullptr) return runtime_error("cannot connect to the PostgreSQL store: out of memory");
  std::unique_ptr<Conn> conn(new Conn(pq, raw, busy_timeout_ms));
  if (pq->status(raw) != CONNECTION_OK) {
    return runtime_error(fmt::format("cannot connect to the PostgreSQL store at {}: {}",
                                     conn->where_, one_line_reason(pq->error_message(raw))));
  }
  pq->set_notice_processor(raw, ignore_notice, nullptr);
  return conn;
}

bool Conn::alive() const {
  return pq_->status(conn_) == CONNECTION_OK;
}
bool Conn::failed_transaction() const {
  return pq_->transaction_status(conn_) == PQTRANS_INERROR;
}

Status Conn::check(pg_result* result, std::string_view context) {
  const ExecStatusType st = result == nullptr ? PGRES_FATAL_ERROR : pq_->result_status(result);
  if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return Status::ok();
  const char* state =
      result != nullptr ? pq_->result_error_field(result, PG_DIAG_SQLSTATE) : nullptr;
  const char* primary =
      result != nullptr ? pq_->result_error_field(result, PG_DIAG_MESSAGE_PRIMARY) : nullptr;
  const std::string code = state != nullptr ? state : "";
  const std::string message =
      primary != nullptr ? primary : one_line_reason(pq_->error_message(conn_));
  if (result != nullptr) pq_->clear(result);
  if (!alive() || code.starts_with("08") || code == "57P01" || code == "57P02" || code == "57P03") {
    return runtime_error(
        fmt::format("lost the connection to the PostgreSQL store at {} ({}); the "
                    "transaction was rolled back",
                    where_, one_line_reason(message)));
  }
  if (code == "55P03" || code == "40001" || code == "40P01" || code == "57014") {
    return runtime_error(
        "store busy: another lockbox process held it longer than the busy timeout");
  }
  if (code.starts_with("XX"))
    return integrity_error(fmt::format("{}: the database is damaged ({})", context, message));
  // Primary messages name tables, columns and constraints, never bound values.
  return runtime_error(fmt::format("{}: {}", context, message));
}

Result<Rows> Conn::run_once(const std::string& sql, const Params& params) {
  // A statement runs unnamed (parse, bind and execute in one round trip) the first time and is
  // prepared the second: a CLI process runs most statements once, serve runs them thousands of
  // times.
  const std::vector<const char*> values = params.pointers();
  auto it = prepared_.find(sql);
  if (it == prepared_.end()) {
    prepared_.emplace(sql, std::string());
    pg_result* result = pq_->exec_params(conn_, sql.c_str(), params.size(), params.types(),
                                         values.data(), params.lengths(), params.formats(), 1);
    LOCKBOX_TRY(check(result, "query"));
    return Rows(pq_, result);
  }
  if (it->second.empty()) {
    const std::string name = fmt::format("lb{}", ++statements_);
    pg_result* prepared =
        pq_->prepare(conn_, name.c_str(), sql.c_str(), params.size(), params.types());
    LOCKBOX_TRY(check(prepared, "prepare"));
    pq_->clear(prepared);
    it->second = name;
  }
  pg_result* result = pq_->exec_prepared(conn_, it->second.c_str(), params.size(), values.data(),
                                         params.lengths(), params.formats(), 1);
  LOCKBOX_TRY(check(result, "query"));
  return Rows(pq_, result);
}

Status Conn::reconnect() {
  pq_->reset(conn_);
  prepared_.clear();  // a new server session has none of this one's prepared statements
  ++generation_;
  if (alive()) return Status::ok();
  return runtime_error(fmt::format("cannot reconnect to the PostgreSQL store at {}: {}", where_,
                                   one_line_reason(pq_->error_message(conn_))));
}

// Outside a transaction every statement the backend sends is a read (or BEGIN, LISTEN): after a
// lost connection (a server restart, a failover, an idle timeout) it is safe to reconnect and send
// it once more. Inside a transaction a lost connection is the transaction's end, never retried.
template <typename F>
auto Conn::with_reconnect(F&& send) -> decltype(send()) {
  if (in_transaction_) return send();
  if (!alive()) LOCKBOX_TRY(reconnect());
  auto first = send();
  if (first.is_ok() || alive()) return first;
  LOCKBOX_TRY(reconnect());
  return send();
}

Result<Rows> Conn::run(const std::string& sql, const Params& params) {
  if (queued_ > 0) {
    // The statement joins the queued ones: one round trip for all of their answers and its rows.
    LOCKBOX_TRY(send_queued(sql, params));
    pg_result* last = nullptr;
    LOCKBOX_TRY(drain(&last));
    if (last == nullptr)
      return runtime_error(fmt::format("the PostgreSQL store at {} sent no answer", where_));
    return Rows(pq_, last);
  }
  return with_reconnect([&] { return run_once(sql, params); });
}

Status Conn::exec(const std::string& sql) {
  LOCKBOX_TRY(flush());
  return with_reconnect([&] { return exec_once(sql); });
}

Status Conn::queue(const std::string& sql, const Params& params) {
  if (!in_transaction_) return run(sql, params).status();
  LOCKBOX_TRY(send_queued(sql, params));
  return queued_ >= kMaxQueued ? flush() : Status::ok();
}

Status Conn::flush() {
  return queued_ == 0 ? Status::ok() : drain(nullptr);
}

Status Conn::send_queued(const std::string& sql, const Params& params) {
  if (queued_ == 0 && pq_->enter_pipeline_mode(conn_) != 1) {
    return runtime_error(
        fmt::format("the PostgreSQL store at {}: cannot queue statements", where_));
  }
  std::string& name = prepared_[sql];
  if (name.empty()) {
    name = fmt::format("lb{}", ++statements_);
    if (pq_->send_prepare(conn_, name.c_str(), sql.c_str(), params.size(), params.types()) != 1) {
      name.clear();
      return check(nullptr, "prepare");
    }
    pipeline_prepares_.push_back(sql);
    ++queued_;
  }
  const std::vector<const char*> values = params.pointers();
  if (pq_->send_query_prepared(conn_, name.c_str(), params.size(), values.data(), params.lengths(),
                               params.formats(), 1) != 1) {
    return check(nullptr, "query");
  }
  ++queued_;
  return Status::ok();
}

Status Conn::drain(pg_result** keep_last) {
  Status first = Status::ok();
  if (pq_->pipeline_sync(conn_) != 1) first = check(nullptr, "query");
  // Each statement's answer is a result then a null; the sync answers last. Two nulls in a row
  // only come from a connection that is gone.
  int nulls = 0;
  while (first.is_ok() || alive()) {
    pg_result* r = pq_->get_result(conn_);
    if (r == nullptr) {
      if (++nulls > 1) break;
      continue;
    }
    nulls = 0;
    const ExecStatusType st = pq_->result_status(r);
    if (st == PGRES_PIPELINE_SYNC) {
      pq_->clear(r);
      break;
    }
    if (st == PGRES_PIPELINE_ABORTED || !first.is_ok()) {
      pq_->clear(r);
      continue;
    }
    if (Status bad = check(r, "query"); !bad.is_ok()) {  // check() cleared r
      first = std::move(bad);
      continue;
    }
    if (keep_last != nullptr) {
      if (*keep_last != nullptr) pq_->clear(*keep_last);
      *keep_last = r;
    } else {
      pq_->clear(r);
    }
  }
  queued_ = 0;
  (void)pq_->exit_pipeline_mode(conn_);
  // After a failure the statements behind it, prepares included, were skipped: prepare them again.
  if (!first.is_ok()) {
    for (const std::string& sql : pipeline_prepares_) prepared_.erase(sql);
  }
  pipeline_prepares_.clear();
  if (!first.is_ok() && keep_last != nullptr && *keep_last != nullptr) {
    pq_->clear(*keep_last);
    *keep_last = nullptr;
  }
  if (first.is_ok() && !alive()) first = check(nullptr, "query");
  return first;
}

Status Conn::exec_once(const std::string& sql) {
  pg_result* result = pq_->exec(conn_, sql.c_str());
  LOCKBOX_TRY(check(result, "exec"));
  pq_->clear(result);
  return Status::ok();
}

bool Conn::take_notifications() {
  bool any = false;
  while (pgNotify* n = pq_->notifies(conn_)) {
    any = true;
    pq_->freemem(n);
  }
  return any;
}

Result<bool> Conn::wait_notification(std::int64_t timeout_ms) {
  // Notifications that came in with earlier query results are already buffered.
  if (take_notifications()) return true;
  pollfd fd{pq_->socket(conn_), POLLIN, 0};
  if (fd.fd < 0)
    return runtime_error(fmt::format("lost the connection to the PostgreSQL store at {}", where_));
  const int ready =
      ::poll(&fd, 1, static_cast<int>(std::clamp<std::int64_t>(timeout_ms, 0, 60'000)));
  if (ready <= 0) return false;  // timeout, or EINTR: the caller looks again either way
  if (pq_->consume_input(conn_) == 0 || !alive()) {
    return runtime_error(fmt::format("lost the connection to the PostgreSQL store at {} ({})",
                                     where_, one_line_reason(pq_->error_message(conn_))));
  }
  return take_notifications();
}

}  // namespace lockbox::store::postgres
