#include "api/http_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "tests/support/temp_dir.hpp"

namespace {

using lockbox::StatusCode;
using lockbox::api::ClientOptions;
using lockbox::api::HttpClient;
using lockbox::api::parse_url;
using lockbox::testing::TempDir;

// A socket bound to 127.0.0.1 on a port the kernel picked; returns the fd, sets `port`.
int bind_local(int& port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  REQUIRE(fd >= 0);
  const int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  REQUIRE(::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
  socklen_t len = sizeof addr;
  REQUIRE(::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) == 0);
  port = ntohs(addr.sin_port);
  return fd;
}

// What the responder does with one request.
struct Reply {
  std::string bytes;         // written verbatim
  bool close_after = false;  // close the connection after writing
  bool silent = false;       // write nothing, keep the connection open until the client leaves
};

Reply answer(std::string bytes, bool close_after = false) {
  Reply r;
  r.bytes = std::move(bytes);
  r.close_after = close_after;
  return r;
}

Reply silence() {
  Reply r;
  r.silent = true;
  return r;
}

std::string response(int status, const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 " + std::to_string(status) + " X\r\nContent-Type: application/json\r\n" + extra +
         "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

// A tiny HTTP/1.1 server (plain, or TLS with `tls`) on its own thread, serving one connection
// at a time. Every wait polls a stop flag, so the destructor returns within ~50 ms.
class Responder {
 public:
  using Script = std::function<Reply(const std::string& request, int index)>;
  explicit Responder(Script script, SSL_CTX* tls = nullptr)
      : script_(std::move(script)), tls_(tls) {
    fd_ = bind_local(port_);
    REQUIRE(::listen(fd_, 8) == 0);
    thread_ = std::thread([this] { serve(); });
  }
  ~Responder() {
    stop_ = true;
    thread_.join();
    ::close(fd_);
  }
  Responder(const Responder&) = delete;
  Responder& operator=(const Responder&) = delete;

  [[nodiscard]] int port() const { return port_; }
  [[nodiscard]] std::string url(const std::string& path = "") const {
    return std::string(tls_ != nullptr ? "https" : "http") +
           "://127.0.0.1:" + std::to_string(port_) + path;
  }
  [[nodiscard]] int accepts() const { return accepts_; }
  [[nodiscard]] std::vector<std::string> requests() const {
    std::lock_guard<std::mutex> lock(mu_);
    return requests_;
  }

 private:
  struct Conn {
    int fd = -1;
    SSL* ssl = nullptr;
  };

  void serve() {
    while (!stop_) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 50) <= 0) continue;
      Conn c{::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC), nullptr};
      if (c.fd < 0) continue;
      ++accepts_;
      const timeval five{5, 0};  // bounds the blocking TLS handshake
      ::setsockopt(c.fd, SOL_SOCKET, SO_RCVTIMEO, &five, sizeof five);
      ::setsockopt(c.fd, SOL_SOCKET, SO_SNDTIMEO, &five, sizeof five);
      if (tls_ != nullptr) {
        c.ssl = SSL_new(tls_);
        SSL_set_fd(c.ssl, c.fd);
        if (SSL_accept(c.ssl) == 1) serve_connection(c);
        SSL_free(c.ssl);
      } else {
        serve_connection(c);
      }
      ::close(c.fd);
    }
  }

  void serve_connection(Conn& c) {
    for (;;) {
      const std::optional<std::string> request = read_request(c);
      if (!request) return;
      int index = 0;
      {
        std::lock_guard<std::mutex> lock(mu_);
        index = static_cast<int>(requests_.size());
        requests_.push_back(*request);
      }
      const Reply reply = script_(*request, index);
      if (reply.silent) {
        char sink[256];
        while (recv_some(c, sink, sizeof sink) > 0) {
        }
        return;
      }
      if (!send_all(c, reply.bytes) || reply.close_after) return;
    }
  }

  // Head and Content-Length body; nullopt when the client left (or on stop).
  std::optional<std::string> read_request(Conn& c) {
    std::string data;
    char buf[4096];
    std::size_t head_end = std::string::npos;
    std::size_t want = 0;
    for (;;) {
      if (head_end == std::string::npos) {
        head_end = data.find("\r\n\r\n");
        if (head_end != std::string::npos) {
          head_end += 4;
          want = head_end + content_length(data.substr(0, head_end));
        }
      }
      if (head_end != std::string::npos && data.size() >= want) return data;
      const long n = recv_some(c, buf, sizeof buf);
      if (n <= 0) return std::nullopt;
      data.append(buf, static_cast<std::size_t>(n));
    }
  }

  static std::size_t content_length(std::string head) {
    for (char& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    const auto at = head.find("\r\ncontent-length:");
    return at == std::string::npos ? 0 : std::stoul(head.substr(at + 17));
  }

  long recv_some(Conn& c, char* buf, std::size_t n) {
    while (!stop_) {
      if (c.ssl == nullptr || SSL_pending(c.ssl) == 0) {
        pollfd p{c.fd, POLLIN, 0};
        const int r = ::poll(&p, 1, 50);
        if (r < 0) return 0;
        if (r == 0) continue;
      }
      const long got = c.ssl != nullptr ? SSL_read(c.ssl, buf, static_cast<int>(n))
                                        : static_cast<long>(::recv(c.fd, buf, n, 0));
      return got > 0 ? got : 0;
    }
    return 0;
  }

  static bool send_all(Conn& c, const std::string& bytes) {
    if (c.ssl != nullptr) {
      return bytes.empty() || SSL_write(c.ssl, bytes.data(), static_cast<int>(bytes.size())) > 0;
    }
    std::size_t off = 0;
    while (off < bytes.size()) {
      const ssize_t n = ::send(c.fd, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) return false;
      off += static_cast<std::size_t>(n);
    }
    return true;
  }

  Script script_;
  SSL_CTX* tls_;
  int fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> accepts_{0};
  mutable std::mutex mu_;
  std::vector<std::string> requests_;
  std::thread thread_;
};

