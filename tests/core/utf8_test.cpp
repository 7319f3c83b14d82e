#include "core/utf8.hpp"

#include <catch2/catch.hpp>

using namespace lockbox;

TEST_CASE("UTF-8 validation accepts text and rejects malformed sequences", "[core][utf8]") {
  CHECK(is_valid_utf8(""));
  CHECK(is_valid_utf8("plain ascii\n"));
  CHECK(is_valid_utf8("h\xc3\xa9llo \xe2\x82\xac \xf0\x9f\x94\x91"));
  CHECK(is_valid_utf8("\xf4\x8f\xbf\xbf"));         // U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xc0\xaf"));           // overlong
  CHECK_FALSE(is_valid_utf8("\xe0\x80\xaf"));       // overlong
  CHECK_FALSE(is_valid_utf8("\xed\xa0\x80"));       // surrogate
  CHECK_FALSE(is_valid_utf8("\xf4\x90\x80\x80"));   // above U+10FFFF
  CHECK_FALSE(is_valid_utf8("\xff"));
  CHECK_FALSE(is_valid_utf8("\xc3"));               // truncated
  CHECK_FALSE(is_valid_utf8("\x80"));               // lone continuation
}
