// HttpServer's connection caps (issue 13: one client holding every slot with idle keep-alive
// connections) and TLS settings (SPEC §15: TLS 1.2 suites, server order, HSTS), against raw
// sockets and an OpenSSL client.
#include <openssl/err.h>

#include "api/http_server.hpp"
#include "api/internal/connection_table.hpp"
#include "tests/api/http_test_support.hpp"

namespace lockbox::api {

using namespace http_test;  // NOLINT(google-build-using-namespace)

namespace {

// The echo handler, which also reports a request with "Authorization: ok" as authenticated.
HttpResponse echo_with_auth(HttpRequest& request) {
  HttpResponse response = echo(request);
  response.authenticated = request.authorization == "ok";
  return response;
}

// Opens `n` connections from `from`, each answered once and then left idle.
std::vector<std::unique_ptr<Client>> idle_clients(std::uint16_t port, const char* from, int n,
                                                  const std::string& extra = "") {
  std::vector<std::unique_ptr<Client>> clients;
  for (int i = 0; i < n; ++i) {
    auto client = std::make_unique<Client>(port, from);
    REQUIRE(client->connected());
    client->send(get("/", extra));
    REQUIRE(read_response(*client).status == 200);
    clients.push_back(std::move(client));
  }
  return clients;
}

// The TLS handshake with the client limited to TLS 1.2 and `ciphers`; the suite agreed, or "".
std::string tls12_handshake(std::uint16_t port, const char* ciphers) {
  std::signal(SIGPIPE, SIG_IGN);
  Client client(port);
  REQUIRE(client.connected());
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  SSL_CTX_set_max_proto_version(context, TLS1_2_VERSION);
  SSL_CTX_set_security_level(context, 0);  // let the client offer what the test asks for
  REQUIRE(SSL_CTX_set_cipher_list(context, ciphers) == 1);
  SSL* ssl = SSL_new(context);
  SSL_set_fd(ssl, client.fd());
  std::string agreed;
  if (SSL_connect(ssl) == 1) agreed = SSL_get_cipher_name(ssl);
  ERR_clear_error();
  SSL_free(ssl);
  SSL_CTX_free(context);
  return agreed;
}

}  // namespace

TEST_CASE("http server caps connections per address, so one client cannot crowd out another",
          "[http_limits]") {
  ServerOptions options = test_options();
  options.max_connections = 40;
  options.max_connections_per_address = 4;
  Served served(std::move(options));
  auto hogs = idle_clients(served.port(), "127.0.0.1", 4);

  Client fifth(served.port(), "127.0.0.1");
  fifth.send(get("/"));
  Response refused = read_response(fifth);
  CHECK(refused.status == 503);
  CHECK(contains(refused.body, "\"unavailable\""));

  Client other(served.port(), "127.0.0.2");
  REQUIRE(other.connected());
  other.send(get("/"));
  CHECK(read_response(other).status == 200);
}

TEST_CASE("http server's per-address cap counts only connections that have not authenticated",
          "[http_limits]") {
  ServerOptions options = test_options();
  options.max_connections = 40;
  options.max_connections_per_address = 4;
  Served served(std::move(options), echo_with_auth);
  // Four runtimes on this host, each with a valid token: they do not fill the address's share.
  auto runtimes = idle_clients(served.port(), "127.0.0.1", 4, "Authorization: ok\r\n");
  auto idle = idle_clients(served.port(), "127.0.0.1", 4);  // four anonymous ones do
  Client fifth(served.port(), "127.0.0.1");
  fifth.send(get("/"));
  CHECK(read_response(fifth).status == 503);
  for (auto& runtime : runtimes) {
    runtime->send(get("/again", "Authorization: ok\r\n"));
    CHECK(read_response(*runtime).status == 200);
  }
}

TEST_CASE("connection table: IPv6 clients share one per-address cap per /64", "[http_limits]") {
  using internal::ConnectionTable;
  ConnectionTable table({40, 2, 0, 40});
  CHECK(table.admit("2001:db8:1:2::1") == ConnectionTable::Admission::kAdmitted);
  CHECK(table.admit("2001:db8:1:2:ffff::9") == ConnectionTable::Admission::kAdmitted);
  CHECK(table.admit("2001:db8:1:2::3") == ConnectionTable::Admission::kRefused);   // same /64
  CHECK(table.admit("2001:db8:1:3::1") == ConnectionTable::Admission::kAdmitted);  // the next /64
  table.authenticated("2001:db8:1:2::1");  // a runtime with a token leaves the count
  CHECK(table.admit("2001:db8:1:2::4") == ConnectionTable::Admission::kAdmitted);
  table.release("2001:db8:1:2::1", true);
  table.release("2001:db8:1:2::4", false);
  CHECK(table.admit("2001:db8:1:2::5") == ConnectionTable::Admission::kAdmitted);
  CHECK(table.open() == 3);
}

TEST_CASE("http server keeps a share of the slots for clients that authenticate", "[http_limits]") {
  ServerOptions options = test_options();
  options.max_connections = 8;
  options.max_connections_per_address = 100;
  options.reserved_for_authenticated = 2;
  Served served(std::move(options), echo_with_auth);
  auto hogs = idle_clients(served.port(), "127.0.0.1", 6);  // all the unreserved slots

  Client anonymous(served.port());
  anonymous.send(get("/"));
  Response probation = read_response(anonymous);
  CHECK(probation.status == 200);
  CHECK(probation.headers["connection"] == "close");  // answered once, then its slot is freed
  CHECK(anonymous.closed_within(2s));

  Client runtime(served.port());
  runtime.send(get("/", "Authorization: ok\r\n"));
  Response kept = read_response(runtime);
  CHECK(kept.status == 200);
  CHECK(kept.headers.count("connection") == 0);  // stays open
  runtime.send(get("/again"));
  CHECK(read_response(runtime).body == "GET /again ");
}

TEST_CASE("http server closes idle unauthenticated connections sooner under pressure",
          "[http_limits]") {
  ServerOptions options = test_options();
  options.max_connections = 20;
  options.max_connections_per_address = 20;
  options.pressure_connections = 3;
  options.idle_timeout = 60s;
  options.idle_timeout_under_pressure = 200ms;
  Served served(std::move(options), echo_with_auth);
  auto runtime = idle_clients(served.port(), "127.0.0.1", 1, "Authorization: ok\r\n");
  auto hogs = idle_clients(served.port(), "127.0.0.1", 3);

  // New connections keep arriving (each one triggers a sweep); the idle hogs go within ~200 ms.
  bool closed = false;
  for (int attempt = 0; attempt < 40 && !closed; ++attempt) {
    Client probe(served.port(), "127.0.0.3");
    probe.send(get("/"));
    CHECK(read_response(probe).status == 200);
    closed = hogs[0]->closed_within(50ms);
  }
  CHECK(closed);
  CHECK(hogs[1]->closed_within(2s));
  runtime[0]->send(get("/still"));  // the authenticated connection kept its 60 s
  CHECK(read_response(*runtime[0]).body == "GET /still ");
}

TEST_CASE("http server refuses a TLS 1.2 handshake that offers only suites without forward secrecy",
          "[http_limits]") {
  TlsFiles files(TlsFiles::Key::kRsa);  // AES128-SHA and AES128-GCM-SHA256 need an RSA key
  ServerOptions options = test_options();
  options.tls_cert = files.cert;
  options.tls_key = files.key;
  Served served(std::move(options));
  CHECK(tls12_handshake(served.port(), "AES128-SHA").empty());
  CHECK(tls12_handshake(served.port(), "AES128-GCM-SHA256").empty());     // AEAD, RSA key exchange
  CHECK(tls12_handshake(served.port(), "ECDHE-RSA-AES128-SHA").empty());  // ECDHE, but CBC
  CHECK(tls12_handshake(served.port(), "ECDHE-RSA-AES256-GCM-SHA384") ==
        "ECDHE-RSA-AES256-GCM-SHA384");
}

TEST_CASE("http server picks the TLS 1.2 suite in its own order, not the client's",
          "[http_limits]") {
  TlsFiles files;
  ServerOptions options = test_options();
  options.tls_cert = files.cert;
  options.tls_key = files.key;
  Served served(std::move(options));
  // The client prefers ChaCha20 and AES-256; the server, AES-128-GCM.
  CHECK(tls12_handshake(served.port(),
                        "ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-ECDSA-AES256-GCM-SHA384:"
                        "ECDHE-ECDSA-AES128-GCM-SHA256") == "ECDHE-ECDSA-AES128-GCM-SHA256");
  CHECK(tls12_handshake(served.port(), "ECDHE-ECDSA-CHACHA20-POLY1305") ==
        "ECDHE-ECDSA-CHACHA20-POLY1305");
}

TEST_CASE("http server sends Strict-Transport-Security on HTTPS answers only", "[http_limits]") {
  TlsFiles files;
  ServerOptions options = test_options();
  options.tls_cert = files.cert;
  options.tls_key = files.key;
  Served tls(std::move(options));
  Response secure = tls_get(tls.port(), "/");
  CHECK(secure.status == 200);
  CHECK(secure.headers["strict-transport-security"] == "max-age=31536000");

  Served plain(test_options());
  Client client(plain.port());
  client.send(get("/"));
  CHECK(read_response(client).headers.count("strict-transport-security") == 0);
}

}  // namespace lockbox::api
