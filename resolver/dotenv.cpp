#include "resolver/dotenv.hpp"

#include "core/utf8.hpp"

#include <array>
#include <cstddef>
#include <optional>
#include <utility>

#include "core/scope.hpp"

// A hand-written equivalent of dotenv's LINE regex (quoted in the header). Why it is equivalent:
// the comments below name the regex piece each function stands for and why backtracking into that
// piece can never produce another match. The text is dotenv's after its `\r\n?` -> `\n` step, so
// the only line terminators left are `\n`, U+2028 and U+2029 (JavaScript's `^`, `$` and `.` see
// those); `\s` is JavaScript's whitespace (ws_len). Non-ASCII bytes that are not one of those code
// points are ordinary characters, as U+FFFD would be for the JavaScript parser.

namespace lockbox::resolver {
namespace {

constexpr std::size_t kNpos = std::string_view::npos;

unsigned char byte_at(std::string_view s, std::size_t i) {
  return static_cast<unsigned char>(s[i]);
}

// Bytes of the line terminator (`\n`, U+2028, U+2029) at s[i]; 0 when there is none.
std::size_t lt_len(std::string_view s, std::size_t i) {
  if (i >= s.size()) return 0;
  if (s[i] == '\n') return 1;
  if (i + 2 < s.size() && byte_at(s, i) == 0xE2 && byte_at(s, i + 1) == 0x80 &&
      (byte_at(s, i + 2) == 0xA8 || byte_at(s, i + 2) == 0xA9)) {
    return 3;
  }
  return 0;
}

// Bytes of the JavaScript `\s` code point (WhiteSpace or LineTerminator) at s[i]; 0 when none.
// The set: \t \n \v \f \r space U+00A0 U+1680 U+2000-200A U+2028 U+2029 U+202F U+205F U+3000
// U+FEFF, checked against Node 20.
std::size_t ws_len(std::string_view s, std::size_t i) {
  if (i >= s.size()) return 0;
  const unsigned char c = byte_at(s, i);
  if (c == ' ' || (c >= '\t' && c <= '\r')) return 1;
  if (c == 0xC2) return i + 1 < s.size() && byte_at(s, i + 1) == 0xA0 ? 2 : 0;
  if (c < 0xE1 || c > 0xEF || i + 2 >= s.size()) return 0;
  const unsigned b1 = byte_at(s, i + 1);
  const unsigned b2 = byte_at(s, i + 2);
  if ((b1 & 0xC0u) != 0x80u || (b2 & 0xC0u) != 0x80u) return 0;
  const unsigned cp = ((c & 0x0Fu) << 12) | ((b1 & 0x3Fu) << 6) | (b2 & 0x3Fu);
  const bool is_ws = cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) || cp == 0x2028 ||
                     cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000 || cp == 0xFEFF;
  return is_ws ? 3 : 0;
}

std::size_t skip_ws(std::string_view s, std::size_t i) {
  while (std::size_t n = ws_len(s, i)) i += n;
  return i;
}

// Position just after the first line terminator at or after i, or s.size().
std::size_t next_line_start(std::string_view s, std::size_t i) {
  for (; i < s.size(); ++i) {
    if (std::size_t n = lt_len(s, i)) return i + n;
  }
  return s.size();
}

bool is_key_char(char c) {  // [\w.-]
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '.' || c == '-';
}

bool is_quote(char c) {
  return c == '\'' || c == '"' || c == '`';
}

// A std::string that held secret bytes: wiped (whole buffer) before it is freed. Its user
// reserves the buffer up front so that it never reallocates and leaves a copy behind.
struct WipedString {
  std::string text;
  ~WipedString() {
    text.resize(text.capacity());
    wipe(text.data(), text.size());
  }
};

// dotenv's `lines.replace(/\r\n?/mg, '\n')`.
void normalize_newlines(std::string_view in, std::string& out) {
  out.reserve(in.size());
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (in[i] != '\r') {
      out.push_back(in[i]);
      continue;
    }
    out.push_back('\n');
    if (i + 1 < in.size() && in[i + 1] == '\n') ++i;
  }
}

struct LineMatch {
  std::size_t key_begin = 0, key_end = 0;      // match[1]
  std::size_t value_begin = 0, value_end = 0;  // match[2] ('' when absent)
  std::size_t end = 0;                         // lastIndex after the match
};

class LineMatcher {
 public:
  explicit LineMatcher(std::string_view text) : s_(text) {}

  // The LINE match whose leading `^\s*` ends at k (s_[k] is not blank), or nullopt.
  // `(?:export\s+)?` is greedy: first with the prefix, then without it (key "export…"). Giving
  // back part of `\s+` cannot help, since a key never starts with a blank.
  std::optional<LineMatch> match_at(std::size_t k) const {
    if (s_.substr(k, 6) == "export" && ws_len(s_, k + 6) > 0) {
      if (auto m = match_key_at(skip_ws(s_, k + 6))) return m;
    }
    return match_key_at(k);
  }

