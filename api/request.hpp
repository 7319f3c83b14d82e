#pragma once
// Reading requests: the target's path and query (percent-decoded), and JSON bodies parsed with
// Boost.JSON into an arena that is wiped afterwards (bodies carry values). Wrong types, unknown
// fields and malformed JSON are kBadInput (400); messages name the field, never its value.
// Thread-safety: pure; a JsonBody is used by one thread.

#include <boost/json/monotonic_resource.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <initializer_list>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret_value.hpp"
#include "core/status.hpp"

namespace lockbox::api {

struct Target {
  std::string path;  // as received (not decoded), without the query: for logs, never for routing
  // The path's segments, split at '/' first and percent-decoded after, so "%2F" inside a
  // segment is a character of that segment, never a separator; empty segments are skipped.
  std::vector<std::string> segments;
  std::map<std::string, std::string> query;  // percent-decoded
};

// kBadInput for a bad percent escape, a NUL byte, a path that does not start with '/', or a
// query key given twice ("a=1&a=2": which one a check saw and which one a handler used must
// never differ).
Result<Target> parse_target(std::string_view target);

class JsonBody {
 public:
  // kBadInput "malformed JSON body" or "the body must be a JSON object".
  static Result<std::unique_ptr<JsonBody>> parse(std::string_view body);
  ~JsonBody();
  JsonBody(const JsonBody&) = delete;
  JsonBody& operator=(const JsonBody&) = delete;

  // kBadInput "unknown field in the body" naming it (field names are not values) when the object
  // has a key outside `known`.
  Status check_fields(std::initializer_list<std::string_view> known) const;

  // The whole object (for nested documents such as a resolve response).
  [[nodiscard]] const boost::json::object& root() const { return object(); }
  [[nodiscard]] bool has(std::string_view key) const;
  // True when the key is present with the value null (an explicit "clear").
  [[nodiscard]] bool is_null(std::string_view key) const;
  // Absent or null → nullopt; a non-string → kBadInput "FIELD must be a string".
  Result<std::optional<std::string>> string(std::string_view key) const;
  // The same for a field that may carry a value: copied straight into a SecretValue.
  Result<std::optional<SecretValue>> secret(std::string_view key) const;
  // Absent or null → nullopt; an integer (or an integral double) → the number.
  Result<std::optional<std::int64_t>> integer(std::string_view key) const;
  // Absent or null → nullopt; an array of strings.
  Result<std::optional<std::vector<std::string>>> string_list(std::string_view key) const;
  // Absent or null → nullopt; an object whose values are strings.
  Result<std::optional<std::map<std::string, std::string>>> string_map(std::string_view key) const;
  // Absent or null → nullopt; an array whose elements are objects, each as a JsonBody that views
  // this body's memory (valid while this body lives). kBadInput "KEY must be an array" or
  // "KEY[I]: must be an object".
  Result<std::optional<std::vector<std::unique_ptr<JsonBody>>>> objects(std::string_view key) const;

 private:
  JsonBody() = default;
  const boost::json::value* find(std::string_view key) const;
  [[nodiscard]] const boost::json::object& object() const {
    return view_ != nullptr ? *view_ : root_.get_object();
  }

  const boost::json::object* view_ = nullptr;  // set in a view of one element (objects())

  std::unique_ptr<unsigned char[]> arena_;
  std::size_t arena_size_ = 0;
  std::unique_ptr<boost::json::monotonic_resource> resource_;
  boost::json::value root_;
};

}  // namespace lockbox::api
