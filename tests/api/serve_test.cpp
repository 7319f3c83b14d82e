// `lockbox serve` through a real server on 127.0.0.1 (SPEC §8): every route and error status,
// the exact JSON fields, audit records of API reveals and resolves, and nothing of a value in the
// server's log.
#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <regex>
#include <set>
#include <thread>

#include "tests/api/serve_fixture.hpp"

namespace lockbox::testing {
namespace {

constexpr const char* kSecrets = "/api/v1/admin/secrets";

std::string str(const boost::json::value& v, const char* key) {
  return std::string(v.as_object().at(key).as_string().c_str());
}

}  // namespace

TEST_CASE("health and metrics answer without a token", "[serve]") {
  Lockbox box;
  box.init();
  Server server(box);
  auto client = client_of(server);
  const Reply health = call(*client, "GET", "/api/v1/health", "");
  CHECK(health.status == 200);
  CHECK(str(health.json, "status") == "ok");
  CHECK(call(*client, "GET", "/api/v1/nowhere", "").status == 404);
  const Reply metrics = call(*client, "GET", "/metrics", "");
  CHECK(metrics.status == 200);
  CHECK(metrics.content_type.rfind("text/plain", 0) == 0);
  CHECK(metrics.body.find("lockbox_http_requests_total{") != std::string::npos);
  CHECK(metrics.body.find("route=\"/api/v1/health\"") != std::string::npos);
  CHECK(metrics.body.find("lockbox_active_key_age_seconds") != std::string::npos);
  CHECK(server.stop() == 0);
}

TEST_CASE("secrets CRUD over the API matches the CLI and audits under the token's name", "[serve]") {
  Lockbox box;
  box.init();
  const std::string token = make_token(box, "ci", "admin");
  Server server(box);
  auto client = client_of(server);
  const std::string create = std::string(R"({"name":"DB_URL","value":")") + kCanary +
                             R"(","scope":"namespace:prod","description":"db","tags":["a"],"metadata":{"k":"v"}})";
  const Reply created = call(*client, "POST", kSecrets, token, create);
  INFO(created.body);
  REQUIRE(created.status == 201);
  CHECK(keys_of(created.json.as_object()) ==
        std::vector<std::string>{"created_at", "description", "expires_at", "fingerprint", "metadata", "name",
                                 "scope", "tags", "updated_at", "version"});
  CHECK(created.body.find(kCanary) == std::string::npos);
  CHECK(call(*client, "POST", kSecrets, token, create).status == 200);  // an update: v2

  // GET metadata is the object of `secrets get --json`.
  const Reply got = call(*client, "GET", std::string(kSecrets) + "/DB_URL?scope=namespace:prod", token);
  REQUIRE(got.status == 200);
  const ProcessResult cli = box.run({"secrets", "get", "DB_URL", "--namespace", "prod", "--json"});
  REQUIRE(cli.exit_code == 0);
  CHECK(parse_json(cli.out) == got.json);
  CHECK(got.json.as_object().at("version").as_int64() == 2);

  const Reply value = call(*client, "GET", std::string(kSecrets) + "/DB_URL/value?scope=namespace:prod", token);
  REQUIRE(value.status == 200);
  CHECK(keys_of(value.json.as_object()) == std::vector<std::string>{"name", "scope", "value", "version"});
  CHECK(str(value.json, "value") == kCanary);

  // PUT: expected_version mismatch is 409 and changes nothing; without value it keeps the value.
  const Reply conflict = call(*client, "PUT", std::string(kSecrets) + "/DB_URL?scope=namespace:prod", token,
                              R"({"description":"x","expected_version":1})");
  CHECK(conflict.status == 409);
  CHECK(error_code(conflict) == "conflict");
  const Reply put = call(*client, "PUT", std::string(kSecrets) + "/DB_URL?scope=namespace:prod", token,
                         R"({"description":"new","expected_version":2})");
  REQUIRE(put.status == 200);
  CHECK(put.json.as_object().at("version").as_int64() == 3);
  CHECK(str(put.json, "description") == "new");
  CHECK(box.reveal("DB_URL", {"--namespace", "prod"}) == kCanary);

  // DELETE is a tombstone: GET is 404, history keeps it, rollback brings the value back.
  CHECK(call(*client, "DELETE", std::string(kSecrets) + "/DB_URL?scope=namespace:prod", token).status == 200);
  const Reply gone = call(*client, "GET", std::string(kSecrets) + "/DB_URL?scope=namespace:prod", token);
  CHECK(gone.status == 404);
  CHECK(error_code(gone) == "not_found");
  const Reply history = call(*client, "GET", std::string(kSecrets) + "/DB_URL/history?scope=namespace:prod", token);
  REQUIRE(history.status == 200);
  const auto& versions = history.json.as_object().at("versions").as_array();
  REQUIRE(versions.size() == 4);
  CHECK(keys_of(versions[0].as_object()) ==
        std::vector<std::string>{"actor", "created_at", "description", "fingerprint", "tombstone", "version"});
  CHECK(str(versions[0], "actor") == "token:ci");
  CHECK(versions[3].as_object().at("tombstone").as_bool());
  const Reply rolled = call(*client, "POST", std::string(kSecrets) + "/DB_URL/rollback?scope=namespace:prod", token,
                            R"({"version":2})");
  REQUIRE(rolled.status == 200);
  CHECK(rolled.json.as_object().at("version").as_int64() == 5);
  CHECK(box.reveal("DB_URL", {"--namespace", "prod"}) == kCanary);

  // Purge (admin) destroys every version.
  CHECK(call(*client, "DELETE", std::string(kSecrets) + "/DB_URL?scope=namespace:prod&purge=true", token).status == 200);
  CHECK(call(*client, "GET", std::string(kSecrets) + "/DB_URL/history?scope=namespace:prod", token).status == 404);

  CHECK(server.stop() == 0);
  const ProcessResult audit = box.run({"audit", "list", "--json"});
  REQUIRE(audit.exit_code == 0);
  int reveals = 0;
  const boost::json::value trail = parse_json(audit.out);
  for (const auto& rec : trail.as_array()) {
    const auto& o = rec.as_object();
    if (o.at("action").as_string() == "secret.reveal" && o.at("actor").as_string() == "token:ci") ++reveals;
    if (o.at("action").as_string() == "secret.set") CHECK(o.at("actor").as_string() == "token:ci");
  }
  CHECK(reveals == 1);
  CHECK(audit.out.find(kCanary) == std::string::npos);
  CHECK(box.run({"audit", "verify"}).exit_code == 0);
  CHECK(server.log().find(kCanary) == std::string::npos);
}

