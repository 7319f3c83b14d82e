#include "core/json_writer.hpp"

#include <array>
#include <string>

namespace lockbox {
namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD in UTF-8

// Length of the valid UTF-8 sequence starting at s[i], or 0 when it is not valid
// (overlong forms, surrogates and code points above U+10FFFF are invalid).
std::size_t utf8_sequence_length(std::string_view s, std::size_t i) {
  const auto b0 = static_cast<unsigned char>(s[i]);
  std::size_t len = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 < 0x80) return 1;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    len = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    len = 3;
    if (b0 == 0xE0) lo = 0xA0;
    if (b0 == 0xED) hi = 0x9F;
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    len = 4;
    if (b0 == 0xF0) lo = 0x90;
    if (b0 == 0xF4) hi = 0x8F;
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  for (std::size_t k = 1; k < len; ++k) {
    const auto b = static_cast<unsigned char>(s[i + k]);
    const unsigned char min = k == 1 ? lo : 0x80;
    const unsigned char max = k == 1 ? hi : 0xBF;
    if (b < min || b > max) return 0;
  }
  return len;
}

// The escape for an ASCII byte, or empty when it is written as is.
std::string_view ascii_escape(char c, std::array<char, 7>& scratch) {
  switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: break;
  }
  const auto u = static_cast<unsigned char>(c);
  if (u >= 0x20) return {};
  static constexpr char kHex[] = "0123456789abcdef";
  scratch = {'\\', 'u', '0', '0', kHex[u >> 4], kHex[u & 0xF], '\0'};
  return {scratch.data(), 6};
}

}  // namespace

void JsonWriter::before_value() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (!first_in_level_.empty()) {
    if (!first_in_level_.back()) raw(",");
    first_in_level_.back() = false;
  }
}

void JsonWriter::begin_object() {
  before_value();
  raw("{");
  first_in_level_.push_back(true);
}

void JsonWriter::end_object() {
  first_in_level_.pop_back();
  raw("}");
}

void JsonWriter::begin_array() {
  before_value();
  raw("[");
  first_in_level_.push_back(true);
}

void JsonWriter::end_array() {
  first_in_level_.pop_back();
  raw("]");
}

void JsonWriter::key(std::string_view name) {
  before_value();
  escaped(name);
  raw(":");
  after_key_ = true;
}

void JsonWriter::string(std::string_view text) {
  before_value();
  escaped(text);
}

void JsonWriter::integer(std::int64_t number) {
  before_value();
  raw(std::to_string(number));
}

void JsonWriter::boolean(bool flag) {
  before_value();
  raw(flag ? "true" : "false");
}

void JsonWriter::null() {
  before_value();
  raw("null");
}

void JsonWriter::optional_string(const std::optional<std::string_view>& text) {
  if (text) {
    string(*text);
  } else {
    null();
  }
}

void JsonWriter::escaped(std::string_view text) {
  raw("\"");
  std::array<char, 7> scratch{};
  std::size_t run_start = 0;  // bytes written verbatim are appended in runs
  std::size_t i = 0;
  auto flush = [&](std::size_t end) {
    if (end > run_start) raw(text.substr(run_start, end - run_start));
  };
  while (i < text.size()) {
    const std::size_t len = utf8_sequence_length(text, i);
    if (len == 0) {
      flush(i);
      raw(kReplacement);
      run_start = ++i;
      continue;
    }
    if (len == 1) {
      const std::string_view esc = ascii_escape(text[i], scratch);
      if (!esc.empty()) {
        flush(i);
        raw(esc);
        run_start = i + 1;
      }
    }
    i += len;
  }
  flush(text.size());
  raw("\"");
}

}  // namespace lockbox