// The value of header `name` in a raw request ("" when absent); names compare case-insensitively.
std::string header(const std::string& request, std::string name) {
  std::string lower = request.substr(0, request.find("\r\n\r\n") + 2);
  for (char& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  for (char& ch : name) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  const auto at = lower.find("\r\n" + name + ": ");
  if (at == std::string::npos) return "";
  const auto start = at + name.size() + 4;
  return request.substr(start, request.find("\r\n", start) - start);
}

std::string body_of(const std::string& request) {
  return request.substr(request.find("\r\n\r\n") + 4);
}

std::unique_ptr<HttpClient> make_client(const std::string& url, ClientOptions options = {}) {
  auto client = HttpClient::create(url, options);
  REQUIRE(client.is_ok());
  return std::move(client).value();
}

}  // namespace

TEST_CASE("parse_url accepts http and https URLs with defaults", "[http_client]") {
  auto a = parse_url("http://127.0.0.1:8790");
  REQUIRE(a.is_ok());
  CHECK_FALSE(a->tls);
  CHECK(a->host == "127.0.0.1");
  CHECK(a->port == 8790);
  CHECK(a->base_path.empty());

  auto b = parse_url("HTTPS://vault.example/base/");
  REQUIRE(b.is_ok());
  CHECK(b->tls);
  CHECK(b->host == "vault.example");
  CHECK(b->port == 443);
  CHECK(b->base_path == "/base");

  auto c = parse_url("http://vault.example/");
  REQUIRE(c.is_ok());
  CHECK(c->port == 80);
  CHECK(c->base_path.empty());

  auto d = parse_url("https://[::1]:8443/a/b");
  REQUIRE(d.is_ok());
  CHECK(d->host == "::1");  // without the brackets
  CHECK(d->port == 8443);
  CHECK(d->base_path == "/a/b");

  auto e = parse_url("http://[2001:db8::7]");
  REQUIRE(e.is_ok());
  CHECK(e->host == "2001:db8::7");
  CHECK(e->port == 80);
  CHECK(parse_url("http://h:65535").is_ok());
  CHECK(parse_url("http://h:1").is_ok());
}