TEST_CASE("bad requests get the SPEC's error statuses and change nothing", "[serve]") {
  Lockbox box;
  box.init();
  box.set("KEEP", "v");
  const std::string token = make_token(box, "ci", "admin");
  const std::string before = box.snapshot();
  Server server(box);
  auto client = client_of(server);
  auto check = [&](const std::string& method, const std::string& target, const std::string& body, int status,
                   const std::string& code, const std::string& type = "application/json") {
    const Reply r = call(*client, method, target, token, body, type);
    INFO(method << " " << target << " " << body << " -> " << r.body);
    CHECK(r.status == status);
    CHECK(error_code(r) == code);
    CHECK(r.body.find(kCanary) == std::string::npos);
  };
  const std::string canary_value = std::string(R"(,"value":")") + kCanary + "\"";
  check("POST", kSecrets, "{not json", 400, "bad_request");
  check("POST", kSecrets, "[1,2]", 400, "bad_request");
  check("POST", kSecrets, R"({"name":"A")" + canary_value + R"(,"tags":"x"})", 400, "bad_request");
  check("POST", kSecrets, R"({"name":"A")" + canary_value + R"(,"color":"x"})", 400, "bad_request");
  check("POST", kSecrets, R"({"name":"bad name")" + canary_value + "}", 400, "bad_request");
  check("POST", kSecrets, R"({"name":"A","value":7})", 400, "bad_request");
  check("POST", kSecrets, R"({"name":"A")" + canary_value + R"(,"scope":"planet:mars"})", 400, "bad_request");
  check("POST", kSecrets, R"({"name":"A")" + canary_value + R"(,"expires_at":"yesterday"})", 400, "bad_request");
  check("POST", kSecrets, R"({"name":"A")" + canary_value + "}", 415, "unsupported_media_type", "text/plain");
  check("POST", kSecrets, R"({"name":"A","value":"a\u0000b"})", 400, "bad_request");
  check("GET", std::string(kSecrets) + "?limit=0", "", 400, "bad_request");
  check("GET", std::string(kSecrets) + "?limit=1001", "", 400, "bad_request");
  check("GET", std::string(kSecrets) + "?cursor=zz", "", 400, "bad_request");
  check("GET", std::string(kSecrets) + "/MISSING", "", 404, "not_found");
  check("POST", std::string(kSecrets) + "/KEEP/rollback", R"({"version":"2"})", 400, "bad_request");
  check("POST", std::string(kSecrets) + "/KEEP/rollback", R"({"version":9})", 404, "not_found");
  check("PATCH", std::string(kSecrets) + "/KEEP", "", 405, "bad_request");
  // Over 1 MiB: 413, and the server keeps serving.
  const std::string big = R"({"name":"BIG","value":")" + std::string(1024 * 1024 + 10, 'x') + "\"}";
  auto big_client = client_of(server);
  auto r = big_client->request("POST", kSecrets, token, big);
  if (r.is_ok()) {
    CHECK(r->status == 413);
    CHECK(std::string(r->body.reveal()).find("payload_too_large") != std::string::npos);
  }  // else: the server closed before reading it all, also a refusal
  CHECK(call(*client, "GET", "/api/v1/health", "").status == 200);
  CHECK(server.stop() == 0);
  CHECK(box.snapshot() == before);
  CHECK(server.log().find(kCanary) == std::string::npos);
}

