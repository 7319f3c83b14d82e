// Tests for resolver/dotenv: the parser must agree with the npm `dotenv` package, v16.6.1.
// Expected values come from dotenv's own test suite (tests/.env, tests/.env-multiline,
// tests/test-parse.js, tests/test-parse-multiline.js) and, for the edge cases, from running
// dotenv.parse() 16.6.1 on the same input under Node 20.

#include "resolver/dotenv.hpp"
#include "core/utf8.hpp"

#include <catch2/catch.hpp>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace {

using lockbox::StatusCode;
using lockbox::is_valid_utf8;
using lockbox::resolver::is_valid_value_text;
using lockbox::resolver::parse_dotenv;

struct Kv {
  std::string key;
  std::string value;
  int line;
};

std::vector<Kv> entries_of(std::string_view content) {
  auto result = parse_dotenv(content, "test.env");
  INFO(result.status().message());
  REQUIRE(result.is_ok());
  std::vector<Kv> out;
  for (const auto& e : result.value()) {
    out.push_back({e.key, std::string(e.value.reveal()), e.line});
  }
  return out;
}

// dotenv's result: an object where a later key overwrites an earlier one.
std::map<std::string, std::string> object_of(std::string_view content) {
  std::map<std::string, std::string> out;
  for (auto& kv : entries_of(content)) out[kv.key] = kv.value;
  return out;
}

lockbox::Status error_of(std::string_view content) {
  auto result = parse_dotenv(content, "dir/test.env");
  REQUIRE_FALSE(result.is_ok());
  return result.status();
}

// dotenv's tests/.env as of v16 (the same rules as 16.6.1).
constexpr std::string_view kDotenvFixture = R"env(BASIC=basic

# previous line intentionally left blank
AFTER_LINE=after_line
EMPTY=
EMPTY_SINGLE_QUOTES=''
EMPTY_DOUBLE_QUOTES=""
EMPTY_BACKTICKS=``
SINGLE_QUOTES='single_quotes'
SINGLE_QUOTES_SPACED='    single quotes    '
DOUBLE_QUOTES="double_quotes"
DOUBLE_QUOTES_SPACED="    double quotes    "
DOUBLE_QUOTES_INSIDE_SINGLE='double "quotes" work inside single quotes'
DOUBLE_QUOTES_WITH_NO_SPACE_BRACKET="{ port: $MONGOLAB_PORT}"
SINGLE_QUOTES_INSIDE_DOUBLE="single 'quotes' work inside double quotes"
BACKTICKS_INSIDE_SINGLE='`backticks` work inside single quotes'
BACKTICKS_INSIDE_DOUBLE="`backticks` work inside double quotes"
BACKTICKS=`backticks`
BACKTICKS_SPACED=`    backticks    `
DOUBLE_QUOTES_INSIDE_BACKTICKS=`double "quotes" work inside backticks`
SINGLE_QUOTES_INSIDE_BACKTICKS=`single 'quotes' work inside backticks`
DOUBLE_AND_SINGLE_QUOTES_INSIDE_BACKTICKS=`double "quotes" and single 'quotes' )env"
                                            R"env(work inside backticks`
EXPAND_NEWLINES="expand\nnew\nlines"
DONT_EXPAND_UNQUOTED=dontexpand\nnewlines
DONT_EXPAND_SQUOTED='dontexpand\nnewlines'
# COMMENTS=work
INLINE_COMMENTS=inline comments # work #very #well
INLINE_COMMENTS_SINGLE_QUOTES='inline comments outside of #singlequotes' # work
INLINE_COMMENTS_DOUBLE_QUOTES="inline comments outside of #doublequotes" # work
INLINE_COMMENTS_BACKTICKS=`inline comments outside of #backticks` # work
INLINE_COMMENTS_SPACE=inline comments start with a#number sign. no space required.
EQUAL_SIGNS=equals==
RETAIN_INNER_QUOTES={"foo": "bar"}
RETAIN_INNER_QUOTES_AS_STRING='{"foo": "bar"}'
RETAIN_INNER_QUOTES_AS_BACKTICKS=`{"foo": "bar's"}`
TRIM_SPACE_FROM_UNQUOTED=    some spaced out string
USERNAME=therealnerdybeast@example.tld
    SPACED_KEY = parsed
)env";

}  // namespace

