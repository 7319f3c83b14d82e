// A running `lockbox serve` refuses token rows made or edited outside lockbox (SPEC §17): a row
// inserted into the raw SQLite file with the digest of a secret the attacker chose, and a token
// whose role was raised, are answered 401 like a wrong token, while an untouched token still works.
#include <openssl/sha.h>
#include <sqlite3.h>

#include "tests/api/serve_fixture.hpp"

namespace lockbox::testing {
namespace {

constexpr const char* kSecrets = "/api/v1/admin/secrets";

void raw_sql(const Lockbox& box, const std::string& sql) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(box.db_path().c_str(), &db) == SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  char* error = nullptr;
  const int rc = sqlite3_exec(db, sql.c_str(), nullptr, nullptr, &error);
  INFO(sql << ": " << (error != nullptr ? error : ""));
  sqlite3_free(error);
  sqlite3_close(db);
  REQUIRE(rc == SQLITE_OK);
}

std::string hex(const unsigned char* bytes, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += kHex[bytes[i] >> 4];
    out += kHex[bytes[i] & 0x0f];
  }
  return out;
}

}  // namespace

TEST_CASE("serve answers 401 to a token row inserted or raised in the raw database", "[serve][integrity]") {
  Lockbox box;
  box.init();
  box.set("DB", kCanary, {"--namespace", "prod"});
  const std::string admin = make_token(box, "ci", "admin");
  const auto policy = box.root() / "lockbox.yaml";
  write_file(policy, "version: 1\nroles:\n  viewer: { read: [\"global\"] }\n");
  const std::string viewer = make_token(box, "view", "viewer", {"--policy", policy.string()});

  // The attacker's token: an id and secret of their choosing, stored as the legacy SHA-256 digest,
  // with and without a row MAC copied from the real admin token.
  const std::string id = "00112233445566ff";
  const std::string secret(64, 'a');
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  const std::string forged = "lbx_" + id + "_" + secret;
  raw_sql(box, "INSERT INTO tokens (id, name, role, secret_hash, created_at, created_by, hash_scheme) "
               "VALUES ('" + id + "', 'evil', 'admin', x'" + hex(digest, sizeof digest) +
               "', 0, 'root', 1)");
  const std::string copied_id = "00112233445566fe";
  raw_sql(box, "INSERT INTO tokens (id, name, role, secret_hash, created_at, created_by, hash_scheme, row_mac) "
               "SELECT '" + copied_id + "', 'evil2', 'admin', x'" + hex(digest, sizeof digest) +
               "', created_at, created_by, 1, row_mac FROM tokens WHERE name = 'ci'");
  const std::string forged_copy = "lbx_" + copied_id + "_" + secret;
  // A reader token raised to admin.
  raw_sql(box, "UPDATE tokens SET role = 'admin' WHERE name = 'view'");

  Server server(box, {"--policy", policy.string()});
  auto client = client_of(server);
  const std::string target = std::string(kSecrets) + "/DB/value?scope=namespace:prod";
  for (const std::string& token : {forged, forged_copy, viewer}) {
    const Reply r = call(*client, "GET", target, token);
    INFO(r.body);
    CHECK(r.status == 401);
    CHECK(r.body.find(kCanary) == std::string::npos);
  }
  const Reply ok = call(*client, "GET", target, admin);
  CHECK(ok.status == 200);
  CHECK(ok.body.find(kCanary) != std::string::npos);
  CHECK(server.stop() == 0);
  CHECK(server.log().find(kCanary) == std::string::npos);
  const ProcessResult listed = box.run({"--policy", policy.string(), "tokens", "list"});
  CHECK(listed.exit_code == 5);
  CHECK(listed.err.find(id) != std::string::npos);
}

}  // namespace lockbox::testing