 private:
  // `([\w.-]+)` then the separator, then the value. The key is in effect possessive: a shorter key
  // leaves a key character where the separator (a blank, `=` or `:`) must start.
  std::optional<LineMatch> match_key_at(std::size_t x) const {
    std::size_t y = x;
    while (y < s_.size() && is_key_char(s_[y])) ++y;
    if (y == x) return std::nullopt;
    const std::size_t v = value_start(y);
    if (v == kNpos) return std::nullopt;
    LineMatch m = match_value(v);
    m.key_begin = x;
    m.key_end = y;
    return m;
  }

  // `(?:\s*=\s*?|:\s+?)`: where the value group starts, or kNpos. The lazy `\s*?` after `=` stays
  // empty and `\s+?` after `:` takes one character, because with those lengths the rest of the
  // regex always matches (see match_value), so the engine never tries longer ones. Giving back
  // blanks before `=` cannot help either: `=` would then have to match a blank.
  std::size_t value_start(std::size_t y) const {
    const std::size_t z = skip_ws(s_, y);
    if (z < s_.size() && s_[z] == '=') return z + 1;
    if (y < s_.size() && s_[y] == ':') {
      if (std::size_t n = ws_len(s_, y + 1)) return y + 1 + n;
    }
    return kNpos;
  }

  // The value group and the tail `\s*(?:#.*)?$`, alternatives in the regex's order. The quoted
  // alternatives are tried when the first non-blank (line breaks included) is their quote. Then
  // `[^#\r\n]+`: when it matches it stops at `#`, `\n` or the end, where the tail always matches.
  // Else the group is skipped, which happens only at `#`, `\n` or the end: again the tail matches.
  LineMatch match_value(std::size_t v) const {
    LineMatch m;
    m.value_begin = v;
    const std::size_t o = skip_ws(s_, v);
    if (o < s_.size() && is_quote(s_[o])) {
      const std::size_t close = closing_quote(o);
      if (close != kNpos) {
        m.value_end = close + 1;
        m.end = tail_end(close + 1);
        return m;
      }
    }
    std::size_t e = v;
    while (e < s_.size() && s_[e] != '#' && s_[e] != '\n') ++e;
    m.value_end = e;
    m.end = tail_end(e);
    return m;
  }

  // `\s*Q(?:\\Q|[^Q])*Q` with the opening quote Q at o, followed by a matching tail: the closing
  // quote's position, or kNpos. The body runs greedily to u, the first Q not preceded by `\`
  // (o itself is preceded by a blank, `=` or `:`, never `\`). If the tail fails after u, the engine
  // backtracks, and the only other places a closing Q can match are the escaped `\Q` inside the
  // body (taking the `\` alone as [^Q]); it tries them from the right. So: u if its tail matches,
  // else the rightmost escaped Q in (o, u) whose tail matches.
  // Cost: each call scans one stretch between two unescaped quotes, and the opening quotes of
  // successive calls only move forward, so all calls together scan the text at most three times.
  std::size_t closing_quote(std::size_t o) const {
    const char q = s_[o];
    std::size_t best_escaped = kNpos;
    for (std::size_t i = o + 1; i < s_.size(); ++i) {
      if (s_[i] != q) continue;
      if (s_[i - 1] != '\\') return tail_end(i + 1) != kNpos ? i : best_escaped;
      if (tail_end(i + 1) != kNpos) best_escaped = i;
    }
    return best_escaped;
  }

  // Where the tail `\s*(?:#.*)?(?:$|$)` starting at r ends, or kNpos when it cannot match. Greedy
  // `\s*` runs to w: at the end `$` matches; at `#` the comment runs to the end of its line; else
  // `\s*` gives characters back until `$` holds, i.e. before the last line break in [r, w).
  std::size_t tail_end(std::size_t r) const {
    std::size_t last_break = kNpos;
    std::size_t w = r;
    while (std::size_t n = ws_len(s_, w)) {
      if (lt_len(s_, w) > 0) last_break = w;
      w += n;
    }
    if (w >= s_.size()) return s_.size();
    if (s_[w] == '#') {
      while (w < s_.size() && lt_len(s_, w) == 0) ++w;
      return w;
    }
    return last_break;
  }

  std::string_view s_;
};

// JavaScript's String.prototype.trim (same code points as `\s`).
std::string_view js_trim(std::string_view t) {
  t.remove_prefix(skip_ws(t, 0));
  while (!t.empty()) {
    std::size_t n = 0;
    for (std::size_t len : {std::size_t{1}, std::size_t{2}, std::size_t{3}}) {
      if (t.size() >= len && ws_len(t, t.size() - len) == len) n = len;
    }
    if (n == 0) break;
    t.remove_suffix(n);
  }
  return t;
}

