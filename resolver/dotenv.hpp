#pragma once
// dotenv files (SPEC §2 step 2): `--env-file FILE` and `import` read them, and they must parse
// exactly as the reference parser, the npm `dotenv` package, parses them. Matched version:
// dotenv 16.6.1 (its parse() is unchanged across 16.x):
//
//   const LINE = /(?:^|^)\s*(?:export\s+)?([\w.-]+)(?:\s*=\s*?|:\s+?)(\s*'(?:\\'|[^'])*'|\s*"
//                (?:\\"|[^"])*"|\s*`(?:\\`|[^`])*`|[^#\r\n]+)?\s*(?:#.*)?(?:$|$)/mg
//   (one line in the original; wrapped here after `\s*"`)
//   function parse (src) {
//     const obj = {}
//     let lines = src.toString()
//     lines = lines.replace(/\r\n?/mg, '\n')
//     let match
//     while ((match = LINE.exec(lines)) != null) {
//       const key = match[1]
//       let value = (match[2] || '')
//       value = value.trim()
//       const maybeQuote = value[0]
//       value = value.replace(/^(['"`])([\s\S]*)\1$/mg, '$2')
//       if (maybeQuote === '"') {
//         value = value.replace(/\\n/g, '\n')
//         value = value.replace(/\\r/g, '\r')
//       }
//       obj[key] = value
//     }
//     return obj
//   }
//
// What that means for a file (every rule is pinned by tests/resolver/dotenv_test.cpp):
// - `\r\n` and a lone `\r` end a line like `\n`. Blank lines and `#` lines are skipped, and so is
//   any line that is not `[export ]KEY=VALUE` or `[export ]KEY: VALUE` (a space or tab after the
//   `:` is required; none may come before it). Keys are `[A-Za-z0-9_.-]+`.
// - Unquoted values end at the first `#` (an inline comment, no space needed) or at the end of the
//   line, and are trimmed.
// - A value that opens with ', " or ` runs to the matching quote, across lines (multi-line values),
//   when only blanks and an optional `# comment` follow that quote; otherwise it is read unquoted
//   (quotes kept). Inside quotes `#` is literal. Quotes are stripped; in double quotes only, the
//   two-character sequences `\n` and `\r` become LF and CR. No other escapes, and no
//   interpolation: `${VAR}` and `$(cmd)` stay literal.
// - dotenv's quirks are kept on purpose, because a file must mean the same to both tools:
//   `KEY=` followed by a line holding a quoted value takes that value; `KEY:` followed by a line
//   break takes the next line; an escaped quote (`\'`, `\"`, `\``) closes the value when the real
//   closing quote is followed by other text; U+2028 and U+2029 end a comment or a line after a
//   quoted value but not an unquoted value (JavaScript's `.` and `$` against `[^#\r\n]`);
//   whitespace is JavaScript's (`\s`, so U+00A0, U+FEFF (a BOM), U+3000 … are blanks); a key
//   `__proto__` is silently dropped, as JavaScript's object does.
//
// lockbox's additions: a key dotenv accepts but that is no valid secret name (a `.`, or more than
// 256 characters) and a value that is not UTF-8 text without NUL are errors, not silent drops.

#include <string>
#include <string_view>
#include <vector>

#include "core/secret_value.hpp"
#include "core/status.hpp"

namespace lockbox::resolver {

struct DotenvEntry {
  std::string key;    // a valid secret name (lockbox::is_valid_name)
  SecretValue value;  // UTF-8 text without NUL; may be empty or span lines
  int line = 0;       // 1-based line of the entry's first character (`export` or the key)
};

// Parses `content`, the whole file, as dotenv 16 does (see above). `source` names the file in
// messages.
// Returns every entry in file order. A key given twice appears twice, each with its own value and
// line: dotenv keeps the last one, so a caller that applies the entries in order (or keeps the
// last per key) gets dotenv's result, and one that wants to warn about duplicates can.
// Errors (kBadInput, the first in file order; messages hold neither the key, since a value may have
// been pasted there, nor any value):
//   "<source>:<line>: invalid secret name"          key not [A-Za-z0-9_-]{1,256}
//   "<source>:<line>: value contains a NUL byte"     value holds a NUL byte
//   "<source>:<line>: value is not valid UTF-8 text" value holds invalid UTF-8
// Every temporary copy of value bytes is wiped before it is freed; `content` is the caller's to
// wipe. Time and memory are linear in content.size(). Thread-safety: a pure function.
Result<std::vector<DotenvEntry>> parse_dotenv(std::string_view content, std::string_view source);

// True when `text` can be a secret value (SPEC §1): strict UTF-8 (lockbox::is_valid_utf8) and
// no NUL byte.
bool is_valid_value_text(std::string_view text);

}  // namespace lockbox::resolver
