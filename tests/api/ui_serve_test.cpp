// The web console's routes on a real `lockbox serve` (SPEC §14): the /ui/ headers over the wire,
// --no-ui, the session routes (cookie, CSRF, auth.failure), and the admin-only console routes.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "tests/api/serve_fixture.hpp"

namespace lockbox::testing {
namespace {

// One raw HTTP/1.1 exchange with Connection: close; the whole answer (head and body).
std::string raw_exchange(const Server& server, const std::string& head, const std::string& body = {}) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  std::string request = head + "Host: 127.0.0.1\r\nConnection: close\r\n";
  if (!body.empty()) request += "Content-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  request += "\r\n" + body;
  REQUIRE(::send(fd, request.data(), request.size(), 0) == static_cast<ssize_t>(request.size()));
  std::string answer;
  char buf[8192];
  for (ssize_t n; (n = ::recv(fd, buf, sizeof buf, 0)) > 0;) answer.append(buf, static_cast<std::size_t>(n));
  ::close(fd);
  return answer;
}

int status_of(const std::string& answer) { return std::stoi(answer.substr(9, 3)); }

std::string header_of(const std::string& answer, const std::string& name) {
  const std::size_t at = answer.find("\r\n" + name + ": ");
  if (at == std::string::npos) return {};
  const std::size_t from = at + name.size() + 4;
  return answer.substr(from, answer.find("\r\n", from) - from);
}

}  // namespace

TEST_CASE("serve: /ui/ answers carry the console's security headers and --no-ui turns it off", "[serve][ui]") {
  Lockbox box;
  box.init();
  {
    Server server(box);
    for (const char* path : {"/ui/", "/ui/app.js", "/ui/console.css", "/ui/missing.js"}) {
      const std::string a = raw_exchange(server, std::string("GET ") + path + " HTTP/1.1\r\n");
      INFO(path);
      CHECK(status_of(a) == (std::string(path) == "/ui/missing.js" ? 404 : 200));
      CHECK(header_of(a, "Content-Security-Policy").find("default-src 'self'") != std::string::npos);
      CHECK(header_of(a, "Content-Security-Policy").find("unsafe-") == std::string::npos);
      CHECK(header_of(a, "Content-Security-Policy").find("frame-ancestors 'none'") != std::string::npos);
      CHECK(header_of(a, "X-Content-Type-Options") == "nosniff");
      CHECK(header_of(a, "Referrer-Policy") == "no-referrer");
      CHECK(header_of(a, "Cache-Control") == "no-store");
    }
    CHECK(header_of(raw_exchange(server, "GET /ui/app.js HTTP/1.1\r\n"), "Content-Type") == "text/javascript; charset=utf-8");
    CHECK(header_of(raw_exchange(server, "GET /ui/ HTTP/1.1\r\n"), "Content-Type") == "text/html; charset=utf-8");
  }
  Server plain(box, {"--no-ui"});
  CHECK(status_of(raw_exchange(plain, "GET /ui/ HTTP/1.1\r\n")) == 404);
  CHECK(status_of(raw_exchange(plain, "POST /api/v1/session HTTP/1.1\r\n", R"({"token":"x"})")) == 404);
}

TEST_CASE("serve: sign-in audits a bad token as auth.failure and a good one opens a CSRF-guarded session", "[serve][ui]") {
  Lockbox box;
  box.init();
  const std::string token = make_token(box, "console", "admin");
  Server server(box);
  const std::string bad = raw_exchange(server, "POST /api/v1/session HTTP/1.1\r\n", R"({"token":"lbx_0011223344556677_nope"})");
  CHECK(status_of(bad) == 401);
  CHECK(header_of(bad, "Set-Cookie").empty());
  const std::string good = raw_exchange(server, "POST /api/v1/session HTTP/1.1\r\n", R"({"token":")" + token + R"("})");
  REQUIRE(status_of(good) == 200);
  const std::string set = header_of(good, "Set-Cookie");
  CHECK(set.find("HttpOnly; SameSite=Strict; Path=/") != std::string::npos);
  CHECK(good.find(token) == std::string::npos);
  const std::string cookie = "Cookie: " + set.substr(0, set.find(';')) + "\r\n";
  CHECK(status_of(raw_exchange(server, "GET /api/v1/admin/secrets HTTP/1.1\r\n" + cookie)) == 403);
  const std::string body = R"({"name":"A","value":"v","scope":"global"})";
  CHECK(status_of(raw_exchange(server, "POST /api/v1/admin/secrets HTTP/1.1\r\n" + cookie, body)) == 403);
  const std::size_t at = good.find("\"csrf_token\":\"") + 14;
  const std::string csrf = "X-Lockbox-CSRF: " + good.substr(at, 64) + "\r\n";
  CHECK(status_of(raw_exchange(server, "GET /api/v1/admin/secrets HTTP/1.1\r\n" + cookie + csrf)) == 200);
  CHECK(status_of(raw_exchange(server, "POST /api/v1/admin/secrets HTTP/1.1\r\n" + cookie + csrf, body)) == 201);
  REQUIRE(box.run({"tokens", "revoke", "console"}).exit_code == 0);
  CHECK(status_of(raw_exchange(server, "GET /api/v1/admin/secrets HTTP/1.1\r\n" + cookie + csrf)) == 401);
  server.stop();
  const auto audit = box.run({"audit", "list", "--no-pager", "--action", "auth.failure"});
  CHECK(audit.out.find("auth.failure") != std::string::npos);
  CHECK(audit.out.find(token) == std::string::npos);
}