TEST_CASE("parses dotenv's own fixture exactly as dotenv's tests expect", "[resolver][dotenv]") {
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"BASIC", "basic"},
      {"AFTER_LINE", "after_line"},
      {"EMPTY", ""},
      {"EMPTY_SINGLE_QUOTES", ""},
      {"EMPTY_DOUBLE_QUOTES", ""},
      {"EMPTY_BACKTICKS", ""},
      {"SINGLE_QUOTES", "single_quotes"},
      {"SINGLE_QUOTES_SPACED", "    single quotes    "},
      {"DOUBLE_QUOTES", "double_quotes"},
      {"DOUBLE_QUOTES_SPACED", "    double quotes    "},
      {"DOUBLE_QUOTES_INSIDE_SINGLE", "double \"quotes\" work inside single quotes"},
      {"DOUBLE_QUOTES_WITH_NO_SPACE_BRACKET", "{ port: $MONGOLAB_PORT}"},
      {"SINGLE_QUOTES_INSIDE_DOUBLE", "single 'quotes' work inside double quotes"},
      {"BACKTICKS_INSIDE_SINGLE", "`backticks` work inside single quotes"},
      {"BACKTICKS_INSIDE_DOUBLE", "`backticks` work inside double quotes"},
      {"BACKTICKS", "backticks"},
      {"BACKTICKS_SPACED", "    backticks    "},
      {"DOUBLE_QUOTES_INSIDE_BACKTICKS", "double \"quotes\" work inside backticks"},
      {"SINGLE_QUOTES_INSIDE_BACKTICKS", "single 'quotes' work inside backticks"},
      {"DOUBLE_AND_SINGLE_QUOTES_INSIDE_BACKTICKS",
       "double \"quotes\" and single 'quotes' work inside backticks"},
      {"EXPAND_NEWLINES", "expand\nnew\nlines"},
      {"DONT_EXPAND_UNQUOTED", "dontexpand\\nnewlines"},
      {"DONT_EXPAND_SQUOTED", "dontexpand\\nnewlines"},
      {"INLINE_COMMENTS", "inline comments"},
      {"INLINE_COMMENTS_SINGLE_QUOTES", "inline comments outside of #singlequotes"},
      {"INLINE_COMMENTS_DOUBLE_QUOTES", "inline comments outside of #doublequotes"},
      {"INLINE_COMMENTS_BACKTICKS", "inline comments outside of #backticks"},
      {"INLINE_COMMENTS_SPACE", "inline comments start with a"},
      {"EQUAL_SIGNS", "equals=="},
      {"RETAIN_INNER_QUOTES", "{\"foo\": \"bar\"}"},
      {"RETAIN_INNER_QUOTES_AS_STRING", "{\"foo\": \"bar\"}"},
      {"RETAIN_INNER_QUOTES_AS_BACKTICKS", "{\"foo\": \"bar's\"}"},
      {"TRIM_SPACE_FROM_UNQUOTED", "some spaced out string"},
      {"USERNAME", "therealnerdybeast@example.tld"},
      {"SPACED_KEY", "parsed"},
  };
  const auto entries = entries_of(kDotenvFixture);
  REQUIRE(entries.size() == expected.size());  // "# COMMENTS=work" is not an entry
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(expected[i].first);
    CHECK(entries[i].key == expected[i].first);
    CHECK(entries[i].value == expected[i].second);
  }
  CHECK(object_of(kDotenvFixture).count("COMMENTS") == 0);
  CHECK(entries[0].line == 1);
  CHECK(entries[1].line == 4);  // AFTER_LINE, after a blank line and a comment
  CHECK(entries.back().line == 38);
}