TEST_CASE("tokens: missing, malformed, revoked and expired tokens are 401; failures are audited", "[serve]") {
  Lockbox box;
  box.init();
  const std::string good = make_token(box, "ci", "admin");
  const std::string revoked = make_token(box, "old", "admin");
  const std::string short_lived = make_token(box, "short", "admin", {"--ttl", "1h"});
  const std::string long_lived = make_token(box, "long", "admin", {"--ttl", "3h"});
  // The server runs two hours from now (LOCKBOX_TEST_NOW): `short` has expired, `long` has not.
  Server server(box, {}, at(2 * kHour).env);
  auto client = client_of(server);
  CHECK(call(*client, "GET", kSecrets, good).status == 200);
  CHECK(call(*client, "GET", kSecrets, revoked).status == 200);
  REQUIRE(box.run({"tokens", "revoke", "old"}).exit_code == 0);
  const Reply after_revoke = call(*client, "GET", kSecrets, revoked);  // refused on the next request
  CHECK(after_revoke.status == 401);
  CHECK(error_code(after_revoke) == "unauthorized");
  CHECK(call(*client, "GET", kSecrets, short_lived).status == 401);
  CHECK(call(*client, "GET", kSecrets, long_lived).status == 200);
  CHECK(call(*client, "GET", kSecrets, "").status == 401);
  CHECK(call(*client, "GET", kSecrets, "lbx_nonsense").status == 401);
  std::string wrong_secret = good;
  wrong_secret.back() = wrong_secret.back() == '0' ? '1' : '0';
  CHECK(call(*client, "GET", kSecrets, wrong_secret).status == 401);
  CHECK(server.stop() == 0);
  const ProcessResult audit = box.run({"audit", "list", "--action", "auth.failure", "--json"});
  REQUIRE(audit.exit_code == 0);
  const auto records = parse_json(audit.out).as_array();
  CHECK(records.size() == 5);
  std::vector<std::string> targets;
  for (const auto& rec : records) targets.emplace_back(rec.as_object().at("target").as_string().c_str());
  CHECK(std::count(targets.begin(), targets.end(), "token:old") == 1);
  CHECK(std::count(targets.begin(), targets.end(), "token:short") == 1);
  CHECK(std::count(targets.begin(), targets.end(), "token:ci") == 1);  // the wrong secret, id known
  CHECK(audit.out.find(good.substr(21)) == std::string::npos);
  CHECK(server.log().find(good.substr(21)) == std::string::npos);
}

