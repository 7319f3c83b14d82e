#pragma once
// Raw-socket helpers of the HttpServer tests: a POSIX client (optionally bound to another loopback
// address), a response parser, an in-process server on an ephemeral port, and TLS test files.

#include <arpa/inet.h>
#include <netinet/in.h>
#include <openssl/ssl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <map>
#include <mutex>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "api/http_server.hpp"
#include "tests/support/temp_dir.hpp"

namespace lockbox::api::http_test {

using namespace std::chrono_literals;  // NOLINT(google-build-using-namespace)
using Millis = std::chrono::milliseconds;


class Client {
 public:
  // Connects to 127.0.0.1:port, from `from` (another 127/8 address) when given.
  explicit Client(std::uint16_t port, const char* from = nullptr)
      : fd_(::socket(AF_INET, SOCK_STREAM, 0)) {
    if (from != nullptr) {
      sockaddr_in local{};
      local.sin_family = AF_INET;
      ::inet_pton(AF_INET, from, &local.sin_addr);
      if (::bind(fd_, reinterpret_cast<const sockaddr*>(&local), sizeof local) != 0) return;
    }
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0;
  }
  ~Client() { ::close(fd_); }
  Client(const Client&) = delete;
  Client& operator=(const Client&) = delete;

  [[nodiscard]] bool connected() const { return connected_; }
  [[nodiscard]] int fd() const { return fd_; }

  void send(const std::string& data) const {
    std::size_t done = 0;
    while (done < data.size()) {
      const auto n = ::send(fd_, data.data() + done, data.size() - done, MSG_NOSIGNAL);
      if (n <= 0) return;  // the server closed: the test's reads tell
      done += static_cast<std::size_t>(n);
    }
  }

  // Up to `max` bytes, or "" on EOF, error or timeout.
  [[nodiscard]] std::string read_some(Millis timeout, std::size_t max = 65536) const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(timeout.count())) <= 0) return "";
    std::string chunk(max, '\0');
    const auto n = ::recv(fd_, chunk.data(), chunk.size(), 0);
    chunk.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
    return chunk;
  }

  // True when the server closes the connection (EOF or reset) within `timeout`.
  [[nodiscard]] bool closed_within(Millis timeout) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      pollfd p{fd_, POLLIN, 0};
      if (::poll(&p, 1, 20) <= 0) continue;
      char c;
      if (::recv(fd_, &c, 1, 0) <= 0) return true;
    }
    return false;
  }

 private:
  int fd_;
  bool connected_ = false;
};

struct Response {
  int status = 0;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
};