TEST_CASE("parse_url refuses malformed URLs without echoing them", "[http_client]") {
  for (const char* url : {"",
                          "127.0.0.1:8790",
                          "//host",
                          "ftp://host",
                          "http:/host",
                          "http://",
                          "http://:80",
                          "http://host:0",
                          "http://host:70000",
                          "http://host:",
                          "http://host:8x",
                          "http://host:-1",
                          "http://user:pw@host",
                          "http://user@host/x",
                          "http://host?token=x",
                          "http://host/p?q=1",
                          "http://host/p#frag",
                          "http://host#frag",
                          "http://[::1",
                          "http://[zz::1]",
                          "http://::1/",
                          "http://[::1]x",
                          "http://[fe80::1%25eth0]",
                          "http://ho st",
                          "http://host/a b",
                          "http://host/a\r\nX: y"}) {
    INFO(url);
    auto r = parse_url(url);
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kBadInput);
    CHECK(r.status().message() == "--server: malformed URL (want http[s]://HOST[:PORT][/PATH])");
  }
  auto r = HttpClient::create("http://user:secretpw@host");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().message().find("secretpw") == std::string::npos);
}

TEST_CASE("http client GET and POST round trip with exact headers and bodies", "[http_client]") {
  Responder server([](const std::string&, int index) {
    if (index == 0) return answer(response(200, R"({"ok":true})", "Retry-After: 7\r\n"));
    return answer(
        "HTTP/1.1 201 Created\r\nContent-Type: application/json; charset=utf-8\r\n"
        "Transfer-Encoding: chunked\r\n\r\n4\r\n{\"a\"\r\n5\r\n:\"b\"}\r\n0\r\n\r\n");
  });
  auto client = make_client(server.url("/base/"));

  auto get = client->request("GET", "/api/v1/health", "");
  REQUIRE(get.is_ok());
  CHECK(get->status == 200);
  CHECK(get->content_type == "application/json");
  CHECK(get->retry_after == "7");
  CHECK(get->body.reveal() == R"({"ok":true})");

  const std::string payload = R"({"name":"DB_URL","value":"s3cr3t\n\u0000"})";
  auto post = client->request("POST", "/api/v1/resolve", "lbx_id_tok", payload);
  REQUIRE(post.is_ok());
  CHECK(post->status == 201);
  CHECK(post->content_type == "application/json; charset=utf-8");
  CHECK(post->retry_after.empty());
  CHECK(post->body.reveal() == R"({"a":"b"})");

  const auto seen = server.requests();
  REQUIRE(seen.size() == 2);
  const std::string port = std::to_string(server.port());
  CHECK(seen[0].rfind("GET /base/api/v1/health HTTP/1.1\r\n", 0) == 0);
  CHECK(header(seen[0], "Host") == "127.0.0.1:" + port);
  CHECK(header(seen[0], "Authorization").empty());
  CHECK(header(seen[0], "Content-Type").empty());
  CHECK(header(seen[0], "Accept") == "application/json");
  CHECK(header(seen[0], "User-Agent").rfind("lockbox/", 0) == 0);
  CHECK(body_of(seen[0]).empty());

  CHECK(seen[1].rfind("POST /base/api/v1/resolve HTTP/1.1\r\n", 0) == 0);
  CHECK(header(seen[1], "Authorization") == "Bearer lbx_id_tok");
  CHECK(header(seen[1], "Content-Type") == "application/json");
  CHECK(header(seen[1], "Content-Length") == std::to_string(payload.size()));
  CHECK(body_of(seen[1]) == payload);
}

TEST_CASE("http client reuses one keep-alive connection", "[http_client]") {
  Responder server([](const std::string&, int) { return answer(response(200, "{}")); });
  auto client = make_client(server.url());
  for (int i = 0; i < 3; ++i) {
    auto r = client->request("GET", "/x", "t");
    REQUIRE(r.is_ok());
    CHECK(r->status == 200);
  }
  CHECK(server.accepts() == 1);
  CHECK(server.requests().size() == 3);
}