TEST_CASE("too many failed authentications from one address get 429, audited once", "[serve]") {
  Lockbox box;
  box.init();
  const std::string good = make_token(box, "ci", "admin");
  Server server(box);
  auto client = client_of(server);
  for (int i = 0; i < 10; ++i) CHECK(call(*client, "GET", kSecrets, "lbx_wrong").status == 401);
  const Reply limited = call(*client, "GET", kSecrets, "lbx_wrong");
  CHECK(limited.status == 429);
  CHECK(error_code(limited) == "too_many_requests");
  CHECK(!limited.retry_after.empty());
  CHECK(call(*client, "GET", kSecrets, "lbx_wrong").status == 429);
  CHECK(call(*client, "GET", kSecrets, good).status == 200);  // a valid token still passes
  CHECK(call(*client, "GET", "/api/v1/health", "").status == 200);
  CHECK(server.stop() == 0);
  const ProcessResult audit = box.run({"audit", "list", "--action", "auth.failure", "--json"});
  CHECK(parse_json(audit.out).as_array().size() == 10);  // the 429s are not recorded one by one
}

TEST_CASE("roles: patterns, permission before existence, filtered lists, purge admin only", "[serve]") {
  Lockbox box;
  box.init();
  const auto policy = box.root() / "lockbox.yaml";
  write_file(policy, R"(version: 1
roles:
  devops:
    read: ["namespace:production", "function:production/*"]
    write: ["namespace:production"]
    delete: ["namespace:production"]
    reveal: ["function:production/*"]
  nothing: {}
)");
  const std::vector<std::string> p = {"--policy", policy.string()};
  for (const auto& [scope, name] : std::vector<std::pair<std::string, std::string>>{
           {"namespace:production", "DB"}, {"function:production/api", "KEY"}, {"namespace:staging", "DB"},
           {"global", "G"}}) {
    REQUIRE(box.run_stdin({"secrets", "set", name, "--scope", scope}, "value-" + name).exit_code == 0);
  }
  REQUIRE(box.run({"tokens", "create", "--name", "x", "--role", "devops"}).exit_code == 2);  // no policy given
  const std::string ops = make_token(box, "ops", "devops", p);
  const std::string none = make_token(box, "none", "nothing", p);
  Server server(box, p);
  auto client = client_of(server);
  const std::string S(kSecrets);
  CHECK(call(*client, "GET", S + "/DB?scope=namespace:production", ops).status == 200);
  // Permission before existence: 403 for a denied scope whether or not the secret exists.
  CHECK(call(*client, "GET", S + "/DB?scope=namespace:staging", ops).status == 403);
  CHECK(call(*client, "GET", S + "/NOPE?scope=namespace:staging", ops).status == 403);
  CHECK(call(*client, "GET", S + "/NOPE?scope=namespace:production", ops).status == 404);
  // namespace:X does not grant function:X/*, and the reverse.
  CHECK(call(*client, "GET", S + "/KEY/value?scope=function:production/api", ops).status == 200);
  CHECK(call(*client, "GET", S + "/DB/value?scope=namespace:production", ops).status == 403);
  CHECK(call(*client, "POST", S, ops, R"({"name":"N","value":"v","scope":"function:production/api"})").status == 403);
  CHECK(call(*client, "POST", S, ops, R"({"name":"N","value":"v","scope":"namespace:production"})").status == 201);
  CHECK(call(*client, "POST", S, ops, R"({"name":"N","value":"v","scope":"namespace:productionx"})").status == 403);
  CHECK(call(*client, "DELETE", S + "/N?scope=namespace:production&purge=true", ops).status == 403);
  CHECK(call(*client, "DELETE", S + "/N?scope=namespace:production", ops).status == 200);
  // Lists hold only readable scopes; none readable is 403.
  const Reply listed = call(*client, "GET", S, ops);
  REQUIRE(listed.status == 200);
  std::vector<std::string> scopes;
  for (const auto& s : listed.json.as_object().at("secrets").as_array()) scopes.push_back(str(s, "scope"));
  CHECK(scopes == std::vector<std::string>{"function:production/api", "namespace:production"});
  CHECK(call(*client, "GET", S + "?scope=global", ops).status == 403);
  CHECK(call(*client, "GET", S, none).status == 403);
  CHECK(call(*client, "POST", "/api/v1/resolve", none, R"({"namespace":"production"})").status == 403);
  CHECK(server.stop() == 0);
}