// Parses one response (Content-Length bodies only) from `read`, a function returning "" at the end.
template <class Read>
inline Response parse_response(Read read) {
  std::string data;
  std::size_t header_end;
  while ((header_end = data.find("\r\n\r\n")) == std::string::npos) {
    const std::string chunk = read();
    if (chunk.empty()) return {};
    data += chunk;
  }
  Response response;
  response.status = std::stoi(data.substr(9, 3));
  std::size_t line = data.find("\r\n") + 2;
  while (line < header_end) {
    const std::size_t eol = data.find("\r\n", line);
    const std::size_t colon = data.find(':', line);
    std::string name = data.substr(line, colon - line);
    for (char& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    response.headers[name] = data.substr(colon + 2, eol - colon - 2);
    line = eol + 2;
  }
  const std::size_t length = std::stoul(response.headers["content-length"]);
  response.body = data.substr(header_end + 4);
  while (response.body.size() < length) {
    const std::string chunk = read();
    if (chunk.empty()) break;
    response.body += chunk;
  }
  return response;
}

inline Response read_response(const Client& client, Millis timeout = 5s) {
  return parse_response([&] { return client.read_some(timeout); });
}

inline std::string get(const std::string& target, const std::string& extra = "") {
  return "GET " + target + " HTTP/1.1\r\nHost: localhost\r\n" + extra + "\r\n";
}

// The default handler: echoes method, target and body; "/boom" throws.
inline HttpResponse echo(HttpRequest& request) {
  if (request.target == "/boom") throw std::runtime_error("boom with a secret-looking value");
  HttpResponse response;
  response.content_type = "text/plain";
  response.body = SecretValue(request.method + " " + request.target + " ");
  response.body.append(request.body.reveal());
  response.headers.emplace_back("Cache-Control", "no-store");
  response.route = "/echo";
  return response;
}

inline ServerOptions test_options() {
  ServerOptions options;
  options.port = 0;
  options.threads = 2;
  return options;
}

// Runs the server on a thread from the moment on_listening fired; stops and joins on destruction.
class Served {
 public:
  explicit Served(ServerOptions options, Handler handler = echo) {
    auto listening = std::make_shared<std::promise<void>>();
    auto user_listening = options.on_listening;
    options.on_listening = [listening, user_listening](const std::string& a, std::uint16_t p,
                                                       bool tls) {
      if (user_listening) user_listening(a, p, tls);
      listening->set_value();
    };
    auto created = HttpServer::create(std::move(options), std::move(handler));
    REQUIRE(created.is_ok());
    server_ = std::move(created).value();
    auto listened = listening->get_future();
    thread_ = std::thread([this] {
      result_ = server_->run();
      finished_ = true;
    });
    REQUIRE(listened.wait_for(5s) == std::future_status::ready);
  }
  ~Served() {
    server_->stop();
    if (thread_.joinable()) thread_.join();
  }
  Served(const Served&) = delete;
  Served& operator=(const Served&) = delete;

  [[nodiscard]] std::uint16_t port() const { return server_->port(); }
  HttpServer& server() { return *server_; }
  // Waits for run() to return; false after `timeout`.
  bool join_within(Millis timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!finished_ && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(10ms);
    if (!finished_) return false;
    thread_.join();
    return true;
  }
  [[nodiscard]] const Status& result() const { return result_; }

 private:
  std::unique_ptr<HttpServer> server_;
  Status result_ = runtime_error("run() did not return");
  std::atomic<bool> finished_{false};
  std::thread thread_;
};

// Collects on_request records.
struct Records {
  std::mutex mu;
  std::vector<RequestRecord> all;
  void add(const RequestRecord& record) {
    std::lock_guard lock(mu);
    all.push_back(record);
  }
  // The records once there are `n` (a record follows the write, so it may trail the client).
  std::vector<RequestRecord> wait_for(std::size_t n) {
    for (int i = 0; i < 200; ++i) {
      {
        std::lock_guard lock(mu);
        if (all.size() >= n) return all;
      }
      std::this_thread::sleep_for(10ms);
    }
    std::lock_guard lock(mu);
    return all;
  }
};

inline bool contains(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

struct TlsFiles {
  testing::TempDir dir;
  std::filesystem::path cert = dir / "c.pem";
  std::filesystem::path key = dir / "k.pem";
  enum class Key { kEc, kRsa };
  explicit TlsFiles(Key type = Key::kEc) { generate(cert, key, type); }
  // A self-signed P-256 certificate (an EC key: generated in milliseconds), or RSA-2048 for the
  // tests of RSA-only cipher suites.
  static void generate(const std::filesystem::path& cert, const std::filesystem::path& key,
                       Key type = Key::kEc) {
    const std::string command =
        std::string("openssl req -x509 -newkey ") +
        (type == Key::kEc ? "ec -pkeyopt ec_paramgen_curve:P-256" : "rsa:2048") +
        " -nodes -keyout '" +
        key.string() + "' -out '" + cert.string() +
        "' -days 1 -subj /CN=localhost"
        " -addext subjectAltName=DNS:localhost,IP:127.0.0.1 >/dev/null 2>&1";
    REQUIRE(std::system(command.c_str()) == 0);
  }
};

// One GET over TLS with certificate verification off (the point is that TLS is served).
inline Response tls_get(std::uint16_t port, const std::string& target) {
  std::signal(SIGPIPE, SIG_IGN);  // SSL_write/SSL_shutdown use write(2), not MSG_NOSIGNAL
  Client client(port);
  REQUIRE(client.connected());
  SSL_CTX* context = SSL_CTX_new(TLS_client_method());
  SSL* ssl = SSL_new(context);
  SSL_set_fd(ssl, client.fd());
  Response response;
  if (SSL_connect(ssl) == 1) {
    const std::string request = get(target, "Connection: close\r\n");
    SSL_write(ssl, request.data(), static_cast<int>(request.size()));
    response = parse_response([&] {
      std::string chunk(16384, '\0');
      const int n = SSL_read(ssl, chunk.data(), static_cast<int>(chunk.size()));
      chunk.resize(n > 0 ? static_cast<std::size_t>(n) : 0);
      return chunk;
    });
    SSL_shutdown(ssl);
  }
  SSL_free(ssl);
  SSL_CTX_free(context);
  return response;
}

}  // namespace lockbox::api::http_test
