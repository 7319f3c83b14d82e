// Bulk writes through a real `lockbox serve` (SPEC §13): POST and DELETE /api/v1/admin/secrets with
// {secrets: [...]} are one transaction, all or nothing, the first bad item named by its index; the
// item and body limits; one audit record per secret; and the /metrics gauge of secrets whose
// rotation reminder is due (the server's clock from LOCKBOX_TEST_NOW). Runs on both backends.
#include <fmt/format.h>

#include "tests/api/serve_fixture.hpp"

namespace lockbox::testing {
namespace {

constexpr const char* kSecrets = "/api/v1/admin/secrets";

std::string message_of(const Reply& r) {
  return std::string(r.json.at("error").at("message").as_string().c_str());
}

std::string items(std::size_t n, const std::string& value) {
  std::string out = R"({"secrets":[)";
  for (std::size_t i = 0; i < n; ++i) {
    if (i > 0) out += ",";
    out += fmt::format(R"({{"name":"K{}","value":"{}"}})", i, value);
  }
  return out + "]}";
}

}  // namespace

TEST_CASE("a bulk create with a bad item in the middle writes nothing and names the item",
          "[serve][bulk]") {
  Lockbox box;
  box.init();
  const std::string admin = make_token(box, "adm", "admin");
  box.set("KEEP", "old");
  const std::string before = box.snapshot();
  Server server(box);
  auto client = client_of(server);
  // Item 1 would update KEEP, item 2 has a version conflict that only the store can see.
  const Reply conflict =
      call(*client, "POST", kSecrets, admin,
           R"({"secrets":[{"name":"NEW1","value":"a"},{"name":"KEEP","value":"b"},)"
           R"({"name":"NEW2","value":"c","expected_version":3},{"name":"NEW3","value":"d"}]})");
  CHECK(conflict.status == 400);
  CHECK(message_of(conflict).rfind("secrets[2]: version conflict", 0) == 0);
  const Reply missing_value = call(*client, "POST", kSecrets, admin,
                                   R"({"secrets":[{"name":"NEW1","value":"a"},{"name":"NEW2"}]})");
  CHECK(missing_value.status == 400);
  CHECK(message_of(missing_value) == "secrets[1]: value is required");
  const Reply not_object =
      call(*client, "POST", kSecrets, admin, R"({"secrets":[{"name":"N","value":"a"},7]})");
  CHECK(not_object.status == 400);
  CHECK(message_of(not_object) == "secrets[1]: must be an object");
  const Reply mixed = call(*client, "POST", kSecrets, admin, R"({"secrets":[],"name":"X"})");
  CHECK(mixed.status == 400);
  CHECK(server.stop() == 0);
  CHECK(box.snapshot() == before);
  const auto audit = box.run({"audit", "list", "--action", "secret.set", "--json"});
  REQUIRE(audit.exit_code == 0);
  CHECK(audit.out.find("NEW1") == std::string::npos);
}

TEST_CASE("a bulk create writes every item, audited one record per secret", "[serve][bulk]") {
  Lockbox box;
  box.init();
  const std::string admin = make_token(box, "adm", "admin");
  box.set("KEEP", "old");
  Server server(box);
  auto client = client_of(server);
  const Reply written =
      call(*client, "POST", kSecrets, admin,
           R"({"secrets":[{"name":"NEW1","value":"a","scope":"namespace:prod","tags":["x"]},)"
           R"({"name":"KEEP","value":"bulk-value-canary","rotate_every":"30d"}]})");
  REQUIRE(written.status == 200);
  CHECK(written.json.at("created") == 1);
  CHECK(written.json.at("updated") == 1);
  const auto& metas = written.json.at("secrets").as_array();
  REQUIRE(metas.size() == 2);
  CHECK(metas[0].at("scope") == "namespace:prod");
  CHECK(metas[1].at("version") == 2);
  CHECK(metas[1].at("rotation").at("rotate_every") == "30d");
  CHECK(metas[1].at("rotation").at("due") == false);
  CHECK(server.stop() == 0);
  CHECK(server.log().find("bulk-value-canary") == std::string::npos);
  CHECK(box.reveal("KEEP") == "bulk-value-canary");
  const auto audit = box.run({"audit", "list", "--action", "secret.set", "--json"});
  REQUIRE(audit.exit_code == 0);
  CHECK(audit.out.find("namespace:prod/NEW1") != std::string::npos);
  CHECK(audit.out.find("v2 updated (bulk 2)") != std::string::npos);
  CHECK(box.run({"audit", "verify"}).exit_code == 0);
}

TEST_CASE("a bulk request takes at most 1000 items and stays under the 1 MiB body limit",
          "[serve][bulk]") {
  Lockbox box;
  box.init();
  const std::string admin = make_token(box, "adm", "admin");
  Server server(box);
  auto client = client_of(server);
  const Reply too_many = call(*client, "POST", kSecrets, admin, items(1001, "v"));
  CHECK(too_many.status == 400);
  CHECK(message_of(too_many) == "secrets must be an array of 1 to 1000 items");
  const Reply empty = call(*client, "DELETE", kSecrets, admin, R"({"secrets":[]})");
  CHECK(empty.status == 400);
  const Reply too_big = call(*client, "POST", kSecrets, admin, items(600, std::string(2000, 'x')));
  CHECK(too_big.status == 413);
  const Reply thousand = call(*client, "POST", kSecrets, admin, items(1000, "v"));
  CHECK(thousand.status == 200);
  CHECK(thousand.json.at("created") == 1000);
}

TEST_CASE("a bulk delete tombstones every item or none, naming the first bad one",
          "[serve][bulk]") {
  Lockbox box;
  box.init();
  const std::string admin = make_token(box, "adm", "admin");
  box.set("A", "1");
  box.set("B", "2", {"--namespace", "prod"});
  const std::string before = box.snapshot();
  Server server(box);
  auto client = client_of(server);
  const Reply missing =
      call(*client, "DELETE", kSecrets, admin,
           R"({"secrets":[{"name":"A"},{"name":"NOPE"},{"name":"B","scope":"namespace:prod"}]})");
  CHECK(missing.status == 400);
  CHECK(message_of(missing) == "secrets[1]: no secret global/NOPE");
  const Reply twice =
      call(*client, "DELETE", kSecrets, admin, R"({"secrets":[{"name":"A"},{"name":"A"}]})");
  CHECK(twice.status == 400);
  CHECK(message_of(twice) == "secrets[1]: global/A is also secrets[0]");
  const Reply removed = call(*client, "DELETE", kSecrets, admin,
                             R"({"secrets":[{"name":"A"},{"name":"B","scope":"namespace:prod"}]})");
  REQUIRE(removed.status == 200);
  CHECK(removed.json.at("secrets").as_array()[1].at("deleted") == true);
  CHECK(call(*client, "GET", std::string(kSecrets) + "/A", admin).status == 404);
  CHECK(server.stop() == 0);
  CHECK(box.snapshot() != before);
}

TEST_CASE("a bulk request checks every item's scope before writing any", "[serve][bulk]") {
  Lockbox box;
  box.init();
  const auto policy = box.root() / "lockbox.yaml";
  write_file(policy,
             "version: 1\nroles:\n  dev:\n    write: [\"namespace:dev\"]\n    delete: "
             "[\"namespace:dev\"]\n");
  const std::vector<std::string> p = {"--policy", policy.string()};
  const std::string dev = make_token(box, "dev", "dev", p);
  Server server(box, p);
  auto client = client_of(server);
  const Reply refused = call(*client, "POST", kSecrets, dev,
                             R"({"secrets":[{"name":"A","value":"1","scope":"namespace:dev"},)"
                             R"({"name":"B","value":"2","scope":"namespace:prod"}]})");
  CHECK(refused.status == 403);
  CHECK(message_of(refused) ==
        "secrets[1]: the token's role does not grant write on namespace:prod");
  CHECK(call(*client, "GET", std::string(kSecrets) + "/A?scope=namespace:dev", dev).status == 403);
  CHECK(server.stop() == 0);
  CHECK(box.run({"secrets", "get", "A", "--namespace", "dev"}).exit_code == 3);
}

TEST_CASE("/metrics counts the secrets whose rotation is due by the server's clock",
          "[serve][rotation]") {
  Lockbox box;
  box.init();
  box.set("DUE", "1", {"--rotate-every", "30d", "--notify-before", "7d"});
  box.set("LATER", "2", {"--rotate-every", "100y"});
  box.set("NONE", "3");
  {
    Server server(box);
    auto client = client_of(server);
    CHECK(call(*client, "GET", "/metrics", "").body.find("lockbox_secrets_rotation_due 0\n") !=
          std::string::npos);
    CHECK(server.stop() == 0);
  }
  // Decades on: past 30d - 7d for DUE, not yet 100y for LATER.
  Server server(box, {}, {{"LOCKBOX_TEST_NOW", "2099-01-01T00:00:00Z"}});
  auto client = client_of(server);
  const Reply metrics = call(*client, "GET", "/metrics", "");
  CHECK(metrics.body.find("# TYPE lockbox_secrets_rotation_due gauge") != std::string::npos);
  CHECK(metrics.body.find("lockbox_secrets_rotation_due 1\n") != std::string::npos);
  CHECK(server.stop() == 0);
}

}  // namespace lockbox::testing
