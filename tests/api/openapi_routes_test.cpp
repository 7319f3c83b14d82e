// docs/openapi.yaml against the real server (SPEC §16): the document is served at
// GET /api/v1/openapi.json without a token, and every route's real answers — successes and the
// main error codes — have a status the document lists for that operation and a body that matches
// its schema (tests/api/openapi_schema.hpp). Every operation of the document is exercised.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <regex>
#include <string>

#include "tests/api/openapi_schema.hpp"
#include "tests/api/serve_fixture.hpp"

namespace lockbox::testing {
namespace {

struct Raw {
  int status = 0;
  std::string head;
  std::string body;
  [[nodiscard]] std::string header(const std::string& name) const {
    const std::size_t at = head.find("\r\n" + name + ": ");
    if (at == std::string::npos) return {};
    const std::size_t from = at + name.size() + 4;
    return head.substr(from, head.find("\r\n", from) - from);
  }
};

// One raw HTTP/1.1 exchange (Connection: close) with extra header lines, for the session routes.
Raw raw(const Server& server, const std::string& method, const std::string& target,
        const std::string& headers, const std::string& body = {}) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string request =
      method + " " + target + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n" + headers;
  if (!body.empty()) {
    request +=
        "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  std::string answer;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;)
    answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  Raw r;
  REQUIRE(answer.size() > 12);
  r.status = std::stoi(answer.substr(9, 3));
  const std::size_t end = answer.find("\r\n\r\n");
  r.head = answer.substr(0, end + 2);
  r.body = end == std::string::npos ? "" : answer.substr(end + 4);
  return r;
}

// Checks answers against the served document and remembers which operations were exercised.
class Conformance {
 public:
  explicit Conformance(boost::json::value doc) : api_(std::move(doc)) {}

  void expect(const std::string& method, const std::string& path, int expected, int status,
              const std::string& body, const std::string& content_type) {
    INFO(method << " " << path << " → " << status << " " << body.substr(0, 300));
    CHECK(status == expected);
    for (const auto& problem : api_.check(method, path, status, body, content_type)) {
      FAIL_CHECK(problem);
    }
    if (status / 100 == 2) succeeded_.insert(method + " " + path);
  }
  [[nodiscard]] const OpenApi& api() const { return api_; }
  [[nodiscard]] const std::set<std::string>& succeeded() const { return succeeded_; }

 private:
  OpenApi api_;
  std::set<std::string> succeeded_;
};

constexpr const char* kSecrets = "/api/v1/admin/secrets";
constexpr const char* kSecret = "/api/v1/admin/secrets/{name}";

boost::json::value fetch_document(api::HttpClient& client) {
  const Reply doc = call(client, "GET", "/api/v1/openapi.json", "");
  REQUIRE(doc.status == 200);
  REQUIRE(doc.json.is_object());
  return doc.json;
}

}  // namespace

TEST_CASE("openapi: GET /api/v1/openapi.json serves the OpenAPI 3.1 document without a token",
          "[serve][openapi]") {
  Lockbox box;
  box.init();
  Server server(box, {"--no-ui"});
  auto client = client_of(server);
  const Reply doc = call(*client, "GET", "/api/v1/openapi.json", "");
  CHECK(doc.status == 200);
  CHECK(doc.content_type == "application/json");
  REQUIRE(doc.json.is_object());
  CHECK(doc.json.at("openapi").as_string().starts_with("3.1"));
  const OpenApi api(doc.json);
  for (const char* op :
       {"GET /api/v1/admin/secrets", "POST /api/v1/resolve", "POST /api/v1/session",
        "DELETE /api/v1/admin/tokens/{name}", "GET /api/v1/openapi.json"}) {
    CHECK(api.operations().count(op) == 1);
  }
  CHECK(call(*client, "POST", "/api/v1/openapi.json", "", "{}").status == 405);
  CHECK(call(*client, "GET", "/api/v1/openapi.json", "lbx_0011223344556677_wrong").status == 200);
}

TEST_CASE("openapi: the validator refuses a body that breaks its schema", "[openapi]") {
  OpenApi api(boost::json::parse(
      R"({"paths":{"/x":{"get":{"responses":{"200":{"content":{"application/json":
    {"schema":{"$ref":"#/components/schemas/T"}}}}}}}},"components":{"schemas":{"T":{"type":"object",
    "required":["a"],"additionalProperties":false,"properties":{"a":{"type":["integer","null"]},
    "b":{"type":"string","enum":["x"]}}}}}})"));
  CHECK(api.check("GET", "/x", 200, R"({"a":1})").empty());
  CHECK(api.check("GET", "/x", 200, R"({"a":null,"b":"x"})").empty());
  CHECK(api.check("GET", "/x", 200, R"({"a":"1"})").size() == 1);
  CHECK(api.check("GET", "/x", 200, R"({"b":"y"})").size() == 2);  // a missing, b not in the enum
  CHECK(api.check("GET", "/x", 200, R"({"a":1,"c":2})").size() == 1);
  CHECK(api.check("GET", "/x", 404, "{}").size() == 1);  // undocumented status
  CHECK(api.check("GET", "/x", 200, R"({"a":1})", "application/json; charset=utf-8").empty());
  CHECK(api.check("GET", "/x", 200, R"({"a":1})", "text/html").size() == 1);
  // A keyword the checker does not check is an error, not silently passed.
  std::vector<std::string> problems;
  api.validate(boost::json::parse(R"({"type":"string","minLength":2})"), "x", "$", problems);
  CHECK(problems.size() == 1);
}