TEST_CASE("parses dotenv's multi-line fixture", "[resolver][dotenv]") {
  constexpr std::string_view kMultiline = R"env(BASIC=basic
MULTI_DOUBLE_QUOTED="THIS
IS
A
MULTILINE
STRING"

MULTI_SINGLE_QUOTED='THIS
IS
A
MULTILINE
STRING'

MULTI_BACKTICKED=`THIS
IS
A
"MULTILINE'S"
STRING`

MULTI_PEM_DOUBLE_QUOTED="-----BEGIN PUBLIC KEY-----
MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCcU7+gX4B7EJYDs8rCLpF/+9BN
-----END PUBLIC KEY-----"
export EXPORT_EXAMPLE = ignore export
AFTER=after)env";
  const auto entries = entries_of(kMultiline);
  const std::vector<Kv> expected = {
      {"BASIC", "basic", 1},
      {"MULTI_DOUBLE_QUOTED", "THIS\nIS\nA\nMULTILINE\nSTRING", 2},
      {"MULTI_SINGLE_QUOTED", "THIS\nIS\nA\nMULTILINE\nSTRING", 8},
      {"MULTI_BACKTICKED", "THIS\nIS\nA\n\"MULTILINE'S\"\nSTRING", 14},
      {"MULTI_PEM_DOUBLE_QUOTED",
       "-----BEGIN PUBLIC "
       "KEY-----\nMIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQCcU7+gX4B7EJYDs8rCLpF/+9BN\n"
       "-----END PUBLIC KEY-----",
       20},
      {"EXPORT_EXAMPLE", "ignore export", 23},
      {"AFTER", "after", 24},
  };
  REQUIRE(entries.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    INFO(expected[i].key);
    CHECK(entries[i].key == expected[i].key);
    CHECK(entries[i].value == expected[i].value);
    CHECK(entries[i].line == expected[i].line);
  }
}

TEST_CASE("parses \\n, \\r\\n and \\r line endings alike", "[resolver][dotenv]") {
  const std::map<std::string, std::string> expected = {
      {"SERVER", "localhost"}, {"PASSWORD", "password"}, {"DB", "tests"}};
  CHECK(object_of("SERVER=localhost\nPASSWORD=password\nDB=tests\n") == expected);
  CHECK(object_of("SERVER=localhost\r\nPASSWORD=password\r\nDB=tests\r\n") == expected);
  CHECK(object_of("SERVER=localhost\rPASSWORD=password\rDB=tests\r") == expected);
  CHECK(object_of("BUFFER=true") == std::map<std::string, std::string>{{"BUFFER", "true"}});
}

TEST_CASE("a CRLF file leaves no CR in values and counts its lines", "[resolver][dotenv]") {
  const auto entries = entries_of("A=1\r\n\r\nB=\"x\r\ny\"\r\nC='p\r\nq'\r\nD=4");
  REQUIRE(entries.size() == 4);
  CHECK(entries[0].value == "1");
  CHECK(entries[1].value == "x\ny");
  CHECK(entries[2].value == "p\nq");
  CHECK(entries[3].value == "4");
  CHECK(entries[1].line == 3);
  CHECK(entries[2].line == 5);
  CHECK(entries[3].line == 7);
}

