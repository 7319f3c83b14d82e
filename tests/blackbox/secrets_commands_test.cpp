// Black-box: set/get/list/history/diff/delete/rollback as a script sees them (SPEC §5, the exact
// JSON fields) and as a person does (tables, masked values).

#include <sqlite3.h>
#include <unistd.h>

#include <regex>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

const std::vector<std::string> kMetaFields = {
    "created_at", "description", "expires_at", "fingerprint", "metadata",
    "name",       "scope",       "tags",       "updated_at",  "version"};

bool is_rfc3339_utc(const boost::json::value& v) {
  static const std::regex kTime(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$)");
  return v.is_string() && std::regex_match(std::string(v.as_string()), kTime);
}

TEST_CASE("get --json carries exactly the SPEC fields", "[blackbox][secrets]") {
  Lockbox box;
  box.init();
  box.set("DB_URL", "postgres://x",
          {"--namespace", "production", "--description", "main db", "--tag", "db", "--tag", "prod",
           "--meta", "owner=ops", "--expires", "30d"});
  const ProcessResult r =
      box.run({"secrets", "get", "DB_URL", "--namespace", "production", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = parse_json(r.out).as_object();
  CHECK(keys_of(doc) == kMetaFields);
  CHECK(doc.at("name") == "DB_URL");
  CHECK(doc.at("scope") == "namespace:production");
  CHECK(doc.at("version").is_int64());
  CHECK(doc.at("version").as_int64() == 1);
  CHECK(std::regex_match(std::string(doc.at("fingerprint").as_string()),
                         std::regex("^[0-9a-f]{16}$")));
  CHECK(doc.at("description") == "main db");
  CHECK(doc.at("tags") == boost::json::array{"db", "prod"});
  CHECK(doc.at("metadata") == boost::json::object{{"owner", "ops"}});
  CHECK(is_rfc3339_utc(doc.at("expires_at")));
  CHECK(is_rfc3339_utc(doc.at("created_at")));
  CHECK(is_rfc3339_utc(doc.at("updated_at")));
  CHECK(r.out.find("postgres://x") == std::string::npos);
}

TEST_CASE("get --reveal prints the value verbatim; with --json it adds value",
          "[blackbox][secrets]") {
  Lockbox box;
  box.init();
  const std::string value = "line one\nline \"two\"\ttab\n";
  box.set("MULTI", value);
  CHECK(box.reveal("MULTI") == value);
  const ProcessResult r = box.run({"secrets", "get", "MULTI", "--reveal", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto doc = parse_json(r.out).as_object();
  CHECK(std::string(doc.at("value").as_string()) == value);
  CHECK(doc.at("expires_at").is_null());
  CHECK(doc.size() == kMetaFields.size() + 1);
}

TEST_CASE("a value comes from argv, --from-file or stdin, each verbatim", "[blackbox][secrets]") {
  Lockbox box;
  box.init();
  REQUIRE(box.run({"secrets", "set", "ARGV", "from argv"}).exit_code == 0);
  CHECK(box.reveal("ARGV") == "from argv");
  write_file(box.root() / "value.txt", "from file\n");
  REQUIRE(box.run({"secrets", "set", "FILE", "--from-file", (box.root() / "value.txt").string()})
              .exit_code == 0);
  CHECK(box.reveal("FILE") == "from file\n");
  box.set("STDIN", "keeps the newline\n");
  CHECK(box.reveal("STDIN") == "keeps the newline\n");
  box.set("EMPTY", "");
  CHECK(box.reveal("EMPTY").empty());
  box.set("LITERAL", "${HOME} $(id)");
  CHECK(box.reveal("LITERAL") == "${HOME} $(id)");
  const ProcessResult both =
      box.run({"secrets", "set", "BOTH", "x", "--from-file", (box.root() / "value.txt").string()});
  CHECK(both.exit_code == 2);
  const ProcessResult missing =
      box.run({"secrets", "set", "MISSING", "--from-file", (box.root() / "nope").string()});
  CHECK(missing.exit_code == 2);
  CHECK(line_count(missing.err) == 1);
}

TEST_CASE("set reports created then updated with the new version", "[blackbox][secrets]") {
  Lockbox box;
  box.init();
  ProcessResult r = box.run_stdin({"secrets", "set", "API_KEY", "--group", "g1"}, "a");
  CHECK(r.err == "created group:g1/API_KEY v1\n");
  r = box.run_stdin({"secrets", "set", "API_KEY", "--group", "g1"}, "b");
  CHECK(r.err == "updated group:g1/API_KEY v2\n");
  r = box.run_stdin({"secrets", "set", "API_KEY", "--group", "g1", "--json"}, "c");
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out).as_object().at("version").as_int64() == 3);
}

TEST_CASE("scope flags map to the SPEC addresses", "[blackbox][scope]") {
  Lockbox box;
  box.init();
  const std::vector<std::pair<std::vector<std::string>, std::string>> cases = {
      {{}, "global"},
      {{"--apikey", "k1"}, "apikey:k1"},
      {{"--group", "g1"}, "group:g1"},
      {{"--function", "send-email"}, "function:default/send-email"},
      {{"--function", "send-email", "--namespace", "production"}, "function:production/send-email"},
      {{"--namespace", "staging"}, "namespace:staging"},
      {{"--scope", "namespace:dev"}, "namespace:dev"},
  };
  for (const auto& [flags, address] : cases) {
    box.set("S", address, flags);
    std::vector<std::string> args{"secrets", "get", "S", "--json"};
    args.insert(args.end(), flags.begin(), flags.end());
    const ProcessResult r = box.run(args);
    INFO(address);
    REQUIRE(r.exit_code == 0);
    CHECK(parse_json(r.out).as_object().at("scope") == address.c_str());
    CHECK(box.reveal("S", flags) == address);
  }
}

TEST_CASE("list masks values and filters by scope, kind, namespace and tag", "[blackbox][list]") {
  Lockbox box;
  box.init();
  box.set("A", kCanary, {"--tag", "t1"});
  box.set("B", kCanary, {"--namespace", "prod"});
  box.set("C", kCanary, {"--function", "fn", "--namespace", "prod"});
  box.set("D", kCanary, {"--group", "g"});
  ProcessResult r = box.run({"secrets", "list"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.out.rfind("NAME", 0) == 0);
  CHECK(r.out.find("********") != std::string::npos);
  CHECK(r.out.find("cana") == std::string::npos);
  auto names = [&](std::vector<std::string> filter) {
    std::vector<std::string> args{"secrets", "list", "--json"};
    args.insert(args.end(), filter.begin(), filter.end());
    const ProcessResult lr = box.run(args);
    REQUIRE(lr.exit_code == 0);
    std::vector<std::string> out;
    const boost::json::value doc = parse_json(lr.out);
    for (const auto& item : doc.as_array()) {
      CHECK(keys_of(item.as_object()) == kMetaFields);
      out.emplace_back(item.as_object().at("name").as_string());
    }
    return out;
  };
  CHECK(names({}) == std::vector<std::string>{"C", "A", "D", "B"});
  CHECK(names({"--namespace", "prod"}) == std::vector<std::string>{"C", "B"});
  CHECK(names({"--scope", "global"}) == std::vector<std::string>{"A"});
  CHECK(names({"--scope-kind", "group"}) == std::vector<std::string>{"D"});
  CHECK(names({"--tag", "t1"}) == std::vector<std::string>{"A"});
  CHECK(box.run({"secrets", "list", "--scope-kind", "cluster"}).exit_code == 2);
}

TEST_CASE("list marks expired secrets", "[blackbox][list]") {
  Lockbox box;
  box.init();
  box.set("SOON", "x", {"--expires", "1h"});
  box.set("LATER", "y", {"--expires", "1d"});
  const ProcessResult r = box.run({"secrets", "list"}, at(kHour));  // 1.5 h from now
  REQUIRE(r.exit_code == 0);
  const auto soon = r.out.find("SOON");
  const auto later = r.out.find("LATER");
  REQUIRE(soon != std::string::npos);
  REQUIRE(later != std::string::npos);
  CHECK(r.out.find("(expired)", soon) != std::string::npos);
  CHECK(r.out.substr(later, r.out.find('\n', later) - later).find("expired") == std::string::npos);
}

TEST_CASE("delete leaves a tombstone: exit 3 until rollback brings it back", "[blackbox][delete]") {
  Lockbox box;
  box.init();
  box.set("TOKEN", "one");
  box.set("TOKEN", "two");
  ProcessResult r = box.run({"secrets", "delete", "TOKEN"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err == "deleted global/TOKEN at v3\n");
  r = box.run({"secrets", "get", "TOKEN"});
  CHECK(r.exit_code == 3);
  CHECK(r.err == "lockbox: global/TOKEN was deleted at v3\n");
  r = box.run({"secrets", "get", "TOKEN", "--reveal"});
  CHECK(r.exit_code == 3);
  CHECK(r.err.find("deleted at v3") != std::string::npos);
  CHECK(box.run({"secrets", "list", "--json"}).out == "[]\n");
  CHECK(box.snapshot().find("\"deleted\":true") != std::string::npos);
  CHECK(box.run({"secrets", "delete", "TOKEN"}).exit_code == 3);

  r = box.run({"secrets", "rollback", "TOKEN", "1"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err == "rolled back global/TOKEN to v1 as v4\n");
  CHECK(box.reveal("TOKEN") == "one");
  CHECK(box.run({"secrets", "rollback", "TOKEN", "3"}).exit_code == 2);  // a tombstone
  CHECK(box.run({"secrets", "rollback", "TOKEN", "99"}).exit_code == 3);
  CHECK(box.run({"secrets", "rollback", "TOKEN", "x1"}).exit_code == 2);
}

TEST_CASE("history lists every version with the SPEC fields", "[blackbox][history]") {
  Lockbox box;
  box.init();
  box.set("H", "a", {"--description", "first"});
  box.set("H", "a");
  REQUIRE(box.run({"secrets", "delete", "H"}).exit_code == 0);
  const ProcessResult r = box.run({"secrets", "history", "H", "--json"});
  REQUIRE(r.exit_code == 0);
  const auto versions = parse_json(r.out).as_array();
  REQUIRE(versions.size() == 3);
  for (std::size_t i = 0; i < versions.size(); ++i) {
    const auto& v = versions[i].as_object();
    CHECK(keys_of(v) == std::vector<std::string>{"actor", "created_at", "description",
                                                 "fingerprint", "tombstone", "version"});
    CHECK(v.at("version").as_int64() == static_cast<std::int64_t>(i + 1));
    CHECK(is_rfc3339_utc(v.at("created_at")));
    CHECK(!v.at("actor").as_string().empty());
  }
  CHECK(versions[0].at("fingerprint") == versions[1].at("fingerprint"));
  CHECK(versions[1].at("description") == "first");  // kept when not given
  CHECK(versions[2].at("tombstone") == true);
  CHECK(box.run({"secrets", "history", "H"}).out.rfind("VERSION", 0) == 0);
  CHECK(box.run({"secrets", "history", "NOPE"}).exit_code == 3);
}

TEST_CASE("diff tells a value change and the metadata fields that changed", "[blackbox][diff]") {
  Lockbox box;
  box.init();
  box.set("D", "same", {"--description", "one"});
  box.set("D", "same", {"--description", "two", "--tag", "x"});
  box.set("D", "other");
  ProcessResult r = box.run({"secrets", "diff", "D", "1", "2", "--json"});
  REQUIRE(r.exit_code == 0);
  auto doc = parse_json(r.out).as_object();
  CHECK(keys_of(doc) ==
        std::vector<std::string>{"changed_fields", "from", "name", "scope", "to", "value_changed"});
  CHECK(doc.at("value_changed") == false);
  CHECK(doc.at("changed_fields") == boost::json::array{"description", "tags"});
  r = box.run({"secrets", "diff", "D", "2", "3", "--json"});
  doc = parse_json(r.out).as_object();
  CHECK(doc.at("value_changed") == true);
  CHECK(doc.at("changed_fields").as_array().empty());
  CHECK(box.run({"secrets", "diff", "D", "1", "9"}).exit_code == 3);
  CHECK(box.run({"secrets", "diff", "D", "0", "1"}).exit_code == 2);
}

TEST_CASE("purge without a terminal needs --yes and then destroys every version",
          "[blackbox][delete]") {
  Lockbox box;
  box.init();
  box.set("GONE", "g");
  box.set("GONE", "h");
  const std::string before = box.snapshot();
  ProcessResult r = box.run({"secrets", "delete", "GONE", "--purge"});
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK(box.snapshot() == before);
  r = box.run({"secrets", "delete", "GONE", "--purge", "--yes"});
  REQUIRE(r.exit_code == 0);
  CHECK(box.run({"secrets", "history", "GONE"}).exit_code == 3);
  CHECK(box.snapshot() == "[]\n");
  CHECK(box.run({"secrets", "delete", "GONE", "--purge", "--yes"}).exit_code == 3);
}

void edit_raw(const Lockbox& box, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(box.db_path().c_str(), &db) == SQLITE_OK);
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

TEST_CASE(
    "secrets list names a secret with a malformed tags or metadata cell, lists the others, exits 5",
    "[sqlite][blackbox][secrets]") {
  Lockbox box;
  box.init();
  box.set("BAD", kCanary, {"--tag", "t"});
  box.set("GOOD", "fine", {"--tag", "t"});
  const std::string column = GENERATE(std::string("tags"), std::string("metadata"));
  edit_raw(box, "UPDATE versions SET " + column +
                    " = x'ff' WHERE secret_id = (SELECT id FROM secrets WHERE "
                    "name = 'BAD')");
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"secrets", "list"}, {"secrets", "list", "--json"}, {"secrets", "list", "--tag", "t"}}) {
    const ProcessResult r = box.run(args);
    INFO(column << ": " << r.err);
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("global/BAD@v1") != std::string::npos);
    CHECK(line_count(r.err) == 2);  // the secret, then the summary
    CHECK(r.out.find("GOOD") != std::string::npos);
    CHECK(r.out.find("BAD") == std::string::npos);
    CHECK(r.err.find(kCanary) == std::string::npos);
  }
  CHECK(box.reveal("GOOD") == "fine");
}

TEST_CASE("a table dropped from the store is exit 5 naming it, for every command",
          "[sqlite][blackbox][secrets]") {
  Lockbox box;
  box.init();
  box.set("A", "a");
  const std::string table =
      GENERATE(std::string("versions"), std::string("tokens"), std::string("scopes"));
  edit_raw(box, "DROP TABLE " + table);
  for (const std::vector<std::string>& args : std::vector<std::vector<std::string>>{
           {"secrets", "list"}, {"secrets", "get", "A"}, {"tokens", "list"}}) {
    const ProcessResult r = box.run(args);
    INFO(table << ": " << r.err);
    CHECK(r.exit_code == 5);
    CHECK(r.err.find("table " + table + " is missing") != std::string::npos);
  }
}

}  // namespace
}  // namespace lockbox::testing