namespace {

// A server with an admin, a reader (read and resolve namespace:prod) and a role with nothing, and
// the document it serves.
struct Routes {
  Lockbox box;
  std::string admin, reader, none;
  std::unique_ptr<Server> server;
  std::unique_ptr<api::HttpClient> client;
  std::unique_ptr<Conformance> conformance;
  Conformance& c;

  Routes() : c(start()) {}
  Conformance& start() {
    box.init();
    const auto policy = box.root() / "lockbox.yaml";
    write_file(policy,
               "version: 1\nroles:\n  reader:\n    read: [\"namespace:prod\"]\n"
               "    resolve: [\"namespace:prod\"]\n  nothing: {}\n");
    const std::vector<std::string> p = {"--policy", policy.string()};
    admin = make_token(box, "adm", "admin", p);
    reader = make_token(box, "rd", "reader", p);
    none = make_token(box, "none", "nothing", p);
    server = std::make_unique<Server>(box, p);
    client = client_of(*server);
    conformance = std::make_unique<Conformance>(fetch_document(*client));
    return *conformance;
  }
  // One API call: method, path template, target, token, expected status, body, its type.
  Reply api(const std::string& method, const std::string& path, const std::string& target,
            const std::string& token, int expected, const std::string& body = {},
            const std::string& type = "application/json") {
    const Reply r = call(*client, method, target, token, body, type);
    c.expect(method, path, expected, r.status, r.body, r.content_type);
    return r;
  }
};

// Create, update, list and get, with their main errors.
void secret_writes_and_reads(Routes& t) {
  const std::string S(kSecrets);
  const std::string N = S + "/DB?scope=namespace:prod";
  const std::string create =
      R"({"name":"DB","value":"v1","scope":"namespace:prod","tags":["t"],"expires_at":"30d"})";
  t.api("POST", S, S, t.admin, 201, create);
  t.api("POST", S, S, t.admin, 200,
        R"({"name":"DB","value":"v2","scope":"namespace:prod","metadata":{"k":"v"}})");
  t.api("POST", S, S, t.admin, 201, R"({"name":"OTHER","value":"o","scope":"namespace:prod"})");
  t.api("POST", S, S, t.admin, 400, R"({"name":"DB","value":"v","expire_at":"1d"})");
  t.api("POST", S, S, t.admin, 400, "{not json");
  t.api("POST", S, S, t.admin, 415, create, "text/plain");
  t.api("POST", S, S, "", 401, create);
  t.api("POST", S, S, t.reader, 403, create);
  t.api("POST", S, S, t.admin, 409,
        R"({"name":"DB","value":"v","scope":"namespace:prod","expected_version":7})");
  t.api("POST", S, S, t.admin, 413,
        R"({"name":"DB","value":")" + std::string(1100 * 1024, 'x') + R"("})");

  const Reply page = t.api("GET", S, S + "?limit=1", t.admin, 200);
  REQUIRE(page.json.at("next_cursor").is_string());
  t.api("GET", S, S + "?cursor=" + std::string(page.json.at("next_cursor").as_string()), t.admin,
        200);
  t.api("GET", S, S + "?namespace=prod&tag=t", t.reader, 200);
  t.api("GET", S, S + "?limit=0", t.admin, 400);
  t.api("GET", S, S, "lbx_0011223344556677_wrong", 401);
  t.api("GET", S, S, t.none, 403);

  t.api("GET", kSecret, N, t.reader, 200);
  t.api("GET", kSecret, S + "/DB?scope=nope:x", t.admin, 400);
  t.api("GET", kSecret, S + "/DB", t.reader, 403);
  t.api("GET", kSecret, S + "/NOPE?scope=namespace:prod", t.admin, 404);
  t.api("GET", kSecret, N, "", 401);

  t.api("PUT", kSecret, N, t.admin, 200, R"({"description":"the database","expires_at":null})");
  t.api("PUT", kSecret, N, t.admin, 200, R"({"value":"v3","tags":["a","b"]})");
  t.api("PUT", kSecret, N, t.admin, 400, R"({"valeu":"x"})");
  t.api("PUT", kSecret, N, t.admin, 409, R"({"value":"x","expected_version":1})");
  t.api("PUT", kSecret, N, t.admin, 415, R"({"value":"x"})", "text/plain");
  t.api("PUT", kSecret, N, t.reader, 403, R"({"value":"x"})");
  t.api("PUT", kSecret, S + "/NOPE?scope=namespace:prod", t.admin, 404, R"({"value":"x"})");
}

// Reveal, history, rollback, delete and purge.
// The bulk forms of POST and DELETE /api/v1/admin/secrets (SPEC §13), with a rotation reminder.
void bulk_routes(Routes& t) {
  const std::string S(kSecrets);
  const Reply written =
      t.api("POST", S, S, t.admin, 200,
            R"({"secrets":[{"name":"B1","value":"1","scope":"namespace:prod","rotate_every":"30d",)"
            R"("notify_before":"7d"},{"name":"B2","value":"2"}]})");
  CHECK(written.json.at("created") == 2);
  t.api("GET", kSecret, S + "/B1?scope=namespace:prod", t.reader, 200);
  t.api("POST", S, S, t.admin, 400, R"({"secrets":[{"name":"B3","value":"3"},{"name":"B4"}]})");
  t.api("POST", S, S, t.admin, 400, R"({"secrets":[]})");
  t.api("POST", S, S, t.reader, 403,
        R"({"secrets":[{"name":"B3","value":"3","scope":"namespace:prod"}]})");
  t.api("DELETE", S, S, t.admin, 400, R"({"secrets":[{"name":"B2"},{"name":"NOPE"}]})");
  t.api("DELETE", S, S, t.reader, 403, R"({"secrets":[{"name":"B2"}]})");
  t.api("DELETE", S, S, "", 401, R"({"secrets":[{"name":"B2"}]})");
  t.api("DELETE", S, S, t.admin, 415, R"({"secrets":[{"name":"B2"}]})", "text/plain");
  const Reply removed =
      t.api("DELETE", S, S, t.admin, 200,
            R"({"secrets":[{"name":"B2"},{"name":"B1","scope":"namespace:prod"}]})");
  CHECK(removed.json.at("secrets").as_array().size() == 2);
}

void secret_versions(Routes& t) {
  const std::string S(kSecrets);
  const std::string N = S + "/DB?scope=namespace:prod";
  const std::string V = "/api/v1/admin/secrets/{name}/value";
  t.api("GET", V, S + "/DB/value?scope=namespace:prod", t.admin, 200);
  t.api("GET", V, S + "/DB/value?scope=namespace:prod", t.reader, 403);
  t.api("GET", V, S + "/NOPE/value?scope=namespace:prod", t.admin, 404);
  t.api("GET", V, S + "/DB/value?scope=namespace:prod", "", 401);

  const std::string H = "/api/v1/admin/secrets/{name}/history";
  const Reply history = t.api("GET", H, S + "/DB/history?scope=namespace:prod", t.reader, 200);
  CHECK(history.json.at("versions").as_array().size() == 4);  // POST, POST, PUT, PUT
  t.api("GET", H, S + "/DB/history", t.reader, 403);
  t.api("GET", H, S + "/NOPE/history?scope=namespace:prod", t.admin, 404);

  const std::string R = "/api/v1/admin/secrets/{name}/rollback";
  t.api("POST", R, S + "/DB/rollback?scope=namespace:prod", t.admin, 200, R"({"version":1})");
  t.api("POST", R, S + "/DB/rollback?scope=namespace:prod", t.admin, 400, R"({"version":0})");
  t.api("POST", R, S + "/DB/rollback?scope=namespace:prod", t.admin, 404, R"({"version":99})");
  t.api("POST", R, S + "/DB/rollback?scope=namespace:prod", t.reader, 403, R"({"version":1})");
  t.api("POST", R, S + "/DB/rollback?scope=namespace:prod", t.admin, 415, R"({"version":1})",
        "text/plain");

  const Reply tomb = t.api("DELETE", kSecret, N, t.admin, 200);
  CHECK(tomb.json.at("deleted") == true);
  t.api("GET", kSecret, N, t.admin, 404);
  t.api("DELETE", kSecret, N, t.reader, 403);
  t.api("DELETE", kSecret, S + "/OTHER?scope=namespace:prod&purge=true", t.reader, 403);
  const Reply purged =
      t.api("DELETE", kSecret, S + "/OTHER?scope=namespace:prod&purge=true", t.admin, 200);
  CHECK(purged.json.at("purged") == true);
  t.api("DELETE", kSecret, S + "/OTHER?scope=namespace:prod", t.admin, 404);
  t.api("DELETE", kSecret, S + "/DB?scope=bad", t.admin, 400);
  bulk_routes(t);
}

// /resolve and /resolve/preview.
void resolve_routes(Routes& t) {
  const std::string S(kSecrets);
  const std::string N = S + "/DB?scope=namespace:prod";
  t.api("POST", S, S, t.admin, 201, R"({"name":"DB","value":"v1","scope":"namespace:prod"})");
  for (const std::string path : {"/api/v1/resolve", "/api/v1/resolve/preview"}) {
    t.api("POST", path, path, t.reader, 200, R"({"namespace":"prod"})");
    t.api("POST", path, path, t.admin, 200,
          R"({"namespace":"prod","function":"api","group":"g","apikey":"k"})");
    t.api("POST", path, path, t.admin, 400, R"({"namspace":"prod"})");
    t.api("POST", path, path, t.none, 403, R"({"namespace":"prod"})");
    t.api("POST", path, path, t.admin, 415, R"({"namespace":"prod"})", "text/plain");
    t.api("POST", path, path, "", 401, R"({"namespace":"prod"})");
  }
  t.api("POST", "/api/v1/resolve", "/api/v1/resolve", t.admin, 413,
        R"({"namespace":")" + std::string(1100 * 1024, 'n') + R"("})");
}

// whoami, keys, audit, tokens, and the 429 of failed authentications.
void admin_routes(Routes& t) {
  t.api("GET", "/api/v1/whoami", "/api/v1/whoami", t.reader, 200);
  t.api("GET", "/api/v1/whoami", "/api/v1/whoami", t.admin, 200);
  t.api("GET", "/api/v1/admin/keys", "/api/v1/admin/keys", t.none, 200);
  t.api("GET", "/api/v1/admin/keys", "/api/v1/admin/keys", "", 401);
  const std::string K = "/api/v1/admin/keys/rotate";
  t.api("POST", K, K, t.admin, 200, "{}");
  t.api("POST", K, K, t.reader, 403, "{}");
  t.api("POST", K, K, t.admin, 415, "{}", "text/plain");
  const std::string A = "/api/v1/admin/audit";
  t.api("GET", A, A + "?action=key.rotate&since=24h&limit=5", t.admin, 200);
  t.api("GET", A, A + "?limit=0", t.admin, 400);
  t.api("GET", A, A, t.reader, 403);
  t.api("GET", A, A, "", 401);
  const std::string T = "/api/v1/admin/tokens";
  t.api("GET", T, T, t.admin, 200);
  t.api("GET", T, T, t.reader, 403);
  t.api("POST", T, T, t.admin, 201, R"({"name":"ci","role":"reader","ttl":"1d"})");
  t.api("POST", T, T, t.admin, 400, R"({"name":"ci2"})");
  t.api("POST", T, T, t.reader, 403, R"({"name":"ci3","role":"reader"})");
  t.api("POST", T, T, t.admin, 415, R"({"name":"ci4","role":"reader"})", "text/plain");
  const std::string D = "/api/v1/admin/tokens/{name}";
  t.api("DELETE", D, T + "/ci", t.admin, 200);
  t.api("DELETE", D, T + "/nope", t.admin, 404);
  t.api("DELETE", D, T + "/ci", t.reader, 403);
  // Past 10 failed authentications from one address: 429 (with Retry-After).
  // (The failures above count too, so the 429 comes at the 10th failure or before.)
  Reply limited;
  for (int i = 0; i < 11 && limited.status != 429; ++i) {
    limited = call(*t.client, "GET", "/api/v1/whoami", "lbx_0011223344556677_bad");
    t.c.expect("GET", "/api/v1/whoami", limited.status == 429 ? 429 : 401, limited.status,
               limited.body, limited.content_type);
  }
  CHECK(limited.status == 429);
  CHECK_FALSE(limited.retry_after.empty());
}

// The console session routes, and an API route through a session.
void session_routes(Routes& t) {
  const std::string S(kSecrets);
  const std::string N = S + "/DB?scope=namespace:prod";
  const std::string P = "/api/v1/session";
  auto session = [&](const std::string& method, const std::string& headers, int expected,
                     const std::string& body = {}) {
    const Raw r = raw(*t.server, method, P, headers, body);
    t.c.expect(method, P, expected, r.status, r.body, r.header("Content-Type"));
    return r;
  };
  session("POST", "", 401, R"({"token":"lbx_0011223344556677_nope"})");
  session("POST", "", 400, R"({"tokn":"x"})");
  const Raw in = session("POST", "", 200, R"({"token":")" + t.admin + R"("})");
  const std::string set = in.header("Set-Cookie");
  REQUIRE(set.rfind("lockbox_session=", 0) == 0);
  const std::string cookie = "Cookie: " + set.substr(0, set.find(';')) + "\r\n";
  const auto parsed = boost::json::parse(in.body);
  const std::string csrf =
      "X-Lockbox-CSRF: " + std::string(parsed.at("csrf_token").as_string()) + "\r\n";
  session("GET", cookie + csrf, 200);
  session("GET", cookie, 403);  // every request of a session needs its CSRF header, GET too
  session("GET", "", 401);
  // A session's request to an API route: cookie and CSRF header, else 403.
  const Raw listed = raw(*t.server, "GET", S, cookie + csrf);
  t.c.expect("GET", S, 200, listed.status, listed.body, listed.header("Content-Type"));
  const Raw bare = raw(*t.server, "GET", S, cookie);
  t.c.expect("GET", S, 403, bare.status, bare.body, bare.header("Content-Type"));
  const Raw no_csrf = raw(*t.server, "POST", S, cookie, R"({"name":"X","value":"x"})");
  t.c.expect("POST", S, 403, no_csrf.status, no_csrf.body, no_csrf.header("Content-Type"));
  const Raw with_csrf = raw(*t.server, "POST", S, cookie + csrf, R"({"name":"X","value":"x"})");
  t.c.expect("POST", S, 201, with_csrf.status, with_csrf.body, with_csrf.header("Content-Type"));
  session("DELETE", cookie, 403);
  session("DELETE", cookie + csrf, 200);
  session("GET", cookie + csrf, 401);
}

// Both ways: served routes are documented, documented operations were answered.
void check_coverage(Routes& t) {
  // The other way round: every (method, route) the server answered with a 2xx, as its own
  // metrics count them, is an operation of the document (HEAD is GET; /ui/ is the console's files).
  const Reply metrics = call(*t.client, "GET", "/metrics", "");
  const std::regex sample(
      R"re(lockbox_http_requests_total\{method="(\w+)",route="([^"]*)",status="2\d\d"\})re");
  const auto& text = metrics.body;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), sample);
       it != std::sregex_iterator(); ++it) {
    const std::string method = (*it)[1] == "HEAD" ? "GET" : std::string((*it)[1]);
    if ((*it)[2] == "/ui/") continue;
    INFO("served but not documented: " << method << " " << (*it)[2]);
    CHECK(t.c.api().operations().count(method + " " + std::string((*it)[2])) == 1);
  }

  // Every operation of the document answered with a 2xx by one of the sections: check at the end
  // of the last one (Catch runs the test case once per section, the common calls each time).
  static std::set<std::string> covered;
  covered.insert(t.c.succeeded().begin(), t.c.succeeded().end());
  if (covered.count("DELETE /api/v1/session") == 1) {
    for (const auto& op : t.c.api().operations()) {
      INFO("documented but never answered with a 2xx: " << op);
      CHECK(covered.count(op) == 1);
    }
  }
}

}  // namespace

TEST_CASE("openapi: every route's real answers, successes and errors, match the document",
          "[serve][openapi]") {
  Routes t;
  t.api("GET", "/api/v1/health", "/api/v1/health", "", 200);
  CHECK(call(*t.client, "PUT", "/api/v1/health", "", "{}").status == 405);  // no such operation
  t.api("GET", "/metrics", "/metrics", "", 200);
  t.api("GET", "/api/v1/openapi.json", "/api/v1/openapi.json", "", 200);
  SECTION("secrets") {
    secret_writes_and_reads(t);
    secret_versions(t);
  }
  SECTION("resolve and preview") {
    resolve_routes(t);
  }
  SECTION("whoami, keys and the admin pages") {
    admin_routes(t);
  }
  SECTION("console session") {
    session_routes(t);
  }
  check_coverage(t);
}

}  // namespace lockbox::testing
