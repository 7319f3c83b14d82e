// Unit tests of cli/table: alignment, no trailing blanks, terminal-safe cells.

#include "cli/table.hpp"

#include <catch2/catch.hpp>

namespace lockbox::cli {
namespace {

TEST_CASE("table aligns columns to the widest cell", "[cli][table]") {
  Table table({"NAME", "V"});
  table.add_row({"A", "1"});
  table.add_row({"LONGER_NAME", "22"});
  CHECK(table.render() ==
        "NAME         V\n"
        "A            1\n"
        "LONGER_NAME  22\n");
}

TEST_CASE("table counts UTF-8 code points, not bytes", "[cli][table]") {
  Table table({"K", "V"});
  table.add_row({"h\xc3\xa9", "x"});
  table.add_row({"abc", "y"});
  CHECK(table.render() == "K    V\nh\xc3\xa9   x\nabc  y\n");
}

TEST_CASE("table cells cannot break lines or send terminal escapes", "[cli][table]") {
  Table table({"D"});
  table.add_row({"two\nlines\x1b[31m\ttab"});
  CHECK(table.render() == "D\ntwo\\nlines\\x1b[31m\\ttab\n");
}

TEST_CASE("table cells escape C1 controls and bytes that are not UTF-8", "[cli][table]") {
  CHECK(display_safe("a\xc2\x9b" "31mb") == "a\\u009b31mb");  // U+009B is a CSI
  CHECK(display_safe("\x9b" "31m") == "\\x9b31m");              // a lone byte: not UTF-8
  CHECK(display_safe("caf\xc3\xa9 \xc2\xa0ok") == "caf\xc3\xa9 \xc2\xa0ok");  // text stays
  CHECK(display_safe("\xe2\x82") == "\\xe2\\x82");            // a truncated sequence
}

TEST_CASE("field blocks have no header", "[cli][table]") {
  CHECK(render_fields({{"name", "X"}, {"version", "3"}}) == "name     X\nversion  3\n");
}

}  // namespace
}  // namespace lockbox::cli