TEST_CASE("http client reconnects after the server closed the connection", "[http_client]") {
  SECTION("the server said Connection: close") {
    Responder server([](const std::string&, int) {
      return answer(response(200, "{}", "Connection: close\r\n"), true);
    });
    auto client = make_client(server.url());
    REQUIRE(client->request("GET", "/a", "").is_ok());
    REQUIRE(client->request("GET", "/b", "").is_ok());
    CHECK(server.accepts() == 2);
  }
  SECTION("the server closed an idle keep-alive connection without saying so") {
    Responder server([](const std::string&, int) { return answer(response(200, "{}"), true); });
    auto client = make_client(server.url());
    REQUIRE(client->request("GET", "/a", "").is_ok());
    std::this_thread::sleep_for(
        std::chrono::milliseconds(100));  // the close is seen or not: both work
    auto second = client->request("POST", "/b", "", "{\"k\":1}");
    REQUIRE(second.is_ok());
    CHECK(second->status == 200);
    CHECK(server.accepts() == 2);
    const auto seen = server.requests();
    REQUIRE(seen.size() == 2);  // the POST reached the server once
    CHECK(body_of(seen[1]) == "{\"k\":1}");
  }
}

TEST_CASE("http client retries a reused connection once, a fresh one never", "[http_client]") {
  // The first request is answered; every later one is read and dropped without a byte.
  Responder server([](const std::string&, int index) {
    return index == 0 ? answer(response(200, "{}")) : answer("", true);
  });
  auto client = make_client(server.url());
  REQUIRE(client->request("GET", "/a", "").is_ok());
  auto second = client->request("GET", "/b", "");
  REQUIRE_FALSE(second.is_ok());
  CHECK(second.status().code() == StatusCode::kRuntime);
  CHECK(second.status().message().find("127.0.0.1:" + std::to_string(server.port())) !=
        std::string::npos);
  CHECK(server.requests().size() == 3);  // /a, /b, /b once more on a new connection
  CHECK(server.accepts() == 2);
  auto third = client->request("GET", "/c", "");  // fresh connection: no retry
  REQUIRE_FALSE(third.is_ok());
  CHECK(server.requests().size() == 4);
  CHECK(server.accepts() == 3);
}

TEST_CASE("http client reports a refused connection with host and port", "[http_client]") {
  int port = 0;
  ::close(bind_local(port));  // bound, never listening: connecting is refused
  auto client = make_client("http://127.0.0.1:" + std::to_string(port));
  auto r = client->request("GET", "/api/v1/health", "tok");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::kRuntime);
  CHECK(r.status().message().rfind("cannot connect to 127.0.0.1:" + std::to_string(port) + ": ",
                                   0) == 0);
}

TEST_CASE("http client gives up when the server never answers", "[http_client]") {
  Responder server([](const std::string&, int) { return silence(); });
  auto client = make_client(server.url(), ClientOptions{std::chrono::milliseconds(300)});
  const auto start = std::chrono::steady_clock::now();
  auto r = client->request("GET", "/slow", "");
  const auto elapsed = std::chrono::steady_clock::now() - start;
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::kRuntime);
  CHECK(r.status().message() ==
        "127.0.0.1:" + std::to_string(server.port()) + ": no response within 0.3s");
  CHECK(elapsed >= std::chrono::milliseconds(250));
  CHECK(elapsed < std::chrono::milliseconds(1500));
}

TEST_CASE("http client refuses malformed and oversized responses", "[http_client]") {
  SECTION("garbage status line") {
    Responder server([](const std::string&, int) { return answer("garbage\r\n\r\n", true); });
    auto r = make_client(server.url())->request("GET", "/", "");
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kRuntime);
    CHECK(r.status().message() ==
          "127.0.0.1:" + std::to_string(server.port()) + ": malformed response");
  }
  SECTION("a body over 64 MiB is refused from its Content-Length") {
    Responder server([](const std::string&, int) {
      return answer("HTTP/1.1 200 OK\r\nContent-Length: 67108865\r\n\r\nabc", true);
    });
    auto r = make_client(server.url())->request("GET", "/", "");
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().message().find("64 MiB") != std::string::npos);
  }
  SECTION("a header value carrying a line break is refused before sending") {
    Responder server([](const std::string&, int) { return answer(response(200, "{}")); });
    auto r = make_client(server.url())->request("GET", "/", "tok\r\nX-Evil: 1");
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kBadInput);
    CHECK(r.status().message().find("tok") == std::string::npos);
    CHECK(server.accepts() == 0);
  }
}

