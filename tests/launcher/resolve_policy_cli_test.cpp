// Black-box tests of `lockbox resolve` and `lockbox policy check` (SPEC §5, §9).
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <string>

#include "tests/launcher/run_test_support.hpp"

using namespace lockbox::testing;
namespace json = boost::json;

TEST_CASE("resolve --json lists name, env, scope and version, never values", "[resolve]") {
  RunBox box;
  box.set("DB_URL", kStoreCanary, {"--namespace", "production"});
  box.set("FLAG", "on");
  write_file(box.path("local.env"), "FLAG=local\n");
  const auto result = box.run({"resolve", "--namespace", "production", "--env-file",
                               box.path("local.env").string(), "--json"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  CHECK(result.out.find(kStoreCanary) == std::string::npos);
  const json::array rows = json::parse(result.out).as_array();
  REQUIRE(rows.size() == 2);
  const json::object& db = rows[0].as_object();
  CHECK(db.at("name").as_string() == "DB_URL");
  CHECK(db.at("env").as_string() == "FLUXBASE_SECRET_DB_URL");
  CHECK(db.at("scope").as_string() == "namespace:production");
  CHECK(db.at("version").as_int64() == 1);
  CHECK(db.size() == 4);
  const json::object& flag = rows[1].as_object();
  CHECK(flag.at("scope").as_string() == "env-file:" + box.path("local.env").string());
  CHECK(flag.at("version").is_null());
}

TEST_CASE("resolve --all-scopes shows every scope's entry and the winner", "[resolve]") {
  RunBox box;
  box.set("KEY", "g");
  box.set("KEY", "n", {"--namespace", "production"});
  box.set("KEY", "f", {"--function", "mail", "--namespace", "production"});
  const auto result = box.run({"resolve", "--namespace", "production", "--function", "mail",
                               "--all-scopes", "KEY", "--json"});
  REQUIRE(result.exit_code == 0);
  const json::array rows = json::parse(result.out).as_array();
  REQUIRE(rows.size() == 3);
  CHECK(rows[0].as_object().at("scope").as_string() == "function:production/mail");
  CHECK(rows[0].as_object().at("wins").as_bool());
  CHECK_FALSE(rows[1].as_object().at("wins").as_bool());
  CHECK(rows[2].as_object().at("scope").as_string() == "global");
  CHECK(box.run({"resolve", "--all-scopes", "MISSING"}).exit_code == 3);
}

TEST_CASE("resolve refuses what a launch would refuse, with the management exit code", "[resolve]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  f: { require: [NEEDED] }\n");
  const auto result = box.run({"resolve", "--function", "f"});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find("NEEDED") != std::string::npos);
}

TEST_CASE("policy check accepts the sample policy", "[policy]") {
  RunBox box(false);
  const auto result = box.run({"policy", "check", std::string(LOCKBOX_SOURCE_DIR) + "/samples/lockbox.yaml"});
  INFO(result.err);
  CHECK(result.exit_code == 0);
  CHECK(result.out.find("ok") != std::string::npos);
}

TEST_CASE("policy check reports file:line:column and exit 2", "[policy]") {
  RunBox box(false);
  const auto file = box.path("bad.yaml");
  write_file(file, "version: 1\ninject:\n  prefix: FLUXBASE_SECRET_\n  bogus: 1\n");
  const auto result = box.run({"policy", "check", file.string()});
  CHECK(result.exit_code == 2);
  CHECK(result.err.find(file.string() + ":4:3:") != std::string::npos);
  const auto dup = box.path("dup.yaml");
  write_file(dup, "version: 1\nversion: 1\n");
  const auto second = box.run({"policy", "check", dup.string()});
  CHECK(second.exit_code == 2);
  CHECK(second.err.find(":2:1:") != std::string::npos);
  CHECK(box.run({"policy", "check", box.path("missing.yaml").string()}).exit_code == 2);
}

TEST_CASE("a broken policy file stops run with 125 and management commands with 2", "[policy]") {
  RunBox box;
  box.write_policy("version: 1\nfunctions:\n  f: { timeout: 10x }\n");
  CHECK(box.launch({}, {"exit", "0"}).exit_code == 125);
  CHECK(box.run({"secrets", "list"}).exit_code == 2);
}