TEST_CASE("serve: the console's audit and token routes are admin only, keys status is for every token", "[serve][ui]") {
  Lockbox box;
  box.init();
  const auto policy = box.root() / "lockbox.yaml";
  write_file(policy, "version: 1\nroles:\n  reader:\n    read: [\"*\"]\n");
  const std::vector<std::string> p = {"--policy", policy.string()};
  const std::string admin = make_token(box, "adm", "admin", p);
  const std::string reader = make_token(box, "rd", "reader", p);
  Server server(box, p);
  auto client = client_of(server);
  CHECK(call(*client, "GET", "/api/v1/admin/audit", reader).status == 403);
  CHECK(call(*client, "GET", "/api/v1/admin/tokens", reader).status == 403);
  CHECK(call(*client, "POST", "/api/v1/admin/keys/rotate", reader, "{}").status == 403);
  CHECK(call(*client, "GET", "/api/v1/admin/keys", reader).status == 200);
  const Reply who = call(*client, "GET", "/api/v1/whoami", reader);
  CHECK(who.json.at("role").as_string() == "reader");
  const Reply audit = call(*client, "GET", "/api/v1/admin/audit?action=token.create", admin);
  REQUIRE(audit.status == 200);
  CHECK(audit.json.at("chain").at("ok").as_bool());
  CHECK(audit.json.at("records").as_array().size() == 2);
  const Reply made = call(*client, "POST", "/api/v1/admin/tokens", admin, R"({"name":"new","role":"reader","ttl":"1d"})");
  REQUIRE(made.status == 201);
  const std::string fresh(made.json.at("token").as_string());
  CHECK(call(*client, "GET", "/api/v1/whoami", fresh).status == 200);
  CHECK(call(*client, "DELETE", "/api/v1/admin/tokens/new", admin).status == 200);
  CHECK(call(*client, "GET", "/api/v1/whoami", fresh).status == 401);
  CHECK(call(*client, "POST", "/api/v1/admin/tokens", admin, R"({"name":"x","role":"nosuch"})").status == 400);
  CHECK(call(*client, "POST", "/api/v1/admin/keys/rotate", admin, "{}").json.at("active_version").as_int64() == 2);
}

}  // namespace lockbox::testing

namespace lockbox::testing {

TEST_CASE("serve: the resolve preview names each winner's scope and carries no value", "[serve][ui]") {
  Lockbox box;
  box.init();
  REQUIRE(box.run_stdin({"secrets", "set", "DB", "--scope", "global"}, "wide-value-1").exit_code == 0);
  REQUIRE(box.run_stdin({"secrets", "set", "DB", "--scope", "namespace:production"}, "narrow-value-2").exit_code == 0);
  const std::string admin = make_token(box, "adm", "admin");
  Server server(box);
  auto client = client_of(server);
  const Reply r = call(*client, "POST", "/api/v1/resolve/preview", admin, R"({"namespace":"production"})");
  REQUIRE(r.status == 200);
  CHECK(r.body.find("value") == std::string::npos);
  const auto& winner = r.json.at("secrets").as_array().at(0).as_object();
  CHECK(winner.at("name").as_string() == "DB");
  CHECK(winner.at("scope").as_string() == "namespace:production");
  CHECK(call(*client, "POST", "/api/v1/resolve/preview", admin, R"({"namespace":"bad/ns"})").status == 400);
}

}  // namespace lockbox::testing
