// `lockbox tokens create|list|revoke` through the real binary (SPEC §5): the exact JSON of create,
// the token shown once and stored nowhere, roles checked against the policy, exit codes.
#include <sqlite3.h>

#include <fstream>
#include <regex>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {

TEST_CASE("tokens create --json prints {token, name, role, expires_at} once", "[tokens][sqlite]") {
  Lockbox box;
  box.init();
  const ProcessResult r = box.run({"tokens", "create", "--name", "ci", "--role", "admin", "--ttl",
                                   "30d", "--json"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  const boost::json::object created = parse_json(r.out).as_object();
  CHECK(keys_of(created) == std::vector<std::string>{"expires_at", "name", "role", "token"});
  const std::string token(created.at("token").as_string().c_str());
  CHECK(std::regex_match(token, std::regex("lbx_[0-9a-f]{16}_[0-9a-f]{64}")));
  CHECK(created.at("name").as_string() == "ci");
  CHECK(created.at("role").as_string() == "admin");
  CHECK(std::regex_match(std::string(created.at("expires_at").as_string().c_str()),
                         std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ)")));
  // Never shown again: not by list, not in the audit trail, not in any file of the data dir.
  const ProcessResult listed = box.run({"tokens", "list", "--json"});
  REQUIRE(listed.exit_code == 0);
  CHECK(listed.out.find(token.substr(21)) == std::string::npos);
  const ProcessResult audit = box.run({"audit", "list", "--json"});
  CHECK(audit.out.find(token.substr(21)) == std::string::npos);
  for (const auto& [path, bytes] : read_all_files(box.data_dir())) {
    INFO(path);
    CHECK(bytes.find(token.substr(21)) == std::string::npos);
  }
  const ProcessResult no_ttl = box.run({"tokens", "create", "--name", "ops", "--role", "admin", "--json"});
  REQUIRE(no_ttl.exit_code == 0);
  CHECK(parse_json(no_ttl.out).as_object().at("expires_at").is_null());
}

TEST_CASE("tokens list shows state, never the token; revoke is exit 3 when nothing is live",
          "[tokens]") {
  Lockbox box;
  box.init();
  REQUIRE(box.run({"tokens", "create", "--name", "ci", "--role", "admin"}).exit_code == 0);
  REQUIRE(box.run({"tokens", "revoke", "ci"}).exit_code == 0);
  CHECK(box.run({"tokens", "revoke", "ci"}).exit_code == 3);
  CHECK(box.run({"tokens", "revoke", "never-made"}).exit_code == 3);
  const ProcessResult listed = box.run({"tokens", "list", "--json"});
  REQUIRE(listed.exit_code == 0);
  const boost::json::array tokens = parse_json(listed.out).as_array();
  REQUIRE(tokens.size() == 1);
  CHECK(tokens[0].as_object().at("state").as_string() == "revoked");
  CHECK(keys_of(tokens[0].as_object()) ==
        std::vector<std::string>{"created_at", "created_by", "expires_at", "id", "name",
                                 "revoked_at", "role", "state"});
  // The name is free again once revoked.
  CHECK(box.run({"tokens", "create", "--name", "ci", "--role", "admin"}).exit_code == 0);
  const ProcessResult records = box.run({"audit", "list", "--json"});
  CHECK(records.out.find("token.revoke") != std::string::npos);
}

TEST_CASE("tokens create checks the role, the name and the ttl, and changes nothing on error",
          "[tokens]") {
  Lockbox box;
  box.init();
  const std::filesystem::path policy = box.root() / "lockbox.yaml";
  {
    std::ofstream out(policy);
    out << "version: 1\nroles:\n  devops: { read: [\"namespace:production\"] }\n";
  }
  const std::string p = policy.string();
  CHECK(box.run({"--policy", p, "tokens", "create", "--name", "d", "--role", "devops"}).exit_code == 0);
  CHECK(box.run({"--policy", p, "tokens", "create", "--name", "x", "--role", "nope"}).exit_code == 2);
  CHECK(box.run({"tokens", "create", "--name", "x", "--role", "devops"}).exit_code == 2);  // no policy
  CHECK(box.run({"tokens", "create", "--name", "a.b", "--role", "admin"}).exit_code == 2);
  CHECK(box.run({"tokens", "create", "--name", "x", "--role", "admin", "--ttl", "0d"}).exit_code == 2);
  CHECK(box.run({"tokens", "create", "--name", "d", "--role", "admin"}).exit_code == 2);  // live name
  const ProcessResult listed = box.run({"tokens", "list", "--json"});
  CHECK(parse_json(listed.out).as_array().size() == 1);
}

TEST_CASE("tokens list marks a token whose row was edited as tampered and exits 5 naming it",
          "[tokens][integrity][sqlite]") {
  Lockbox box;
  box.init();
  REQUIRE(box.run({"tokens", "create", "--name", "ci", "--role", "admin", "--ttl", "1d"}).exit_code == 0);
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(box.db_path().c_str(), &db) == SQLITE_OK);
  REQUIRE(sqlite3_exec(db, "UPDATE tokens SET expires_at = NULL", nullptr, nullptr, nullptr) == SQLITE_OK);
  sqlite3_close(db);
  const ProcessResult listed = box.run({"tokens", "list"});
  CHECK(listed.exit_code == 5);
  CHECK(listed.out.find("tampered") != std::string::npos);
  CHECK(listed.err.find("ci (") != std::string::npos);
}

TEST_CASE("tokens create --ttl refuses an expiry after 9999-12-31T23:59:59Z and creates nothing", "[tokens]") {
  Lockbox box;
  box.init();
  const ProcessResult r = box.run({"tokens", "create", "--name", "ci", "--role", "admin", "--ttl", "9999999y"});
  INFO(r.err);
  CHECK(r.exit_code == 2);
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.find("--ttl") != std::string::npos);
  CHECK(r.out.find("lbx_") == std::string::npos);
  const ProcessResult listed = box.run({"tokens", "list", "--json"});
  CHECK(listed.exit_code == 0);
  CHECK(parse_json(listed.out).as_array().empty());
  CHECK(box.run({"tokens", "create", "--name", "ci", "--role", "admin", "--ttl", "7000y"}).exit_code == 0);
}

}  // namespace lockbox::testing