TEST_CASE("follows dotenv on every syntax rule and quirk", "[resolver][dotenv]") {
  struct Case {
    std::string_view input;
    std::map<std::string, std::string> expected;
  };
  using M = std::map<std::string, std::string>;
  const std::vector<Case> cases = {
      // inline comments and skipped lines
      {"A=1#c", M{{"A", "1"}}},
      {"A=a #b", M{{"A", "a"}}},
      {"A=#x", M{{"A", ""}}},
      {"A= # x", M{{"A", ""}}},
      {"# A=1", M{}},
      {"  # A=1\nB=2", M{{"B", "2"}}},
      {"A", M{}},
      {"A B=1", M{}},
      {"just some words\nB=2", M{{"B", "2"}}},
      // keys and separators
      {"1A=ok", M{{"1A", "ok"}}},
      {"a-b=1", M{{"a-b", "1"}}},
      {"A =  1  ", M{{"A", "1"}}},
      {"A: b", M{{"A", "b"}}},
      {"A:\tb # c", M{{"A", "b"}}},
      {"A : b", M{}},
      {"A:b", M{}},
      {"A:\nb", M{{"A", "b"}}},  // `:\s+?` takes the line break, the value is the next line
      {"A=\nb", M{{"A", ""}}},
      {"A\n=b", M{{"A", "b"}}},
      // export
      {"export A=1", M{{"A", "1"}}},
      {"export\tA=1", M{{"A", "1"}}},
      {"export   A=1", M{{"A", "1"}}},
      {"export\nA=1", M{{"A", "1"}}},
      {"export A: b", M{{"A", "b"}}},
      {"export=1", M{{"export", "1"}}},
      {"exportA=1", M{{"exportA", "1"}}},
      {"export A", M{}},
      // quotes and escapes
      {"A=\"a\\nb\\rc\"", M{{"A", "a\nb\rc"}}},
      {"A='a\\nb'", M{{"A", "a\\nb"}}},
      {"A=`a\\nb`", M{{"A", "a\\nb"}}},
      {"A=a\\nb", M{{"A", "a\\nb"}}},
      {"A=\"\\\\n\"", M{{"A", "\\\n"}}},
      {"A=\"a\\nb", M{{"A", "\"a\nb"}}},  // unterminated: kept, but still expanded
      {"A=\"a\" b", M{{"A", "\"a\" b"}}},
      {"A='a' b", M{{"A", "'a' b"}}},
      {"A=\"a\"b\"", M{{"A", "a\"b"}}},
      {"A=\"a\" # c", M{{"A", "a"}}},
      {"A= \"  x  \" ", M{{"A", "  x  "}}},
      {"A=\"a\nb\"\nB=2", M{{"A", "a\nb"}, {"B", "2"}}},
      {"A='a\nb'", M{{"A", "a\nb"}}},
      {"A=\"unterminated\nB=1", M{{"A", "\"unterminated"}, {"B", "1"}}},
      {"A=\n\"q\"\nB=2", M{{"A", "q"}, {"B", "2"}}},  // a quoted value on the next line
      {"A= \n'x'", M{{"A", "x"}}},
      {"A='a\\'b'", M{{"A", "a\\'b"}}},
      {"A='a\\'b' x\n", M{{"A", "'a\\'b' x"}}},
      {"A='a\\' #c' x", M{{"A", "a\\"}}},  // an escaped quote closes when the real one cannot
      {"A='a\\'\nb' x\nB=2", M{{"A", "a\\"}, {"B", "2"}}},
      {"A=\"a\\\" # c\" x", M{{"A", "a\\"}}},
      {"A=`a\\` # c` x", M{{"A", "a\\"}}},
      // JavaScript whitespace and line terminators
      {"\uFEFFA=1", M{{"A", "1"}}},                    // a BOM is a blank
      {"A=\u00A0x\u00A0", M{{"A", "x"}}},              // U+00A0
      {"A=\"a\"\u3000#c", M{{"A", "a"}}},              // U+3000
      {"A=1\u2028B=2", M{{"A", "1\u2028B=2"}}},        // U+2028 inside [^#\r\n]+ ...
      {"A='x'\u2028B=2", M{{"A", "x"}, {"B", "2"}}},   // ... but a line end for `$`
      {"A=1 #c\u2029B=2", M{{"A", "1"}, {"B", "2"}}},  // and for `.`
      {"A=x\u2028'y'", M{{"A", "x\u2028y"}}},          // quotes stripped per line (/m)
      // JavaScript objects ignore a `__proto__` key
      {"__proto__=x\nA=1", M{{"A", "1"}}},
  };
  for (const auto& c : cases) {
    INFO("input: " << c.input);
    CHECK(object_of(c.input) == c.expected);
  }
}

