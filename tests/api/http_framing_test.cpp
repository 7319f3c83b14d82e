// HttpServer's HTTP/1.1 framing (SPEC §15, issue 13) against raw sockets: HEAD without a body on a
// keep-alive connection, Date on every answer, Host rules, absolute-form targets, and the parser
// refusals that stop request smuggling (Transfer-Encoding other than chunked, two Authorization).
#include "api/http_server.hpp"
#include "tests/api/http_test_support.hpp"

namespace lockbox::api {

using namespace http_test;  // NOLINT(google-build-using-namespace)

namespace {

// Everything the server sends until it closes (or `timeout` passes with nothing new).
std::string read_all(const Client& client, Millis timeout = 5s) {
  std::string data;
  for (;;) {
    const std::string chunk = client.read_some(timeout);
    if (chunk.empty()) return data;
    data += chunk;
  }
}

std::size_t count(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = haystack.find(needle); at != std::string::npos; at = haystack.find(needle, at + 1))
    ++n;
  return n;
}

}  // namespace

TEST_CASE("http server answers HEAD like GET without a body, so a pipelined GET still parses",
          "[http_framing]") {
  Served served(test_options());
  Client client(served.port());
  REQUIRE(client.connected());
  client.send("HEAD /thing HTTP/1.1\r\nHost: localhost\r\n\r\n" +
              get("/after", "Connection: close\r\n"));
  const std::string data = read_all(client);
  const std::size_t first_end = data.find("\r\n\r\n");
  REQUIRE(first_end != std::string::npos);
  const std::string head = data.substr(0, first_end);
  CHECK(contains(head, "HTTP/1.1 200"));
  // The handler saw GET; Content-Length is what GET would send ("GET /thing " is 11 bytes).
  CHECK(contains(head, "Content-Length: 11"));
  // The second response follows the first header at once: no body in between.
  CHECK(data.substr(first_end + 4, 12) == "HTTP/1.1 200");
  CHECK(contains(data, "GET /after "));
  CHECK_FALSE(contains(data, "GET /thing"));
}

TEST_CASE("http server puts Date on every response, errors included", "[http_framing]") {
  ServerOptions options = test_options();
  options.max_connections = 1;
  Served served(std::move(options));
  Client ok(served.port());
  ok.send(get("/"));
  Response answered = read_response(ok);
  CHECK(answered.status == 200);
  CHECK(contains(answered.headers["date"], " GMT"));
  CHECK(answered.headers["date"].size() == 29);  // IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"

  Client refused(served.port());  // over max_connections: 503
  Response busy = read_response(refused);
  CHECK(busy.status == 503);
  CHECK(contains(busy.headers["date"], " GMT"));

  ok.send("GET / HTTP/1.1\r\n\r\n");  // no Host: 400
  Response bad = read_response(ok);
  CHECK(bad.status == 400);
  CHECK(contains(bad.headers["date"], " GMT"));
}

TEST_CASE("http server refuses an HTTP/1.1 request with no Host or two Host fields",
          "[http_framing]") {
  auto records = std::make_shared<Records>();
  ServerOptions options = test_options();
  options.on_request = [records](const RequestRecord& r) { records->add(r); };
  Served served(std::move(options));
  const std::string request =
      GENERATE(std::string("GET /x HTTP/1.1\r\n\r\n"),
               std::string("GET /x HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"));
  Client client(served.port());
  client.send(request);
  Response response = read_response(client);
  CHECK(response.status == 400);
  CHECK(contains(response.body, "\"bad_request\""));
  CHECK(contains(response.body, "Host"));
  CHECK(client.closed_within(2s));
  const auto all = records->wait_for(1);
  REQUIRE(all.size() == 1);
  CHECK(all[0].route.empty());  // the handler never saw it
}

TEST_CASE("http server accepts an HTTP/1.0 request without Host", "[http_framing]") {
  Served served(test_options());
  Client client(served.port());
  client.send("GET /old HTTP/1.0\r\n\r\n");
  Response response = read_response(client);
  CHECK(response.status == 200);
  CHECK(response.body == "GET /old ");
}

TEST_CASE("http server hands an absolute-form target to the handler in origin form",
          "[http_framing]") {
  Served served(test_options());
  Client client(served.port());
  const std::string port = std::to_string(served.port());
  client.send("GET http://127.0.0.1:" + port +
              "/api/v1/health?x=1 HTTP/1.1\r\nHost: 127.0.0.1:" + port + "\r\n\r\n");
  Response response = read_response(client);
  CHECK(response.status == 200);
  CHECK(response.body == "GET /api/v1/health?x=1 ");
  client.send("GET HTTP://127.0.0.1:" + port + " HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  CHECK(read_response(client).body == "GET / ");
}

TEST_CASE(
    "http server refuses a Transfer-Encoding other than chunked and never reads the body as a "
    "request",
    "[http_framing]") {
  auto records = std::make_shared<Records>();
  ServerOptions options = test_options();
  options.on_request = [records](const RequestRecord& r) { records->add(r); };
  Served served(std::move(options));
  const std::string coding = GENERATE(std::string("gzip"), std::string("gzip, chunked"),
                                      std::string("identity"), std::string("chunked, gzip"));
  Client client(served.port());
  client.send("POST /outer HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: " + coding + "\r\n\r\n" +
              get("/smuggled"));
  const std::string data = read_all(client);
  CHECK(count(data, "HTTP/1.1 ") == 1);
  CHECK(contains(data, "HTTP/1.1 400"));
  CHECK(contains(data, "Transfer-Encoding"));
  CHECK_FALSE(contains(data, "smuggled"));
  const auto all = records->wait_for(1);
  CHECK(all.size() == 1);
}

TEST_CASE("http server still reads a chunked body", "[http_framing]") {
  Served served(test_options());
  Client client(served.port());
  client.send(
      "POST /c HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
  Response response = read_response(client);
  CHECK(response.status == 200);
  CHECK(response.body == "POST /c hello");
}

TEST_CASE("http server refuses two Authorization fields", "[http_framing]") {
  Served served(test_options());
  Client client(served.port());
  client.send(get("/", "Authorization: Bearer a\r\nAuthorization: Bearer b\r\n"));
  Response response = read_response(client);
  CHECK(response.status == 400);
  CHECK(contains(response.body, "Authorization"));
  CHECK_FALSE(contains(response.body, "Bearer"));
}

}  // namespace lockbox::api
