// HttpServer against raw POSIX sockets (and an OpenSSL client for TLS): keep-alive, limits,
// timeouts, the connection cap, graceful shutdown (stop() and SIGTERM), and TLS setup errors.
#include "api/http_server.hpp"

#include "tests/api/http_test_support.hpp"

namespace lockbox::api {

using namespace http_test;  // NOLINT(google-build-using-namespace)

TEST_CASE("http server answers with the handler's response and keeps the connection alive",
          "[http_server]") {
  auto records = std::make_shared<Records>();
  ServerOptions options = test_options();
  options.on_request = [records](const RequestRecord& r) { records->add(r); };
  Served served(std::move(options));
  Client client(served.port());
  REQUIRE(client.connected());

  client.send(get("/first"));
  Response first = read_response(client);
  CHECK(first.status == 200);
  CHECK(first.body == "GET /first ");
  CHECK(first.headers["content-type"] == "text/plain");
  CHECK(first.headers["cache-control"] == "no-store");
  CHECK(first.headers["server"] == "lockbox");
  CHECK(first.headers.count("connection") == 0);

  client.send("POST /second HTTP/1.1\r\nHost: localhost\r\nContent-Length: 5\r\n\r\nhello");
  Response second = read_response(client);  // same socket: keep-alive
  CHECK(second.status == 200);
  CHECK(second.body == "POST /second hello");

  client.send(get("/last", "Connection: close\r\n"));
  Response last = read_response(client);
  CHECK(last.status == 200);
  CHECK(last.headers["connection"] == "close");
  CHECK(client.closed_within(2s));

  const auto all = records->wait_for(3);
  REQUIRE(all.size() == 3);
  CHECK(all[0].method == "GET");
  CHECK(all[1].method == "POST");
  CHECK(all[0].route == "/echo");
  CHECK(all[0].status == 200);
  CHECK(all[0].peer == "127.0.0.1");
}

TEST_CASE("http server answers 413 to a body over the limit and closes", "[http_server]") {
  auto records = std::make_shared<Records>();
  ServerOptions options = test_options();
  options.body_limit = 1024;
  options.on_request = [records](const RequestRecord& r) { records->add(r); };
  Served served(std::move(options));

  SECTION("a chunked body that grows past the limit") {
    Client client(served.port());
    std::string request =
        "POST /x HTTP/1.1\r\nHost: localhost\r\nTransfer-Encoding: chunked\r\n\r\n";
    for (int i = 0; i < 3; ++i) request += "200\r\n" + std::string(512, 'a') + "\r\n";
    client.send(request);
    Response response = read_response(client);
    CHECK(response.status == 413);
    CHECK(contains(response.body, "\"payload_too_large\""));
    CHECK(contains(response.body, "1 KiB"));
    CHECK(response.headers["connection"] == "close");
    CHECK(client.closed_within(2s));
  }
  SECTION("a Content-Length over the limit, answered before the body") {
    Client client(served.port());
    client.send("POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1025\r\n\r\n");
    Response response = read_response(client);
    CHECK(response.status == 413);
    CHECK(contains(response.body, "\"payload_too_large\""));
    CHECK(client.closed_within(2s));
    const auto all = records->wait_for(1);
    REQUIRE(all.size() == 1);
    CHECK(all[0].status == 413);
    CHECK(all[0].method == "POST");
    CHECK(all[0].route.empty());
  }
  SECTION("a body of exactly the limit is served") {
    Client client(served.port());
    client.send("POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 1024\r\n\r\n" +
                std::string(1024, 'b'));
    CHECK(read_response(client).status == 200);
  }
}

TEST_CASE("http server answers 400 to a request it cannot parse", "[http_server]") {
  Served served(test_options());
  Client client(served.port());
  client.send("\x01\x02 garbage\r\n\r\n");
  Response response = read_response(client);
  CHECK(response.status == 400);
  CHECK(contains(response.body, "\"bad_request\""));
  CHECK(response.headers["content-type"] == "application/json");
  CHECK(client.closed_within(2s));
}

TEST_CASE("http server serves other connections while a deferred answer waits, then sends it",
          "[http_server]") {
  // One io thread: a handler that blocked it until the answer was ready would starve /fast.
  ServerOptions options = test_options();
  options.threads = 1;
  auto parked = std::make_shared<std::promise<std::function<void(HttpResponse)>>>();
  Handler handler = [parked](HttpRequest& request) {
    if (request.target != "/wait") return echo(request);
    HttpResponse placeholder = error_response(500, "internal", "internal error");
    placeholder.route = "/wait";
    placeholder.deferred = [parked](std::function<void(HttpResponse)> send) {
      parked->set_value(std::move(send));
    };
    return placeholder;
  };
  Served served(std::move(options), handler);
  Client waiting(served.port());
  waiting.send(get("/wait"));
  auto send_later = parked->get_future();
  REQUIRE(send_later.wait_for(5s) == std::future_status::ready);

  Client other(served.port());
  other.send(get("/fast"));
  CHECK(read_response(other, 2s).status == 200);  // while /wait is still unanswered

  HttpResponse late;
  late.content_type = "text/plain";
  late.body = SecretValue("late");
  send_later.get()(std::move(late));
  const Response answer = read_response(waiting, 2s);
  CHECK(answer.status == 200);  // the deferred answer, never the placeholder
  CHECK(answer.body == "late");
}

TEST_CASE("http server drops a stalled client after header_timeout while serving others",
          "[http_server]") {
  ServerOptions options = test_options();
  options.threads = 1;
  options.header_timeout = 300ms;
  Served served(std::move(options));

  Client stalled(served.port());
  const auto start = std::chrono::steady_clock::now();
  stalled.send("GET /slow HTTP/1.1\r\nHost: loc");

  Client other(served.port());
  other.send(get("/fast"));
  const Response response = read_response(other, 1s);
  CHECK(response.status == 200);
  CHECK(std::chrono::steady_clock::now() - start < 250ms);  // served while the other one stalls

  CHECK(stalled.closed_within(3s));
  const auto waited = std::chrono::steady_clock::now() - start;
  CHECK(waited >= 250ms);
  CHECK(waited < 1500ms);
}

TEST_CASE("http server closes an idle keep-alive connection after idle_timeout", "[http_server]") {
  ServerOptions options = test_options();
  options.idle_timeout = 200ms;
  Served served(std::move(options));
  Client client(served.port());
  client.send(get("/"));
  CHECK(read_response(client).status == 200);
  const auto start = std::chrono::steady_clock::now();
  CHECK(client.closed_within(3s));
  CHECK(std::chrono::steady_clock::now() - start < 1500ms);
}

TEST_CASE("http server answers 503 beyond max_connections", "[http_server]") {
  ServerOptions options = test_options();
  options.max_connections = 2;
  Served served(std::move(options));

  auto first = std::make_unique<Client>(served.port());
  Client second(served.port());
  // A request on each proves the server accepted both; they then stay open and idle.
  first->send(get("/"));
  second.send(get("/"));
  REQUIRE(read_response(*first).status == 200);
  REQUIRE(read_response(second).status == 200);

  {
    Client third(served.port());
    third.send(get("/"));
    Response response = read_response(third);
    CHECK(response.status == 503);
    CHECK(contains(response.body, "\"unavailable\""));
    CHECK(response.headers["connection"] == "close");
    CHECK(third.closed_within(2s));
  }

  first.reset();  // frees a slot once the server sees the close
  bool served_again = false;
  for (int attempt = 0; attempt < 50 && !served_again; ++attempt) {
    Client again(served.port());
    again.send(get("/"));
    served_again = read_response(again).status == 200;
    if (!served_again) std::this_thread::sleep_for(20ms);
  }
  CHECK(served_again);
}

TEST_CASE("http server stop() lets an in-flight request finish, then refuses connections",
          "[http_server]") {
  auto in_handler = std::make_shared<std::promise<void>>();
  auto shutdown_signal = std::make_shared<std::atomic<int>>(-1);
  ServerOptions options = test_options();
  options.on_shutdown = [shutdown_signal](int signal) { *shutdown_signal = signal; };
  Served served(std::move(options), [in_handler](HttpRequest& request) {
    in_handler->set_value();
    std::this_thread::sleep_for(300ms);
    return echo(request);
  });
  const std::uint16_t port = served.port();

  Client idle(port);  // an idle connection: closed at once by the shutdown
  Client client(port);
  client.send(get("/slow"));
  REQUIRE(in_handler->get_future().wait_for(5s) == std::future_status::ready);
  served.server().stop();

  Response response = read_response(client);
  CHECK(response.status == 200);
  CHECK(response.body == "GET /slow ");
  CHECK(response.headers["connection"] == "close");
  CHECK(idle.closed_within(2s));
  REQUIRE(served.join_within(5s));
  CHECK(served.result().is_ok());
  CHECK(*shutdown_signal == 0);
  CHECK_FALSE(Client(port).connected());
}

TEST_CASE("http server stop() with no connection returns at once", "[http_server]") {
  Served served(test_options());
  const auto start = std::chrono::steady_clock::now();
  served.server().stop();
  REQUIRE(served.join_within(5s));
  CHECK(served.result().is_ok());
  CHECK(std::chrono::steady_clock::now() - start < 1s);
}

TEST_CASE("http server cuts a drain that exceeds drain_timeout", "[http_server]") {
  ServerOptions options = test_options();
  options.drain_timeout = 200ms;
  options.body_timeout = 10s;
  Served served(std::move(options));
  Client client(served.port());
  // A request whose body never comes: in flight, so the drain waits for it, until the cut.
  client.send("POST /x HTTP/1.1\r\nHost: localhost\r\nContent-Length: 10\r\n\r\nab");
  std::this_thread::sleep_for(100ms);
  const auto start = std::chrono::steady_clock::now();
  served.server().stop();
  REQUIRE(served.join_within(5s));
  CHECK(served.result().is_ok());
  const auto took = std::chrono::steady_clock::now() - start;
  CHECK(took >= 200ms);  // it did wait for the request in flight, up to drain_timeout
  CHECK(took < 2s);
  CHECK(client.closed_within(1s));
}

TEST_CASE("http server stops gracefully on SIGTERM", "[http_server]") {
  auto shutdown_signal = std::make_shared<std::atomic<int>>(-1);
  ServerOptions options = test_options();
  options.on_shutdown = [shutdown_signal](int signal) { *shutdown_signal = signal; };
  Served served(std::move(options));
  Client client(served.port());
  client.send(get("/"));
  REQUIRE(read_response(client).status == 200);

  REQUIRE(::kill(::getpid(), SIGTERM) == 0);
  REQUIRE(served.join_within(5s));
  CHECK(served.result().is_ok());
  CHECK(*shutdown_signal == SIGTERM);
  CHECK(client.closed_within(2s));
}

TEST_CASE("http server answers 500 when the handler throws and keeps serving", "[http_server]") {
  auto records = std::make_shared<Records>();
  ServerOptions options = test_options();
  options.on_request = [records](const RequestRecord& r) { records->add(r); };
  Served served(std::move(options));
  Client client(served.port());
  client.send(get("/boom"));
  Response response = read_response(client);
  CHECK(response.status == 500);
  CHECK(contains(response.body, "\"internal\""));
  CHECK_FALSE(contains(response.body, "secret"));

  client.send(get("/after"));
  CHECK(read_response(client).status == 200);
  const auto all = records->wait_for(2);
  REQUIRE(all.size() == 2);
  CHECK(all[0].status == 500);
  CHECK(all[0].route.empty());
}

TEST_CASE("http server answers 100 Continue before reading an expected body", "[http_server]") {
  Served served(test_options());
  Client client(served.port());
  client.send(
      "PUT /c HTTP/1.1\r\nHost: localhost\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n");
  CHECK(client.read_some(2s) == "HTTP/1.1 100 Continue\r\n\r\n");
  client.send("abc");
  Response response = read_response(client);
  CHECK(response.status == 200);
  CHECK(response.body == "PUT /c abc");
}

TEST_CASE("http server serves TLS with a certificate and key", "[http_server]") {
  TlsFiles files;
  auto tls_reported = std::make_shared<std::atomic<bool>>(false);
  ServerOptions options = test_options();
  options.tls_cert = files.cert;
  options.tls_key = files.key;
  options.on_listening = [tls_reported](const std::string&, std::uint16_t, bool tls) {
    *tls_reported = tls;
  };
  Served served(std::move(options));
  CHECK(*tls_reported);

  Response response = tls_get(served.port(), "/secure");
  CHECK(response.status == 200);
  CHECK(response.body == "GET /secure ");
}

TEST_CASE("http server refuses incomplete or unloadable TLS files", "[http_server]") {
  TlsFiles files;
  ServerOptions options = test_options();
  SECTION("a certificate without a key") {
    options.tls_cert = files.cert;
  }
  SECTION("a key without a certificate") {
    options.tls_key = files.key;
  }
  SECTION("a missing certificate file") {
    options.tls_cert = files.dir / "missing.pem";
    options.tls_key = files.key;
  }
  SECTION("a key that is not a key") {
    options.tls_cert = files.cert;
    options.tls_key = files.cert;
  }
  SECTION("the key of another certificate") {
    TlsFiles::generate(files.dir / "other.pem", files.dir / "other-key.pem");
    options.tls_cert = files.cert;
    options.tls_key = files.dir / "other-key.pem";
  }
  auto created = HttpServer::create(std::move(options), echo);
  REQUIRE_FALSE(created.is_ok());
  CHECK(created.status().code() == StatusCode::kBadInput);
}

TEST_CASE("http server create() reports a busy port as a runtime error", "[http_server]") {
  Served first(test_options());
  ServerOptions options = test_options();
  options.port = first.port();
  auto created = HttpServer::create(std::move(options), echo);
  REQUIRE_FALSE(created.is_ok());
  CHECK(created.status().code() == StatusCode::kRuntime);
  CHECK(contains(created.status().message(), "127.0.0.1:" + std::to_string(first.port())));
}

TEST_CASE("http server create() refuses a bad address", "[http_server]") {
  ServerOptions options = test_options();
  options.address = "not-an-address";
  auto created = HttpServer::create(std::move(options), echo);
  REQUIRE_FALSE(created.is_ok());
  CHECK(created.status().code() == StatusCode::kBadInput);
}

}  // namespace lockbox::api
