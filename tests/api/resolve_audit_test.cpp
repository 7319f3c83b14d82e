// Black-box: every resolve record describes its own request, also when the answer comes from the
// resolve cache (issue 13: a cached answer used to carry the first request's left_out= scopes).

#include <sqlite3.h>

#include "tests/api/serve_fixture.hpp"

namespace lockbox::testing {
namespace {

std::string detail_of(const boost::json::value& record) {
  return std::string(record.as_object().at("detail").as_string().c_str());
}

TEST_CASE("a cached resolve answer is audited with its own request's left-out scopes", "[serve]") {
  Lockbox box;
  box.init();
  const auto policy = box.root() / "lockbox.yaml";
  write_file(policy,
             "version: 1\nroles:\n  runner: { resolve: [\"namespace:prod\", \"global\"] }\n");
  const std::vector<std::string> p = {"--policy", policy.string()};
  box.set("A", "a-prod", {"--scope", "namespace:prod"});
  const std::string runner = make_token(box, "run", "runner", p);
  Server server(box, p);
  auto client = client_of(server);
  // The same permitted scopes (namespace:prod, global), so the same cache entry, three times.
  for (const char* body :
       {R"({"namespace":"prod","function":"fn"})", R"({"namespace":"prod","function":"other"})",
        R"({"namespace":"prod"})"}) {
    const Reply reply = call(*client, "POST", "/api/v1/resolve", runner, body);
    REQUIRE(reply.status == 200);
    CHECK(reply.json.as_object().at("secrets").as_array().size() == 1);
  }
  CHECK(server.stop() == 0);
  const ProcessResult audit = box.run({"audit", "list", "--action", "resolve", "--json"});
  REQUIRE(audit.exit_code == 0);
  const auto records = parse_json(audit.out).as_array();
  REQUIRE(records.size() == 3);
  CHECK(detail_of(records[0]).find("left_out=function:prod/fn ") != std::string::npos);
  CHECK(detail_of(records[1]).find("left_out=function:prod/other ") != std::string::npos);
  CHECK(detail_of(records[1]).find("function:prod/fn") == std::string::npos);
  CHECK(detail_of(records[2]).find("left_out") == std::string::npos);
  for (const auto& record : records) {
    CHECK(detail_of(record).find("injected=A@namespace:prod#v1") != std::string::npos);
  }
}

}  // namespace
TEST_CASE("a resolve whose audit record cannot be committed is 503 and sends no value",
          "[serve][sqlite]") {
  Lockbox box;
  box.init();
  box.set("A", "canary-value-503");
  const std::string admin = make_token(box, "adm", "admin");
  Server server(box, {"--busy-timeout", "1s"});
  auto client = client_of(server);
  const std::string context = R"({"namespace":"prod"})";
  {
    // Another process holds the store's write lock: the resolve record cannot be committed.
    sqlite3* db = nullptr;
    REQUIRE(sqlite3_open(box.db_path().c_str(), &db) == SQLITE_OK);
    REQUIRE(sqlite3_exec(db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) == SQLITE_OK);
    const Reply refused = call(*client, "POST", "/api/v1/resolve", admin, context);
    sqlite3_exec(db, "ROLLBACK", nullptr, nullptr, nullptr);
    sqlite3_close(db);
    CHECK(refused.status == 503);
    CHECK(error_code(refused) == "unavailable");
    CHECK(refused.body.find("canary-value-503") == std::string::npos);
  }
  // With the lock gone the same request is answered, and only it left a resolve record.
  const Reply answered = call(*client, "POST", "/api/v1/resolve", admin, context);
  CHECK(answered.status == 200);
  CHECK(answered.body.find("canary-value-503") != std::string::npos);
  CHECK(server.stop() == 0);
  CHECK(server.log().find("canary-value-503") == std::string::npos);
  const ProcessResult audit = box.run({"audit", "list", "--action", "resolve", "--json"});
  REQUIRE(audit.exit_code == 0);
  CHECK(parse_json(audit.out).as_array().size() == 1);
  CHECK(box.run({"audit", "verify"}).exit_code == 0);
}

}  // namespace lockbox::testing