// Appends `seg`, replacing the two-character sequences `\n` and `\r` with LF and CR when
// `expand` (dotenv's two replace() calls; one pass is the same, as neither creates the other).
void append_segment(SecretValue& out, std::string_view seg, bool expand) {
  if (!expand) {
    out.append(seg);
    return;
  }
  std::size_t from = 0;
  for (std::size_t i = 0; i + 1 < seg.size(); ++i) {
    if (seg[i] != '\\' || (seg[i + 1] != 'n' && seg[i + 1] != 'r')) continue;
    out.append(seg.substr(from, i - from));
    out.append(seg[i + 1] == 'n' ? "\n" : "\r");
    from = i + 2;
    ++i;
  }
  out.append(seg.substr(from));
}

// dotenv's post-processing of match[2]: trim, `replace(/^(['"`])([\s\S]*)\1$/mg, '$2')`, and the
// `\n`/`\r` expansion when the trimmed value starts with `"`.
// The /mg replace tries each line start p in order; at a quote Q the greedy `[\s\S]*` picks the
// last Q that ends a line (or the text). That last Q is the same for every p, so each quote kind
// is stripped at most once, and the next search starts after it.
// Expansion is done per kept segment: a removed quote sits after a line break or before one (or at
// an end), so no `\n` pair spans two segments.
SecretValue finish_value(std::string_view raw) {
  const std::string_view t = js_trim(raw);
  const bool expand = !t.empty() && t[0] == '"';
  std::array<std::size_t, 3> last_close = {kNpos, kNpos, kNpos};
  constexpr std::string_view kQuotes = "'\"`";
  for (std::size_t c = 0; c < t.size(); ++c) {
    const std::size_t k = kQuotes.find(t[c]);
    if (k != kNpos && (c + 1 == t.size() || lt_len(t, c + 1) > 0)) last_close[k] = c;
  }
  SecretValue out;
  std::size_t copied = 0;
  for (std::size_t p = 0; p < t.size(); p = next_line_start(t, p)) {
    const std::size_t k = kQuotes.find(t[p]);
    if (k == kNpos || last_close[k] == kNpos || last_close[k] <= p) continue;
    append_segment(out, t.substr(copied, p - copied), expand);
    append_segment(out, t.substr(p + 1, last_close[k] - p - 1), expand);
    copied = last_close[k] + 1;
    p = copied;  // the line break (or end) after the stripped quote
  }
  append_segment(out, t.substr(copied), expand);
  return out;
}

// 1-based line numbers of increasing positions in the normalised text.
class LineCounter {
 public:
  explicit LineCounter(std::string_view text) : s_(text) {}
  int line_at(std::size_t pos) {
    for (; pos_ < pos; ++pos_) {
      if (s_[pos_] == '\n') ++line_;
    }
    return line_;
  }

 private:
  std::string_view s_;
  std::size_t pos_ = 0;
  int line_ = 1;
};

Status entry_error(std::string_view source, int line, std::string_view what) {
  return bad_input(std::string(source) + ":" + std::to_string(line) + ": " + std::string(what));
}

}  // namespace

Result<std::vector<DotenvEntry>> parse_dotenv(std::string_view content, std::string_view source) {
  WipedString normalized;
  normalize_newlines(content, normalized.text);
  const std::string_view s = normalized.text;
  const LineMatcher matcher(s);
  LineCounter lines(s);
  std::vector<DotenvEntry> entries;
  // LINE.exec retries at each line start. Its leading `\s*` skips blank lines, so trying the first
  // non-blank character after a line start is the same; a failed try resumes at the next line.
  // A match ends at a line break or at the end, so the next try starts from there.
  std::size_t k = skip_ws(s, 0);
  while (k < s.size()) {
    const std::optional<LineMatch> m = matcher.match_at(k);
    if (!m) {
      k = skip_ws(s, next_line_start(s, k));
      continue;
    }
    const int line = lines.line_at(k);
    std::string key(s.substr(m->key_begin, m->key_end - m->key_begin));
    k = skip_ws(s, m->end);
    if (key == "__proto__") continue;  // `obj['__proto__'] = string` is a no-op in JavaScript
    if (!is_valid_name(key)) {
      wipe(key.data(), key.size());  // a value may have been pasted where the key goes
      return entry_error(source, line, "invalid secret name");
    }
    SecretValue value = finish_value(s.substr(m->value_begin, m->value_end - m->value_begin));
    if (value.reveal().find('\0') != std::string_view::npos) {
      return entry_error(source, line, "value contains a NUL byte");
    }
    if (!is_valid_value_text(value.reveal())) {
      return entry_error(source, line, "value is not valid UTF-8 text");
    }
    entries.push_back(DotenvEntry{std::move(key), std::move(value), line});
  }
  return entries;
}

bool is_valid_value_text(std::string_view text) {
  return text.find('\0') == std::string_view::npos && is_valid_utf8(text);
}

}  // namespace lockbox::resolver