TEST_CASE("list pagination: limit and cursor visit every secret once", "[serve]") {
  Lockbox box;
  box.init();
  std::string script;
  for (int i = 0; i < 25; ++i) script += fmt::format("S{:02}=v{}\n", i, i);
  write_file(box.root() / "in.env", script);
  REQUIRE(box.run({"secrets", "import", (box.root() / "in.env").string(), "--namespace", "p"}).exit_code == 0);
  box.set("G", "g");
  const std::string token = make_token(box, "ci", "admin");
  Server server(box);
  auto client = client_of(server);
  std::vector<std::string> seen;
  std::string cursor;
  int pages = 0;
  do {
    const Reply page = call(*client, "GET", std::string(kSecrets) + "?limit=10" + (cursor.empty() ? "" : "&cursor=" + cursor), token);
    REQUIRE(page.status == 200);
    ++pages;
    for (const auto& s : page.json.as_object().at("secrets").as_array()) seen.push_back(str(s, "scope") + "/" + str(s, "name"));
    const auto& next = page.json.as_object().at("next_cursor");
    cursor = next.is_null() ? "" : std::string(next.as_string().c_str());
  } while (!cursor.empty() && pages < 10);
  CHECK(pages == 3);
  CHECK(seen.size() == 26);
  CHECK(std::set<std::string>(seen.begin(), seen.end()).size() == 26);
  const Reply filtered = call(*client, "GET", std::string(kSecrets) + "?namespace=p&limit=1000", token);
  CHECK(filtered.json.as_object().at("secrets").as_array().size() == 25);
  CHECK(server.stop() == 0);
}

