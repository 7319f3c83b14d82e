// Black-box: every resolve record describes its own request, also when the answer comes from the
// resolve cache (issue 13: a cached answer used to carry the first request's left_out= scopes).

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
  write_file(policy, "version: 1\nroles:\n  runner: { resolve: [\"namespace:prod\", \"global\"] }\n");
  const std::vector<std::string> p = {"--policy", policy.string()};
  box.set("A", "a-prod", {"--scope", "namespace:prod"});
  const std::string runner = make_token(box, "run", "runner", p);
  Server server(box, p);
  auto client = client_of(server);
  // The same permitted scopes (namespace:prod, global), so the same cache entry, three times.
  for (const char* body : {R"({"namespace":"prod","function":"fn"})", R"({"namespace":"prod","function":"other"})",
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
}  // namespace lockbox::testing
