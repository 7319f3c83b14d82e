#pragma once
// Private to lockbox_store: a thin RAII layer over libpq for the PostgreSQL backend. One
// connection; statements prepared once per connection (by SQL text) and run with binary
// parameters and binary results, so bytea cells travel as raw bytes and integers as int8.
// Every libpq failure becomes a one-line Status: a lost connection or an unreachable server
// names host, port and database (never the password, never libpq's multi-line text); a lock
// wait past the busy timeout is kRuntime "store busy"; data corruption is kIntegrity.
// Thread-safety: one Conn per thread.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.hpp"
#include "store/bytes.hpp"

struct pg_conn;
struct pg_result;

namespace lockbox::store::postgres {

struct LibPq;

// The URL as messages show it: any password (user:PASSWORD@ or ?password=) replaced by ***.
std::string redact_url(std::string_view url);

// Bound parameters of one statement ($1, $2, ... in the order added). Each has a fixed type.
class Params {
 public:
  Params& i64(std::int64_t v);
  Params& text(std::string_view v);
  Params& bytes(ByteView v);
  Params& opt_i64(const std::optional<std::int64_t>& v);
  Params& opt_bytes(const std::optional<Bytes>& v);
  Params& null_i64();
  Params& null_text();
  Params& null_bytes();

  [[nodiscard]] int size() const { return static_cast<int>(values_.size()); }
  [[nodiscard]] const unsigned* types() const { return types_.data(); }
  [[nodiscard]] std::vector<const char*> pointers() const;
  [[nodiscard]] const int* lengths() const { return lengths_.data(); }
  [[nodiscard]] const int* formats() const { return formats_.data(); }

 private:
  Params& add(unsigned type, std::string value, bool null);
  std::vector<std::string> values_;
  std::vector<bool> nulls_;
  std::vector<unsigned> types_;
  std::vector<int> lengths_;
  std::vector<int> formats_;
};

// The rows of one statement (binary format).
class Rows {
 public:
  Rows(const LibPq* pq, pg_result* result) : pq_(pq), result_(result) {}
  ~Rows();
  Rows(Rows&& other) noexcept;
  Rows& operator=(Rows&&) = delete;
  Rows(const Rows&) = delete;
  Rows& operator=(const Rows&) = delete;

  [[nodiscard]] int size() const;
  [[nodiscard]] bool null(int row, int col) const;
  [[nodiscard]] std::int64_t i64(int row, int col) const;  // int2/int4/int8; 0 when NULL
  [[nodiscard]] std::optional<std::int64_t> opt_i64(int row, int col) const;
  [[nodiscard]] std::string text(int row, int col) const;
  [[nodiscard]] ByteView bytes(int row, int col) const;
  [[nodiscard]] Bytes copy(int row, int col) const;
  [[nodiscard]] std::optional<Bytes> opt_bytes(int row, int col) const;
  // Rows changed by an INSERT/UPDATE/DELETE.
  [[nodiscard]] std::int64_t affected() const;

 private:
  const LibPq* pq_;
  pg_result* result_;
};

class Conn {
 public:
  // Connects with the libpq URI `url` (PGPASSWORD, ~/.pgpass and sslmode work as in libpq).
  // kRuntime, one line naming host, port and database, when the server cannot be reached.
  static Result<std::unique_ptr<Conn>> connect(const std::string& url,
                                               std::int64_t busy_timeout_ms);
  ~Conn();
  Conn(const Conn&) = delete;
  Conn& operator=(const Conn&) = delete;

  // Runs `sql` with `params`: unnamed the first time, prepared from the second (one round trip
  // each).
  Result<Rows> run(const std::string& sql, const Params& params = {});
  // Inside a transaction: sends a statement whose rows nobody reads (an INSERT or UPDATE) without
  // waiting for its answer (libpq pipeline mode). The answers are read by the next run(), exec()
  // or flush(), in the same round trip as that statement; the first failure among them is what
  // that call returns (the transaction is then aborted: all or nothing). Outside a transaction,
  // run(). At most kMaxQueued statements wait; then flush() runs by itself.
  Status queue(const std::string& sql, const Params& params);
  // Reads every queued answer; the first failure, if any. Nothing queued: ok at once.
  Status flush();
  [[nodiscard]] bool queued() const { return queued_ > 0; }
  // Runs one or more statements without parameters (simple protocol, one round trip).
  Status exec(const std::string& sql);
  [[nodiscard]] std::int64_t busy_timeout_ms() const { return busy_timeout_ms_; }
  // "host H port P database D" for messages.
  [[nodiscard]] const std::string& where() const { return where_; }
  // True while the connection is usable.
  [[nodiscard]] bool alive() const;
  // Outside a transaction, after LISTEN: waits up to `timeout_ms` for a notification on this
  // connection (buffered ones count); true when one or more arrived (they are consumed).
  Result<bool> wait_notification(std::int64_t timeout_ms);
  // Set by the backend around its transactions: outside one, a lost connection is re-established
  // and the statement sent once more (reads only there); inside one it is an error.
  void set_in_transaction(bool in) { in_transaction_ = in; }
  // Bumped by every reconnection (a LISTEN must be sent again).
  [[nodiscard]] std::uint64_t generation() const { return generation_; }
  // True inside a transaction in which a statement failed (only ROLLBACK is possible).
  [[nodiscard]] bool failed_transaction() const;

 private:
  Conn(const LibPq* pq, pg_conn* conn, std::int64_t busy_timeout_ms);
  bool take_notifications();
  Result<Rows> run_once(const std::string& sql, const Params& params);
  Status send_queued(const std::string& sql, const Params& params);
  // Ends the pipeline: sync, every answer read; the last statement's result when `keep_last`.
  Status drain(pg_result** keep_last);
  Status exec_once(const std::string& sql);
  Status reconnect();
  template <typename F>
  auto with_reconnect(F&& send) -> decltype(send());
  Status check(pg_result* result, std::string_view context);
  const LibPq* pq_;
  pg_conn* conn_;
  std::int64_t busy_timeout_ms_;
  std::string where_;
  std::unordered_map<std::string, std::string>
      prepared_;  // SQL -> statement name ("" = run once, unnamed)
  bool in_transaction_ = false;
  std::uint64_t generation_ = 0;
  int statements_ = 0;                    // prepared statements so far
  static constexpr int kMaxQueued = 256;  // bounded, so neither side blocks writing to the other
  int queued_ = 0;                        // statements sent in pipeline mode, answers unread
  std::vector<std::string> pipeline_prepares_;  // SQL prepared in this pipeline (lost if it aborts)
};

}  // namespace lockbox::store::postgres