TEST_CASE("values are never interpolated", "[resolver][dotenv]") {
  const auto object = object_of("B=x\nA=${B}\nC=\"$(id)\"\nD='${B}'\nE=$B\nF=\"\\${B}\"\n");
  CHECK(object.at("A") == "${B}");
  CHECK(object.at("C") == "$(id)");
  CHECK(object.at("D") == "${B}");
  CHECK(object.at("E") == "$B");
  CHECK(object.at("F") == "\\${B}");
}

TEST_CASE("entries after a multi-line value carry their own line numbers", "[resolver][dotenv]") {
  const auto entries =
      entries_of("\n\nA=1\n\nB=\"x\ny\nz\"\n# c\nC=3\nexport\nD=4\nE='\n\n'\nF=6\n");
  const std::vector<std::pair<std::string, int>> expected = {{"A", 3},  {"B", 5},  {"C", 9},
                                                             {"D", 10}, {"E", 12}, {"F", 15}};
  REQUIRE(entries.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(entries[i].key == expected[i].first);
    CHECK(entries[i].line == expected[i].second);
  }
  CHECK(entries[1].value == "x\ny\nz");
  CHECK(entries[4].value == "\n\n");
}

TEST_CASE("a repeated key is reported each time, in order; the last one wins",
          "[resolver][dotenv]") {
  const auto entries = entries_of("A=1\nB=2\nA=3\n");
  REQUIRE(entries.size() == 3);
  CHECK((entries[0].key == "A" && entries[0].value == "1" && entries[0].line == 1));
  CHECK((entries[2].key == "A" && entries[2].value == "3" && entries[2].line == 3));
  CHECK(object_of("A=1\nB=2\nA=3\n").at("A") == "3");
}

TEST_CASE("an empty, blank or comment-only file has no entries", "[resolver][dotenv]") {
  CHECK(entries_of("").empty());
  CHECK(entries_of("\n\n  \t\n").empty());
  CHECK(entries_of("\r\n\r\n").empty());
  CHECK(entries_of("# only a comment\n# and another").empty());
}

TEST_CASE("the last line needs no newline", "[resolver][dotenv]") {
  CHECK(object_of("A=1\nB=two") == std::map<std::string, std::string>{{"A", "1"}, {"B", "two"}});
  CHECK(object_of("A='q'") == std::map<std::string, std::string>{{"A", "q"}});
  CHECK(object_of("A=") == std::map<std::string, std::string>{{"A", ""}});
  CHECK(object_of("A=x # c") == std::map<std::string, std::string>{{"A", "x"}});
}

TEST_CASE("a key dotenv accepts but that is no secret name is an error naming file and line",
          "[resolver][dotenv]") {
  const auto status = error_of("GOOD=1\n\nmy.secret=hunter2-value\n");
  CHECK(status.code() == StatusCode::kBadInput);
  CHECK(status.message() == "dir/test.env:3: invalid secret name");
  CHECK(status.message().find("hunter2") == std::string::npos);
  CHECK(status.message().find("my.secret") == std::string::npos);

  const std::string long_key(257, 'K');
  CHECK(error_of("A=1\n" + long_key + "=v").message() == "dir/test.env:2: invalid secret name");
  CHECK(entries_of(std::string(256, 'K') + "=v").size() == 1);
}

