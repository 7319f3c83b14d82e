// The web console's front (SPEC §14) without a socket: the embedded files and their headers, and
// the session rules (cookie flags, CSRF, idle expiry, revocation with the token, sign-out), in
// front of a fake API that knows one token.
#include <catch2/catch.hpp>

#include <string>

#include "api/session.hpp"
#include "api/ui_assets.hpp"
#include "api/ui_console.hpp"
#include "api/ui_routes.hpp"
#include "core/clock.hpp"

namespace lockbox::api {
namespace {

const std::string kToken = "lbx_0123456789abcdef_good";

std::string header(const HttpResponse& r, std::string_view name) {
  for (const auto& [n, v] : r.headers) {
    if (n == name) return v;
  }
  return {};
}

// An API that accepts kToken (unless revoked) and records what reached it.
struct FakeApi {
  bool revoked = false;
  int calls = 0;
  std::string last_authorization;
  HttpResponse operator()(HttpRequest& request) {
    ++calls;
    last_authorization = request.authorization;
    if (revoked || request.authorization != "Bearer " + kToken) {
      return error_response(401, "unauthorized", "invalid, expired or revoked token");
    }
    HttpResponse r;
    r.body = SecretValue(R"({"token":"t","role":"admin","admin":true,"permissions":{}})");
    return r;
  }
};

struct Fixture {
  FakeClock clock{1'000'000};
  FakeApi api;
  ConsoleFront front{ConsoleOptions{false, 60'000, 16, &clock}, [this](HttpRequest& r) { return api(r); }};

  HttpResponse send(std::string method, std::string target, std::string cookie = {}, std::string csrf = {},
                    std::string body = {}) {
    HttpRequest request;
    request.method = std::move(method);
    request.target = std::move(target);
    request.cookie = std::move(cookie);
    request.csrf = std::move(csrf);
    request.content_type = "application/json";
    request.body = SecretValue(body);
    request.peer = "127.0.0.1";
    return front.handle(request);
  }
  // Signs in; returns {cookie header for later requests, csrf token}.
  std::pair<std::string, std::string> sign_in() {
    const HttpResponse r = send("POST", "/api/v1/session", {}, {}, R"({"token":")" + kToken + R"("})");
    REQUIRE(r.status == 200);
    const std::string set = header(r, "Set-Cookie");
    const std::string pair = set.substr(0, set.find(';'));
    const std::string body(r.body.reveal());
    const std::size_t at = body.find("\"csrf_token\":\"") + 14;
    return {pair, body.substr(at, 64)};
  }
};

}  // namespace

TEST_CASE("Console: /ui/ serves index.html with the SPEC 14 security headers", "[ui]") {
  HttpRequest request{"GET", "/ui/", "", "", "", "", SecretValue(), "127.0.0.1"};
  const HttpResponse r = serve_ui(request);
  CHECK(r.status == 200);
  CHECK(r.content_type == "text/html; charset=utf-8");
  const std::string csp = header(r, "Content-Security-Policy");
  CHECK(csp.find("default-src 'self'") != std::string::npos);
  CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
  CHECK(csp.find("unsafe-inline") == std::string::npos);
  CHECK(csp.find("unsafe-eval") == std::string::npos);
  CHECK(header(r, "X-Content-Type-Options") == "nosniff");
  CHECK(header(r, "Referrer-Policy") == "no-referrer");
  CHECK(header(r, "Cache-Control") == "no-store");
}

TEST_CASE("Console: every embedded file has its content type, unknown files are 404 with the headers", "[ui]") {
  CHECK(ui_content_type("app.js") == "text/javascript; charset=utf-8");
  CHECK(ui_content_type("console.css") == "text/css; charset=utf-8");
  for (const auto& asset : ui_assets()) {
    HttpRequest request{"GET", "/ui/" + std::string(asset.path), "", "", "", "", SecretValue(), "127.0.0.1"};
    const HttpResponse r = serve_ui(request);
    CHECK(r.status == 200);
    CHECK(r.content_type != "application/octet-stream");
    CHECK(r.body.size() == asset.size);
  }
  for (const char* target : {"/ui/nope.js", "/ui/../ui/index.html", "/ui/%2e%2e/x"}) {
    HttpRequest request{"GET", target, "", "", "", "", SecretValue(), "127.0.0.1"};
    const HttpResponse r = serve_ui(request);
    CHECK(r.status == 404);
    CHECK(!header(r, "Content-Security-Policy").empty());
  }
  HttpRequest post{"POST", "/ui/", "", "", "", "", SecretValue(), "127.0.0.1"};
  CHECK(serve_ui(post).status == 405);
  CHECK(!header(serve_ui(post), "X-Content-Type-Options").empty());
  HttpRequest bare{"GET", "/ui", "", "", "", "", SecretValue(), "127.0.0.1"};
  CHECK(serve_ui(bare).status == 308);
  CHECK(header(serve_ui(bare), "Location") == "/ui/");
}

TEST_CASE("Console: sign-in sets an HttpOnly SameSite=Strict cookie that is not the token", "[ui][session]") {
  Fixture f;
  const HttpResponse r = f.send("POST", "/api/v1/session", {}, {}, R"({"token":")" + kToken + R"("})");
  REQUIRE(r.status == 200);
  const std::string set = header(r, "Set-Cookie");
  CHECK(set.rfind("lockbox_session=", 0) == 0);
  CHECK(set.find("; HttpOnly") != std::string::npos);
  CHECK(set.find("; SameSite=Strict") != std::string::npos);
  CHECK(set.find("; Path=/") != std::string::npos);
  CHECK(set.find("Secure") == std::string::npos);  // plain http
  CHECK(set.find(kToken) == std::string::npos);
  CHECK(std::string(r.body.reveal()).find(kToken) == std::string::npos);
  CHECK(header(r, "Cache-Control") == "no-store");
  CHECK(f.api.last_authorization == "Bearer " + kToken);  // checked by the API's own auth path
}

TEST_CASE("Console: under TLS the session cookie is Secure", "[ui][session]") {
  FakeClock clock(0);
  FakeApi api;
  ConsoleFront front(ConsoleOptions{true, 60'000, 16, &clock}, [&api](HttpRequest& r) { return api(r); });
  HttpRequest request{"POST", "/api/v1/session", "", "application/json", "", "",
                      SecretValue(R"({"token":")" + kToken + R"("})"), "127.0.0.1"};
  const HttpResponse r = front.handle(request);
  REQUIRE(r.status == 200);
  CHECK(header(r, "Set-Cookie").find("; Secure") != std::string::npos);
  // __Host-: a sibling subdomain or a plain-http origin cannot plant a session cookie.
  CHECK(header(r, "Set-Cookie").rfind("__Host-lockbox_session=", 0) == 0);
}

TEST_CASE("Console: a bad token at sign-in is the API's 401 and opens no session", "[ui][session]") {
  Fixture f;
  const HttpResponse r = f.send("POST", "/api/v1/session", {}, {}, R"({"token":"lbx_wrong"})");
  CHECK(r.status == 401);
  CHECK(header(r, "Set-Cookie").empty());
  CHECK(f.front.sessions().size() == 0);
  CHECK(f.send("POST", "/api/v1/session", {}, {}, R"({"tokn":"x"})").status == 400);
  CHECK(f.send("POST", "/api/v1/session", {}, {}, "{}").status == 400);
}

TEST_CASE("Console: a GET of a session passes with the session's token and its CSRF header", "[ui][session]") {
  Fixture f;
  const auto [cookie, csrf] = f.sign_in();
  const HttpResponse r = f.send("GET", "/api/v1/admin/secrets", cookie, csrf);
  CHECK(r.status == 200);
  CHECK(f.api.last_authorization == "Bearer " + kToken);
  CHECK(f.send("GET", "/api/v1/session", cookie, csrf).status == 200);
}

TEST_CASE("Console: the cookie alone reads nothing (another port of the host gets it too)", "[ui][session]") {
  Fixture f;
  const auto [cookie, csrf] = f.sign_in();
  const int before = f.api.calls;
  CHECK(f.send("GET", "/api/v1/admin/secrets/A/value?scope=global", cookie).status == 403);
  CHECK(f.send("GET", "/api/v1/session", cookie).status == 403);
  CHECK(f.send("GET", "/api/v1/admin/secrets", cookie, std::string(64, '0')).status == 403);
  CHECK(f.api.calls == before);
}

TEST_CASE("Console: signing in again closes the session the browser still carries", "[ui][session]") {
  Fixture f;
  const auto [cookie, csrf] = f.sign_in();
  const HttpResponse again = f.send("POST", "/api/v1/session", cookie, {}, R"({"token":")" + kToken + R"("})");
  REQUIRE(again.status == 200);
  CHECK(f.front.sessions().size() == 1);
  CHECK(f.send("GET", "/api/v1/admin/secrets", cookie, csrf).status == 401);
}

TEST_CASE("Console: one token holds at most kMaxSessionsPerToken sessions and cannot evict another's", "[ui][session]") {
  FakeClock clock(0);
  SessionStore store(clock, 60'000, 16);
  const SecretValue admin("admin-token");
  const SecretValue reader("reader-token");
  const auto kept = store.open(admin);
  std::vector<SessionStore::Issued> mine;
  for (int i = 0; i < 100; ++i) {
    clock.advance(1);
    mine.push_back(store.open(reader));
  }
  CHECK(store.size() == kMaxSessionsPerToken + 1);
  SecretValue out;
  CHECK(store.use(kept.id, kept.csrf, out) == SessionStore::Check::kOk);
  CHECK(store.use(mine.front().id, mine.front().csrf, out) == SessionStore::Check::kNoSession);
  CHECK(store.use(mine.back().id, mine.back().csrf, out) == SessionStore::Check::kOk);
}

TEST_CASE("Console: a session older than kSessionMaxAgeMs is gone however busy", "[ui][session]") {
  FakeClock clock(0);
  SessionStore store(clock, 60'000, 16);
  const auto s = store.open(SecretValue("t"));
  SecretValue out;
  for (std::int64_t t = 0; t + 30'000 < kSessionMaxAgeMs; t += 30'000) {
    clock.advance(30'000);
    REQUIRE(store.use(s.id, s.csrf, out) == SessionStore::Check::kOk);
  }
  clock.advance(30'000);
  CHECK(store.use(s.id, s.csrf, out) == SessionStore::Check::kNoSession);
}

TEST_CASE("Console: a state-changing request without the CSRF header is 403 and never reaches the API", "[ui][session]") {
  Fixture f;
  const auto [cookie, csrf] = f.sign_in();
  const int before = f.api.calls;
  for (const char* method : {"POST", "PUT", "DELETE"}) {
    CHECK(f.send(method, "/api/v1/admin/secrets/A", cookie).status == 403);
    CHECK(f.send(method, "/api/v1/admin/secrets/A", cookie, std::string(64, '0')).status == 403);
  }
  CHECK(f.send("DELETE", "/api/v1/session", cookie).status == 403);  // sign-out too
  CHECK(f.api.calls == before);
  CHECK(f.send("POST", "/api/v1/admin/secrets", cookie, csrf, "{}").status == 200);
  CHECK(f.api.calls == before + 1);
}

TEST_CASE("Console: a session idle past its expiry is gone", "[ui][session]") {
  Fixture f;
  const auto [cookie, csrf] = f.sign_in();
  f.clock.advance(59'000);
  CHECK(f.send("GET", "/api/v1/admin/secrets", cookie, csrf).status == 200);  // refreshes
  f.clock.advance(59'000);
  CHECK(f.send("GET", "/api/v1/admin/secrets", cookie, csrf).status == 200);
  f.clock.advance(60'000);
  const HttpResponse r = f.send("GET", "/api/v1/admin/secrets", cookie, csrf);
  CHECK(r.status == 401);
  CHECK(header(r, "Set-Cookie").find("Max-Age=0") != std::string::npos);
  CHECK(f.front.sessions().size() == 0);
}

TEST_CASE("Console: revoking the token ends its sessions at their next request", "[ui][session]") {
  Fixture f;
  const auto [cookie, csrf] = f.sign_in();
  f.api.revoked = true;
  CHECK(f.send("GET", "/api/v1/admin/secrets", cookie, csrf).status == 401);
  f.api.revoked = false;  // even a token that works again does not revive the session
  CHECK(f.send("GET", "/api/v1/admin/secrets", cookie, csrf).status == 401);
}

TEST_CASE("Console: sign-out needs the CSRF token, then the cookie is worthless", "[ui][session]") {
  Fixture f;
  const auto [cookie, csrf] = f.sign_in();
  const HttpResponse out = f.send("DELETE", "/api/v1/session", cookie, csrf);
  CHECK(out.status == 200);
  CHECK(header(out, "Set-Cookie").find("Max-Age=0") != std::string::npos);
  CHECK(f.send("GET", "/api/v1/admin/secrets", cookie, csrf).status == 401);
  CHECK(f.send("GET", "/api/v1/admin/secrets", "lockbox_session=" + std::string(64, 'a')).status == 401);
}

TEST_CASE("Console: session ids are random and the table is bounded", "[ui][session]") {
  FakeClock clock(0);
  SessionStore store(clock, 1000, 3);
  const SecretValue token("t");
  const auto a = store.open(token);
  const auto b = store.open(token);
  CHECK(a.id != b.id);
  CHECK(a.id.size() == 64);
  CHECK(a.csrf != a.id);
  clock.advance(1);
  SecretValue out;
  CHECK(store.use(b.id, b.csrf, out) == SessionStore::Check::kOk);  // b is now the newer
  store.open(token);
  store.open(token);  // evicts the least recently used (a)
  CHECK(store.size() == 3);
  CHECK(store.use(a.id, a.csrf, out) == SessionStore::Check::kNoSession);
  CHECK(store.use(b.id, b.csrf, out) == SessionStore::Check::kOk);
  CHECK(out.reveal() == "t");
}

TEST_CASE("Console: cookie_value finds the session cookie among others", "[ui][session]") {
  CHECK(cookie_value("a=1; lockbox_session=abc; b=2", "lockbox_session") == "abc");
  CHECK(cookie_value("xlockbox_session=abc", "lockbox_session").empty());
  CHECK(cookie_value("", "lockbox_session").empty());
}

}  // namespace lockbox::api
