// Unit tests of cli/export_format: the dotenv quoting rules and YAML escapes.

#include "cli/export_format.hpp"

#include <catch2/catch.hpp>

namespace lockbox::cli {
namespace {

std::string dotenv(std::string_view value) {
  SecretValue out;
  const Status status = append_dotenv_line(out, "K", value);
  return status.is_ok() ? std::string(out.reveal()) : "ERROR: " + status.message();
}

std::string yaml(std::string_view name, std::string_view value) {
  SecretValue out;
  append_yaml_line(out, name, value);
  return std::string(out.reveal());
}

TEST_CASE("dotenv export picks single, double or backtick quotes", "[cli][export]") {
  CHECK(dotenv("plain") == "K='plain'\n");
  CHECK(dotenv("") == "K=''\n");
  CHECK(dotenv("a\nb \"q\" \\n $X #c") == "K='a\nb \"q\" \\n $X #c'\n");
  CHECK(dotenv("it's") == "K=\"it's\"\n");
  CHECK(dotenv("it's\nnext") == "K=\"it's\\nnext\"\n");
  CHECK(dotenv("cr\r\nlf") == "K=\"cr\\r\\nlf\"\n");
  CHECK(dotenv("it's \"x\"") == "K=`it's \"x\"`\n");
  CHECK(dotenv("it's C:\\new") == "K=`it's C:\\new`\n");
  CHECK(dotenv("it's \"x\" `y`") == "ERROR: K cannot be represented in dotenv; use --format json");
  CHECK(dotenv("\"q\"\r") == "ERROR: K cannot be represented in dotenv; use --format json");
}

TEST_CASE("yaml export double-quotes with YAML escapes", "[cli][export]") {
  CHECK(yaml("K", "plain") == "K: \"plain\"\n");
  CHECK(yaml("K", "q\" b\\ n\n t\t e\x1b") == "K: \"q\\\" b\\\\ n\\n t\\t e\\x1b\"\n");
  CHECK(yaml("K", "ls\xe2\x80\xa8 nel\xc2\x85 c1\xc2\x9b \xc3\xa9") ==
        "K: \"ls\\L nel\\N c1\\x9b \xc3\xa9\"\n");
  CHECK(yaml("yes", "x") == "\"yes\": \"x\"\n");
  CHECK(yaml("null", "x") == "\"null\": \"x\"\n");
  CHECK(yaml("123", "x") == "\"123\": \"x\"\n");
  CHECK(yaml("-a", "x") == "\"-a\": \"x\"\n");
}

TEST_CASE("export format names are exact", "[cli][export]") {
  CHECK(parse_export_format("env").is_ok());
  CHECK(parse_export_format("json").is_ok());
  CHECK(parse_export_format("yaml").is_ok());
  CHECK(parse_export_format("yml").status().code() == StatusCode::kBadInput);
}

}  // namespace
}  // namespace lockbox::cli