namespace {

// Sets an environment variable for one scope, restoring the previous value (or its absence).
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }
  ScopedEnv(const ScopedEnv&) = delete;
  ScopedEnv& operator=(const ScopedEnv&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// A self-signed certificate (CN and subjectAltName as given) and a server SSL_CTX for it.
struct TestCert {
  TempDir dir;
  std::string cert_path = (dir / "c.pem").string();
  std::unique_ptr<SSL_CTX, decltype(&SSL_CTX_free)> ctx{nullptr, &SSL_CTX_free};

  TestCert(const std::string& cn, const std::string& san) {
    const std::string cmd =
        "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes"
        " -keyout '" +
        (dir / "k.pem").string() + "' -out '" + cert_path + "' -days 1 -subj /CN=" + cn +
        " -addext subjectAltName=" + san + " >/dev/null 2>&1";
    REQUIRE(std::system(cmd.c_str()) == 0);
    ctx.reset(SSL_CTX_new(TLS_server_method()));
    REQUIRE(ctx != nullptr);
    REQUIRE(SSL_CTX_use_certificate_file(ctx.get(), cert_path.c_str(), SSL_FILETYPE_PEM) == 1);
    REQUIRE(SSL_CTX_use_PrivateKey_file(ctx.get(), (dir / "k.pem").c_str(), SSL_FILETYPE_PEM) == 1);
  }
};

}  // namespace

TEST_CASE("http client verifies the TLS server's certificate and host name", "[http_client]") {
  TestCert cert("localhost", "DNS:localhost,IP:127.0.0.1");
  Responder server([](const std::string&, int) { return answer(response(200, R"({"tls":1})")); },
                   cert.ctx.get());
  const std::string where = "127.0.0.1:" + std::to_string(server.port());

  SECTION("an untrusted certificate fails verification") {
    auto r = make_client(server.url())->request("GET", "/api/v1/health", "tok");
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kRuntime);
    CHECK(r.status().message().rfind("TLS handshake with " + where + " failed: ", 0) == 0);
    CHECK(r.status().message().find("verify") != std::string::npos);
  }
  SECTION("trusted through SSL_CERT_FILE, by IP address and by name") {
    const ClientOptions options{std::chrono::milliseconds(5000)};
    std::unique_ptr<HttpClient> by_ip;
    std::unique_ptr<HttpClient> by_name;
    {
      ScopedEnv trust("SSL_CERT_FILE", cert.cert_path);  // read by create(), not later
      by_ip = make_client(server.url(), options);
      by_name = make_client("https://localhost:" + std::to_string(server.port()), options);
    }
    for (int i = 0; i < 2; ++i) {
      auto r = by_ip->request("GET", "/api/v1/health", "tok");
      REQUIRE(r.is_ok());
      CHECK(r->status == 200);
      CHECK(r->body.reveal() == R"({"tls":1})");
    }
    by_ip.reset();  // the responder serves one connection at a time
    auto r = by_name->request("GET", "/api/v1/health", "tok");
    REQUIRE(r.is_ok());
    CHECK(r->body.reveal() == R"({"tls":1})");
    CHECK(server.accepts() == 2);  // one connection per client, reused
    CHECK(header(server.requests().at(2), "Host") == "localhost:" + std::to_string(server.port()));
  }
  SECTION("plain http against the TLS port is no valid response") {
    auto r = make_client("http://" + where)->request("GET", "/", "");
    REQUIRE_FALSE(r.is_ok());
    CHECK(r.status().code() == StatusCode::kRuntime);
  }
}

TEST_CASE("http client refuses a trusted certificate for another host name", "[http_client]") {
  TestCert cert("other.example", "DNS:other.example");
  Responder server([](const std::string&, int) { return answer(response(200, "{}")); },
                   cert.ctx.get());
  ScopedEnv trust("SSL_CERT_FILE", cert.cert_path);
  auto r = make_client(server.url())->request("GET", "/", "tok");
  REQUIRE_FALSE(r.is_ok());
  CHECK(r.status().code() == StatusCode::kRuntime);
  CHECK(r.status().message().find("verify") != std::string::npos);
  CHECK(r.status().message().find("mismatch") != std::string::npos);
}
