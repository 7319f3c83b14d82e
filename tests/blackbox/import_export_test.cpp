// Black-box: `secrets import` (dotenv in, all or nothing, unchanged skipped) and `secrets export`
// (env/json/yaml out); an env export must import back to the same values.

#include <chrono>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

namespace fs = std::filesystem;

TEST_CASE("import reports created, updated and unchanged", "[blackbox][import]") {
  Lockbox box;
  box.init();
  const fs::path file = box.root() / "app.env";
  write_file(file, "# comment\nexport A=1\nB='two words'\nC=\"multi\\nline\"\n");
  ProcessResult r = box.run({"secrets", "import", file.string(), "--namespace", "prod"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err == "imported 3: 3 created, 0 updated, 0 unchanged\n");
  CHECK(box.reveal("C", {"--namespace", "prod"}) == "multi\nline");
  CHECK(box.reveal("B", {"--namespace", "prod"}) == "two words");

  write_file(file, "A=1\nB=changed\nD=new\n");
  r = box.run({"secrets", "import", file.string(), "--namespace", "prod", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = parse_json(r.out).as_object();
  CHECK(keys_of(doc) == std::vector<std::string>{"created", "unchanged", "updated"});
  CHECK(doc.at("created").as_int64() == 1);
  CHECK(doc.at("updated").as_int64() == 1);
  CHECK(doc.at("unchanged").as_int64() == 1);
  CHECK(box.run({"secrets", "history", "A", "--namespace", "prod", "--json"})
            .out.find("\"version\":2") == std::string::npos);
}

TEST_CASE("import reads stdin with -", "[blackbox][import]") {
  Lockbox box;
  box.init();
  const ProcessResult r = box.run_stdin({"secrets", "import", "-"}, "X=from stdin\n");
  REQUIRE(r.exit_code == 0);
  CHECK(box.reveal("X") == "from stdin");
}

TEST_CASE("a bad line makes import exit 2 with file:line and write nothing", "[blackbox][import]") {
  Lockbox box;
  box.init();
  box.set("KEEP", "k");
  const std::string before = box.snapshot();
  const fs::path file = box.root() / "bad.env";
  write_file(file, "GOOD=" + std::string(kCanary) + "\nALSO_GOOD=2\nbad.key=" + kCanary + "\n");
  ProcessResult r = box.run({"secrets", "import", file.string()});
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.find(file.string() + ":3") != std::string::npos);
  CHECK(r.err.find(kCanary) == std::string::npos);
  CHECK(box.snapshot() == before);

  write_file(file, "GOOD=1\nNOT_UTF8=\xff\xfe\n");
  r = box.run({"secrets", "import", file.string()});
  CHECK(r.exit_code == 2);
  CHECK(r.err.find(":2") != std::string::npos);
  CHECK(box.snapshot() == before);

  write_file(file, "GOOD=1\nHUGE=" + std::string(64 * 1024 + 1, 'h') + "\n");
  r = box.run({"secrets", "import", file.string()});
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK(box.snapshot() == before);

  r = box.run({"secrets", "import", (box.root() / "missing.env").string()});
  CHECK(r.exit_code == 2);
}

TEST_CASE("export formats: env, json and yaml", "[blackbox][export]") {
  Lockbox box;
  box.init();
  box.set("PLAIN", "abc", {"--namespace", "dev"});
  box.set("QUOTE", "it's", {"--namespace", "dev"});
  box.set("OTHER_NS", "x", {"--namespace", "prod"});
  ProcessResult r = box.run({"secrets", "export", "--namespace", "dev"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "PLAIN='abc'\nQUOTE=\"it's\"\n");
  r = box.run({"secrets", "export", "--namespace", "dev", "--format", "json"});
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out) == boost::json::object{{"PLAIN", "abc"}, {"QUOTE", "it's"}});
  r = box.run({"secrets", "export", "--namespace", "dev", "--format", "yaml"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "PLAIN: \"abc\"\nQUOTE: \"it's\"\n");
}

TEST_CASE("an env export imports back to the same values", "[blackbox][export]") {
  Lockbox box;
  box.init();
  const std::vector<std::pair<std::string, std::string>> values = {
      {"SIMPLE", "value"},
      {"EMPTY", ""},
      {"SPACES", "  padded  "},
      {"MULTILINE", "line1\nline2\n"},
      {"HASH", "a # not a comment"},
      {"SINGLE", "it's"},
      {"SINGLE_NL", "it's\nmulti"},
      {"BOTH_QUOTES", "it's \"quoted\""},
      {"BACKSLASH_N", "C:\\new\\dir"},
      {"BACKSLASH_N_QUOTE", "it's C:\\new"},
      {"DOLLAR", "${HOME} $(id) `x`"},
      {"CR", "a\r\nb"},
      {"UNICODE", "h\xc3\xa9llo \xf0\x9f\x94\x91"},
      {"TRAILING_BACKSLASH", "ends with \\"},
  };
  for (const auto& [name, value] : values) box.set(name, value);
  const ProcessResult exported = box.run({"secrets", "export"});
  INFO(exported.err);
  REQUIRE(exported.exit_code == 0);
  Lockbox other;
  other.init();
  const fs::path file = other.root() / "roundtrip.env";
  write_file(file, exported.out);
  const ProcessResult imported = other.run({"secrets", "import", file.string()});
  INFO(imported.err);
  REQUIRE(imported.exit_code == 0);
  for (const auto& [name, value] : values) {
    INFO(name);
    CHECK(other.reveal(name) == value);
  }
}

TEST_CASE("a value dotenv cannot represent is exit 2 naming the secret", "[blackbox][export]") {
  Lockbox box;
  box.init();
  box.set("IMPOSSIBLE", "it's \"all\" `here`\r");
  const ProcessResult r = box.run({"secrets", "export"});
  CHECK(r.exit_code == 2);
  CHECK(r.out.empty());
  CHECK(r.err == "lockbox: IMPOSSIBLE cannot be represented in dotenv; use --format json\n");
  CHECK(box.run({"secrets", "export", "--format", "json"}).exit_code == 0);
}

TEST_CASE("importing 100,000 lines takes seconds", "[blackbox][import][slow][pg-slow]") {
  Lockbox box;
  box.init();
  std::string content;
  for (int i = 0; i < 100000; ++i) {
    content += "KEY_" + std::to_string(i) + "='value number " + std::to_string(i) + "'\n";
  }
  const fs::path file = box.root() / "big.env";
  write_file(file, content);
  ProcessOptions options;
  options.timeout_ms = 280000;
  const auto start = std::chrono::steady_clock::now();
  const ProcessResult r = box.run({"secrets", "import", file.string()}, options);
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - start)
          .count();
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.err == "imported 100000: 100000 created, 0 updated, 0 unchanged\n");
  CHECK(seconds < 60);
  WARN("100,000-line import took " << seconds << " s");
  CHECK(box.reveal("KEY_99999") == "value number 99999");
}

}  // namespace
}  // namespace lockbox::testing
