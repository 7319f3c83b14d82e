// A running `lockbox serve` refuses token rows made or edited outside lockbox (SPEC §17): a row
// inserted into the raw SQLite file with the digest of a secret the attacker chose, and a token
// whose role was raised, are answered 401 like a wrong token, while an untouched token still works.
#include <openssl/sha.h>
#include <sqlite3.h>

#include <chrono>
#include <thread>

#include "api/resolve_cache.hpp"

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

std::string hex(const unsigned char* bytes, std::size_t n);

// SQL that puts the store's change counter and its MAC back as they are now.
std::string counter_pair(const Lockbox& box) {
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(box.db_path().c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "SELECT (SELECT value FROM meta WHERE key = 'change_counter'), "
                                 "(SELECT value FROM meta WHERE key = 'change_counter_mac')",
                             -1, &s, nullptr) == SQLITE_OK);
  REQUIRE(sqlite3_step(s) == SQLITE_ROW);
  const std::string value = std::to_string(sqlite3_column_int64(s, 0));
  const std::string mac = hex(static_cast<const unsigned char*>(sqlite3_column_blob(s, 1)),
                              static_cast<std::size_t>(sqlite3_column_bytes(s, 1)));
  sqlite3_finalize(s);
  sqlite3_close(db);
  return "UPDATE meta SET value = " + value + " WHERE key = 'change_counter'; UPDATE meta SET value = x'" + mac +
         "' WHERE key = 'change_counter_mac'";
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

TEST_CASE("serve answers 401 to a token row inserted or raised in the raw database", "[serve][integrity][sqlite]") {
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

TEST_CASE("a replayed change counter pins serve's resolve cache for at most its max age, then the rows decide",
          "[serve][integrity][sqlite]") {
  Lockbox box;
  box.init();
  box.set("A", "old-value", {"--namespace", "prod"});
  const std::string admin = make_token(box, "ci", "admin");
  Server server(box);
  auto client = client_of(server);
  const std::string body = R"({"namespace":"prod"})";
  Reply r = call(*client, "POST", "/api/v1/resolve", admin, body);
  REQUIRE(r.status == 200);
  REQUIRE(r.body.find("old-value") != std::string::npos);
  // A write, then the older counter and its (valid) MAC copied back: the counter now matches the
  // cached answer's, and this server never saw the newer one.
  const std::string saved = counter_pair(box);
  box.set("A", "new-value", {"--namespace", "prod"});
  REQUIRE(counter_pair(box) != saved);
  raw_sql(box, saved);
  // Past the max age the answer is recomputed from the rows, whose scope row carries the newer
  // counter: never the old value again. (The thread that recomputed refuses the replayed counter
  // from then on, 500; another io thread's store may still answer from the rows.)
  std::this_thread::sleep_for(std::chrono::milliseconds(api::ResolveCache::kMaxAgeMs + 100));
  for (int i = 0; i < 4; ++i) {
    r = call(*client, "POST", "/api/v1/resolve", admin, body);
    INFO(r.body);
    CHECK(r.body.find("old-value") == std::string::npos);
    CHECK((r.status == 500 || (r.status == 200 && r.body.find("new-value") != std::string::npos)));
  }
  CHECK(server.stop() == 0);
}

}  // namespace lockbox::testing