TEST_CASE("a value with a NUL byte or invalid UTF-8 is refused without echoing it",
          "[resolver][dotenv]") {
  using namespace std::string_literals;
  const auto nul = error_of("A=1\nB=sec\0ret\n"s);
  CHECK(nul.code() == StatusCode::kBadInput);
  CHECK(nul.message() == "dir/test.env:2: value contains a NUL byte");
  CHECK(nul.message().find("sec") == std::string::npos);

  const auto bad = error_of("A=\"multi\nline \xC3\x28 secret\"\n");
  CHECK(bad.message() == "dir/test.env:1: value is not valid UTF-8 text");
  CHECK(bad.message().find("secret") == std::string::npos);
  CHECK(error_of("A=\xED\xA0\x80").code() == StatusCode::kBadInput);  // a surrogate

  // Outside values such bytes are just skipped text, as dotenv skips them.
  CHECK(object_of("# \0 \xFF\nA=1\n\xFF\xFE junk\n"s) ==
        std::map<std::string, std::string>{{"A", "1"}});
  CHECK(object_of("A=caf\xC3\xA9 \xF0\x9F\x8E\x89") ==
        std::map<std::string, std::string>{{"A", "caf\xC3\xA9 \xF0\x9F\x8E\x89"}});
}

TEST_CASE("a large hostile file parses", "[resolver][dotenv]") {
  // Patterns that make a backtracking or naive rescanning parser quadratic: many openings of an
  // unterminated quote, escaped quotes, and long blank runs. No timed assertion (figures belong in
  // bench/); a quadratic parser would take minutes here and hit ctest's per-test timeout.
  std::string content;
  for (int i = 0; i < 20000; ++i) content += "A='x\\' y\nB=\"\nC=`\\`\\`     \n    \t\n";
  auto result = parse_dotenv(content, "big.env");
  REQUIRE(result.is_ok());
  CHECK_FALSE(result.value().empty());
}

TEST_CASE("is_valid_utf8 accepts exactly the shortest forms up to U+10FFFF", "[resolver][utf8]") {
  struct Case {
    std::string_view bytes;
    bool valid;
  };
  using namespace std::string_view_literals;
  const std::vector<Case> cases = {
      {""sv, true},
      {"plain ascii\n\t"sv, true},
      {"\0"sv, true},  // valid UTF-8 (is_valid_value_text refuses it)
      {"\x7F"sv, true},
      {"\xC2\x80"sv, true},          // U+0080
      {"\xDF\xBF"sv, true},          // U+07FF
      {"\xE0\xA0\x80"sv, true},      // U+0800
      {"\xED\x9F\xBF"sv, true},      // U+D7FF
      {"\xEE\x80\x80"sv, true},      // U+E000
      {"\xEF\xBF\xBF"sv, true},      // U+FFFF
      {"\xF0\x90\x80\x80"sv, true},  // U+10000
      {"\xF4\x8F\xBF\xBF"sv, true},  // U+10FFFF
      {"\x80"sv, false},             // lone continuation byte
      {"\xBF"sv, false},
      {"\xC0\x80"sv, false},          // overlong NUL
      {"\xC1\xBF"sv, false},          // overlong
      {"\xE0\x80\x80"sv, false},      // overlong 3-byte
      {"\xE0\x9F\xBF"sv, false},      // overlong 3-byte
      {"\xF0\x80\x80\x80"sv, false},  // overlong 4-byte
      {"\xF0\x8F\xBF\xBF"sv, false},  // overlong 4-byte
      {"\xED\xA0\x80"sv, false},      // U+D800
      {"\xED\xBF\xBF"sv, false},      // U+DFFF
      {"\xF4\x90\x80\x80"sv, false},  // U+110000
      {"\xF5\x80\x80\x80"sv, false},
      {"\xFF"sv, false},
      {"\xC3"sv, false},          // truncated
      {"\xE2\x82"sv, false},      // truncated
      {"\xF0\x9F\x8E"sv, false},  // truncated
      {"a\xC3(b"sv, false},       // bad continuation
      {"\xE2\x28\xA1"sv, false},
  };
  for (const auto& c : cases) {
    INFO("case " << (&c - cases.data()));
    CHECK(is_valid_utf8(c.bytes) == c.valid);
  }
  CHECK(is_valid_value_text("caf\xC3\xA9\nline two"sv));
  CHECK_FALSE(is_valid_value_text("a\0b"sv));
  CHECK_FALSE(is_valid_value_text("\xC0\x80"sv));
}