TEST_CASE("resolve returns the launch view with values; scopes the token may not resolve are left out",
          "[serve]") {
  Lockbox box;
  box.init();
  const auto policy = box.root() / "lockbox.yaml";
  write_file(policy, R"(version: 1
roles:
  runner: { resolve: ["namespace:prod", "global"] }
)");
  const std::vector<std::string> p = {"--policy", policy.string()};
  REQUIRE(box.run_stdin({"secrets", "set", "A", "--scope", "global"}, "a-global").exit_code == 0);
  REQUIRE(box.run_stdin({"secrets", "set", "A", "--scope", "namespace:prod"}, "a-prod").exit_code == 0);
  REQUIRE(box.run_stdin({"secrets", "set", "A", "--scope", "function:prod/fn"}, kCanary).exit_code == 0);
  REQUIRE(box.run_stdin({"secrets", "set", "B", "--scope", "global"}, "b-global").exit_code == 0);
  const std::string admin = make_token(box, "adm", "admin", p);
  const std::string runner = make_token(box, "run", "runner", p);
  Server server(box, p);
  auto client = client_of(server);
  const std::string body = R"({"namespace":"prod","function":"fn"})";
  const Reply full = call(*client, "POST", "/api/v1/resolve", admin, body);
  REQUIRE(full.status == 200);
  const auto& all = full.json.as_object().at("secrets").as_array();
  REQUIRE(all.size() == 2);
  CHECK(str(all[0], "name") == "A");
  CHECK(str(all[0], "env") == "FLUXBASE_SECRET_A");
  CHECK(str(all[0], "scope") == "function:prod/fn");
  CHECK(str(all[0], "value") == kCanary);
  CHECK(all[0].as_object().at("version").as_int64() == 1);
  const Reply limited = call(*client, "POST", "/api/v1/resolve", runner, body);
  REQUIRE(limited.status == 200);
  const auto& some = limited.json.as_object().at("secrets").as_array();
  REQUIRE(some.size() == 2);
  CHECK(str(some[0], "scope") == "namespace:prod");  // function:prod/fn left out, the next scope wins
  CHECK(str(some[0], "value") == "a-prod");
  CHECK(limited.body.find(kCanary) == std::string::npos);
  CHECK(call(*client, "POST", "/api/v1/resolve", runner, R"({"namespace":"bad ns"})").status == 400);
  CHECK(call(*client, "POST", "/api/v1/resolve", runner, R"({"namespace":7})").status == 400);
  CHECK(server.stop() == 0);
  const ProcessResult audit = box.run({"audit", "list", "--action", "resolve", "--json"});
  REQUIRE(audit.exit_code == 0);
  const auto records = parse_json(audit.out).as_array();
  REQUIRE(records.size() == 2);
  CHECK(records[1].as_object().at("actor").as_string() == "token:run");
  CHECK(records[1].as_object().at("target").as_string() == "function:prod/fn");
  CHECK(std::string(records[1].as_object().at("detail").as_string().c_str()).find("left_out=function:prod/fn") !=
        std::string::npos);
  CHECK(server.log().find(kCanary) == std::string::npos);
}

