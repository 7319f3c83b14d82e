// `lockbox serve` hardening (issue 13) through a real server on 127.0.0.1: the auth scheme in any
// case, "%2F" inside a name, duplicate query keys, and the global budget of failed
// authentications across many loopback addresses (raw sockets bound to 127.0.0.x).
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <string>

#include "tests/api/serve_fixture.hpp"

namespace lockbox::testing {
namespace {

constexpr const char* kSecrets = "/api/v1/admin/secrets";

// One request from `from` (a 127/8 address) on a fresh connection; the raw answer ("" on failure).
std::string raw_request(std::uint16_t port, const char* from, const std::string& request) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in local{};
  local.sin_family = AF_INET;
  ::inet_pton(AF_INET, from, &local.sin_addr);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::string answer;
  if (::bind(fd, reinterpret_cast<const sockaddr*>(&local), sizeof local) == 0 &&
      ::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0 &&
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) ==
          static_cast<ssize_t>(request.size())) {
    for (;;) {  // Connection: close: read to the end
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 5000) <= 0) break;
      char chunk[4096];
      const auto n = ::recv(fd, chunk, sizeof chunk, 0);
      if (n <= 0) break;
      answer.append(chunk, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

int status_of(const std::string& answer) {
  return answer.size() >= 12 ? std::stoi(answer.substr(9, 3)) : 0;
}

std::string get_request(const std::string& target, const std::string& authorization) {
  return "GET " + target +
         " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nAuthorization: " + authorization +
         "\r\n\r\n";
}

}  // namespace

TEST_CASE("serve accepts the bearer auth scheme in any case", "[serve_hardening]") {
  Lockbox box;
  box.init();
  const std::string token = make_token(box, "ci", "admin");
  Server server(box);
  for (const char* scheme : {"Bearer ", "bearer ", "BEARER "}) {
    INFO(scheme);
    CHECK(status_of(raw_request(server.port(), "127.0.0.1",
                                get_request(kSecrets, scheme + token))) == 200);
  }
  CHECK(status_of(raw_request(server.port(), "127.0.0.1",
                              get_request(kSecrets, "Basic " + token))) == 401);
  CHECK(server.stop() == 0);
}

TEST_CASE("serve treats %2F as part of a name, never as a path separator", "[serve_hardening]") {
  Lockbox box;
  box.init();
  const std::string token = make_token(box, "ci", "admin");
  Server server(box);
  auto client = client_of(server);
  REQUIRE(call(*client, "POST", kSecrets, token,
               R"({"name":"A","value":"a-canary-value","scope":"global"})")
              .status == 201);
  // Decoded before routing, this would be /api/v1/admin/secrets/A/value: a reveal of A.
  const Reply escaped = call(*client, "GET", std::string(kSecrets) + "/A%2Fvalue", token);
  CHECK(escaped.status == 400);
  CHECK(escaped.body.find("a-canary-value") == std::string::npos);
  CHECK(call(*client, "GET", "/api%2Fv1/health", "").status == 404);
  CHECK(call(*client, "GET", std::string(kSecrets) + "/%41/value", token).status ==
        200);  // %41 is "A"
  CHECK(server.stop() == 0);
}

TEST_CASE("serve refuses a query key given twice", "[serve_hardening]") {
  Lockbox box;
  box.init();
  const std::string token = make_token(box, "ci", "admin");
  Server server(box);
  auto client = client_of(server);
  const Reply twice =
      call(*client, "GET", std::string(kSecrets) + "?scope=global&scope=namespace:prod", token);
  CHECK(twice.status == 400);
  CHECK(error_code(twice) == "bad_request");
  CHECK(call(*client, "GET", std::string(kSecrets) + "?scope=global", token).status == 200);
  CHECK(server.stop() == 0);
}

TEST_CASE("serve limits failed authentications across all addresses, not only per address",
          "[serve_hardening]") {
  Lockbox box;
  box.init();
  const std::string token = make_token(box, "ci", "admin");
  Server server(box);
  // 12 addresses x 9 failures: none reaches its own limit (10), together they pass the global 100.
  int unauthorized = 0;
  int limited = 0;
  for (int address = 1; address <= 12; ++address) {
    const std::string from = "127.0.1." + std::to_string(address);
    for (int i = 0; i < 9; ++i) {
      const int status = status_of(
          raw_request(server.port(), from.c_str(), get_request(kSecrets, "Bearer lbx_wrong")));
      unauthorized += status == 401 ? 1 : 0;
      limited += status == 429 ? 1 : 0;
    }
  }
  CHECK(unauthorized == 100);
  CHECK(limited == 8);
  // A fresh address is limited too, while a valid token still passes.
  CHECK(status_of(raw_request(server.port(), "127.0.2.1",
                              get_request(kSecrets, "Bearer lbx_wrong"))) == 429);
  CHECK(status_of(raw_request(server.port(), "127.0.2.1",
                              get_request(kSecrets, "Bearer " + token))) == 200);
  CHECK(server.stop() == 0);
  const ProcessResult audit = box.run({"audit", "list", "--action", "auth.failure", "--json"});
  REQUIRE(audit.exit_code == 0);
  const auto records = parse_json(audit.out).as_array();
  CHECK(records.size() == 100);  // the refusals past the budget are not recorded one by one
  CHECK(audit.out.find("failure budget exhausted") != std::string::npos);
}

}  // namespace lockbox::testing
