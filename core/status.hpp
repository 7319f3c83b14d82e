#pragma once
// Status and Result<T>: lockbox's error values (LevelDB/ccache style, no exceptions across
// module boundaries). Every StatusCode maps to exactly one process exit code in exit_code_for().

#include <optional>
#include <string>
#include <utility>
#include <variant>

namespace lockbox {

// NOTE: the numeric values are the SPEC §5 exit codes of the management commands; never renumber.
enum class StatusCode : int {
  kOk = 0,
  kRuntime = 1,    // store unreachable, busy past the timeout, I/O
  kBadInput = 2,   // bad input or usage
  kNotFound = 3,   // no such secret/version (or a tombstone)
  kKey = 4,        // master key missing, wrong or stale, or a refused key file
  kIntegrity = 5,  // a row or the audit chain does not verify
  kDenied = 6,     // denied by policy or role
};

class [[nodiscard]] Status {
 public:
  Status() = default;  // ok
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok() { return {}; }
  [[nodiscard]] bool is_ok() const { return code_ == StatusCode::kOk; }
  [[nodiscard]] StatusCode code() const { return code_; }
  // One line, lower-case, context first; never contains a secret value.
  [[nodiscard]] const std::string& message() const { return message_; }
  // Lets LOCKBOX_TRY treat a Status and a Result alike.
  [[nodiscard]] const Status& status() const { return *this; }

  // Returns a copy whose message is "<context>: <message>".
  [[nodiscard]] Status with_context(const std::string& context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status runtime_error(std::string m) { return {StatusCode::kRuntime, std::move(m)}; }
inline Status bad_input(std::string m) { return {StatusCode::kBadInput, std::move(m)}; }
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status key_error(std::string m) { return {StatusCode::kKey, std::move(m)}; }
inline Status integrity_error(std::string m) { return {StatusCode::kIntegrity, std::move(m)}; }
inline Status denied(std::string m) { return {StatusCode::kDenied, std::move(m)}; }

// The single exit-code table of the management commands (SPEC §5).
int exit_code_for(const Status& status);

// Result<T>: a value or a non-ok Status. REQUIRES: the Status given is not ok.
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}              // NOLINT(google-explicit-constructor)
  Result(Status status) : v_(std::move(status)) {}       // NOLINT(google-explicit-constructor)

  [[nodiscard]] bool is_ok() const { return v_.index() == 0; }
  [[nodiscard]] const Status& status() const {
    static const Status kOkStatus;
    return is_ok() ? kOkStatus : std::get<1>(v_);
  }
  T& value() & { return std::get<0>(v_); }
  const T& value() const& { return std::get<0>(v_); }
  T&& value() && { return std::get<0>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  std::variant<T, Status> v_;
};

}  // namespace lockbox

#define LOCKBOX_CONCAT_INNER_(a, b) a##b
#define LOCKBOX_CONCAT_(a, b) LOCKBOX_CONCAT_INNER_(a, b)

// Returns the Status of `expr` (a Status or Result) from the enclosing function when not ok.
#define LOCKBOX_TRY(expr)                                          \
  do {                                                             \
    auto&& lockbox_try_ = (expr);                                  \
    if (!lockbox_try_.is_ok()) return lockbox_try_.status(); \
  } while (0)

#define LOCKBOX_ASSIGN_OR_RETURN_IMPL_(tmp, lhs, expr) \
  auto tmp = (expr);                                   \
  if (!tmp.is_ok()) return tmp.status();               \
  lhs = std::move(tmp).value()

// `LOCKBOX_ASSIGN_OR_RETURN(auto x, make_x());` declares x or returns the error.
#define LOCKBOX_ASSIGN_OR_RETURN(lhs, expr) \
  LOCKBOX_ASSIGN_OR_RETURN_IMPL_(LOCKBOX_CONCAT_(lockbox_r_, __LINE__), lhs, expr)