TEST_CASE("concurrent clients: every request answered, audit records grouped and chained", "[serve]") {
  Lockbox box;
  box.init();
  for (int i = 0; i < 20; ++i) box.set(fmt::format("S{}", i), fmt::format("value-{}", i));
  const std::string token = make_token(box, "ci", "admin");
  Server server(box, {"--threads", "4"});
  constexpr int kClients = 8, kRequests = 40;
  std::atomic<int> ok{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < kClients; ++c) {
    clients.emplace_back([&, c] {
      auto client = api::HttpClient::create(server.url());
      if (!client.is_ok()) return;
      for (int i = 0; i < kRequests; ++i) {
        auto r = (i + c) % 2 == 0 ? (*client)->request("POST", "/api/v1/resolve", token, "{}")
                                  : (*client)->request("GET", "/api/v1/admin/secrets/S1/value", token);
        if (r.is_ok() && r->status == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  CHECK(ok == kClients * kRequests);
  CHECK(server.stop() == 0);
  const ProcessResult verify = box.run({"audit", "verify"});
  INFO(verify.out << verify.err);
  CHECK(verify.exit_code == 0);
  const ProcessResult audit = box.run({"audit", "list", "--json"});
  int api_records = 0;
  const boost::json::value trail = parse_json(audit.out);
  for (const auto& rec : trail.as_array()) {
    const auto& action = rec.as_object().at("action").as_string();
    if (action == "resolve" || action == "secret.reveal") ++api_records;
  }
  CHECK(api_records == kClients * kRequests);
}

TEST_CASE("a stalled client holds no thread: others are served meanwhile", "[serve]") {
  Lockbox box;
  box.init();
  Server server(box, {"--threads", "1"});
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  const std::string half = "POST /api/v1/resolve HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{";
  REQUIRE(::write(fd, half.data(), half.size()) == static_cast<ssize_t>(half.size()));
  auto client = client_of(server);
  for (int i = 0; i < 5; ++i) CHECK(call(*client, "GET", "/api/v1/health", "").status == 200);
  ::close(fd);
  CHECK(server.stop() == 0);
}

TEST_CASE("serve: bad flags are exit 2, a port in use is exit 1, SIGTERM is exit 0", "[serve]") {
  Lockbox box;
  box.init();
  CHECK(box.run({"serve", "--listen", "nonsense"}).exit_code == 2);
  CHECK(box.run({"serve", "--listen", "127.0.0.1:99999"}).exit_code == 2);
  CHECK(box.run({"serve", "--listen", "127.0.0.1:0", "--tls-cert", "x.pem"}).exit_code == 2);
  CHECK(box.run({"serve", "--listen", "127.0.0.1:0", "--threads", "-1"}).exit_code == 2);
  Server server(box);
  const ProcessResult taken = box.run({"serve", "--listen", "127.0.0.1:" + std::to_string(server.port())});
  CHECK(taken.exit_code == 1);
  CHECK(server.stop() == 0);
  CHECK(server.log().find("stopped") != std::string::npos);
  Lockbox empty;  // no store: exit 1 before listening
  CHECK(empty.run({"serve", "--listen", "127.0.0.1:0"}).exit_code != 0);
}

}  // namespace lockbox::testing

namespace lockbox::testing {

TEST_CASE("the server rotates a data key that is due, then re-encrypts in the background", "[serve]") {
  Lockbox box;
  box.init();
  for (int i = 0; i < 30; ++i) box.set(fmt::format("S{}", i), fmt::format("value-{}", i));
  const ProcessResult before = box.run({"keys", "status", "--json"});
  REQUIRE(before.exit_code == 0);
  const std::int64_t old_key = parse_json(before.out).as_object().at("active_version").as_int64();
  // 100 days from now the key is past rotation.data_key_max_age (90d).
  Server server(box, {"--rotation-check", "1s"}, at(100 * kDay).env);
  std::int64_t active = old_key;
  std::int64_t left = -1;
  for (int i = 0; i < 200 && (active == old_key || left != 0); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    const ProcessResult status = box.run({"keys", "status", "--json"});
    if (status.exit_code != 0) continue;
    const boost::json::value keys = parse_json(status.out);
    active = keys.as_object().at("active_version").as_int64();
    left = 0;
    for (const auto& k : keys.as_object().at("keys").as_array()) {
      if (k.as_object().at("version").as_int64() != active) left += k.as_object().at("versions_encrypted").as_int64();
    }
  }
  CHECK(active != old_key);
  CHECK(left == 0);
  CHECK(server.stop() == 0);
  CHECK(box.reveal("S7") == "value-7");
  const ProcessResult audit = box.run({"audit", "list", "--action", "key.rotate", "--json"});
  CHECK(audit.out.find("lockbox-serve") != std::string::npos);
  CHECK(box.run({"audit", "verify"}).exit_code == 0);
}

}  // namespace lockbox::testing

namespace lockbox::testing {

TEST_CASE("a damaged row is 500 internal, counted, named only in the server log", "[serve]") {
  Lockbox box;
  box.init();
  box.set("GOOD", "fine");
  box.set("BAD", kCanary);
  tamper_envelope(box.db_path(), "BAD");
  const std::string token = make_token(box, "ci", "admin");
  Server server(box);
  auto client = client_of(server);
  const Reply bad = call(*client, "GET", std::string(kSecrets) + "/BAD/value", token);
  CHECK(bad.status == 500);
  CHECK(error_code(bad) == "internal");
  CHECK(bad.body.find("BAD") == std::string::npos);  // the caller learns nothing of the row
  CHECK(call(*client, "GET", std::string(kSecrets) + "/GOOD/value", token).status == 200);  // others stay readable
  const Reply metrics = call(*client, "GET", "/metrics", "");
  CHECK(metrics.body.find("lockbox_decrypt_failures_total 1") != std::string::npos);
  CHECK(server.stop() == 0);
  CHECK(server.log().find("BAD") != std::string::npos);  // the operator's log names it
  CHECK(server.log().find(kCanary) == std::string::npos);
}

}  // namespace lockbox::testing
