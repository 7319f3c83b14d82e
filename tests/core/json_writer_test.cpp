// Unit tests of core/json_writer: structure, escaping, and output that every JSON parser accepts.

#include "core/json_writer.hpp"

#include <boost/json.hpp>
#include <catch2/catch.hpp>

namespace lockbox {
namespace {

TEST_CASE("json writer nests objects and arrays with commas", "[cli][json]") {
  JsonWriter json;
  json.begin_object();
  json.key("a");
  json.integer(-3);
  json.key("b");
  json.begin_array();
  json.boolean(true);
  json.null();
  json.begin_object();
  json.end_object();
  json.string("s");
  json.end_array();
  json.key("c");
  json.optional_string(std::nullopt);
  json.end_object();
  CHECK(json.view() == R"({"a":-3,"b":[true,null,{},"s"],"c":null})");
}

TEST_CASE("json writer escapes quotes, backslashes and control characters", "[cli][json]") {
  JsonWriter json;
  using namespace std::string_literals;
  json.string("q\" b\\ n\n r\r t\t bs\b ff\f nul\0 esc\x1b del\x7f"s);
  CHECK(json.view() == R"("q\" b\\ n\n r\r t\t bs\b ff\f nul\u0000 esc\u001b del)"
                       "\x7f\"");
}

TEST_CASE("json writer keeps valid UTF-8 and replaces invalid bytes", "[cli][json]") {
  JsonWriter ok;
  ok.string("h\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\x91");
  CHECK(ok.view() == "\"h\xc3\xa9 \xe2\x9c\x93 \xf0\x9f\x94\x91\"");
  JsonWriter bad;
  bad.string(
      "a\xff"
      "b\xc0\xaf"
      "c\xed\xa0\x80"
      "d\xe2\x9c");
  const boost::json::value parsed = boost::json::parse(bad.view());
  CHECK(parsed.as_string().size() > 4);
  CHECK(std::string(bad.view()).find('\xff') == std::string::npos);
}

TEST_CASE("json writer output round-trips through a JSON parser", "[cli][json]") {
  std::string all;
  for (int c = 1; c < 128; ++c) all += static_cast<char>(c);
  all += "\xc3\xa9\xe2\x80\xa8";
  JsonWriter json;
  json.begin_object();
  json.key(all);
  json.string(all);
  json.end_object();
  const boost::json::value parsed = boost::json::parse(json.view());
  CHECK(parsed.as_object().at(all) == all.c_str());
}

}  // namespace
}  // namespace lockbox
