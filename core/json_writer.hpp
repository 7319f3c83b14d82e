#pragma once
// JsonWriter: a tiny streaming JSON writer (compact output, RFC 8259 string escaping).
// Revealed values pass through it (get --reveal --json, export --format json), so the document is
// built in a SecretValue: the buffer is wiped when it grows and when the writer is destroyed.
//
// Strings are written as UTF-8; invalid UTF-8 sequences become U+FFFD, control characters are
// escaped (\n, \t, \u001b ...), so the output is always valid JSON.
// REQUIRES: calls nest correctly (key() only inside an object, before each of its values).
// Thread-safety: none (one writer per thread).

#include <cstdint>
#include <optional>
#include <string_view>
#include <vector>

#include "core/secret_value.hpp"

namespace lockbox {

class JsonWriter {
 public:
  JsonWriter() = default;
  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();
  void key(std::string_view name);

  // Distinct names on purpose: an overloaded value("text") would pick the bool overload.
  void string(std::string_view text);
  void integer(std::int64_t number);
  void boolean(bool flag);
  void null();
  // A string, or null when absent.
  void optional_string(const std::optional<std::string_view>& text);

  // The document written so far (valid until the next call).
  [[nodiscard]] std::string_view view() const { return buffer_.reveal(); }

 private:
  void before_value();
  void raw(std::string_view bytes) { buffer_.append(bytes); }
  void escaped(std::string_view text);

  SecretValue buffer_;
  std::vector<bool> first_in_level_;  // one entry per open object/array
  bool after_key_ = false;
};

}  // namespace lockbox
