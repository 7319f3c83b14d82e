// Connection life cycle: create() only parses the URL (and, for https, builds the TLS context,
// reading the default trust store once). The first request() resolves, connects (and does the
// TLS handshake); the connection then stays open for the next requests (HTTP/1.1 keep-alive)
// until the server answers "Connection: close", an error occurs, or the client is destroyed.
// A reused connection that the server closed while idle fails on the write or before the first
// response byte: then the client reconnects once and sends the request again.
//
// Synchronous on the outside, asynchronous inside: each step is an async operation on a private
// io_context run to completion, because only async operations honour beast::tcp_stream's
// expiry. One deadline per request covers connect, handshake, write and read; name resolution
// is synchronous (getaddrinfo has no timeout we could impose without a thread).
//
// Secret hygiene: the request body is sent from the caller's memory (span_body, no copy); the
// request headers (the bearer token), the read buffer and the response body live in memory
// that is wiped when freed (WipingAllocator), and the body is moved into a SecretValue.

#include "api/http_client.hpp"

#include <openssl/ssl.h>
#include <openssl/x509_vfy.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <cctype>
#include <charconv>
#include <cstdint>
#include <exception>
#include <optional>
#include <utility>

namespace lockbox::api {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

constexpr std::string_view kUserAgent = "lockbox/0.1";
constexpr std::uint64_t kMaxBodyBytes = 64ull << 20;  // 64 MiB

// std::allocator that wipes every block before freeing it: buffers that held a token or a
// response body leave no plaintext behind, also after a reallocation.
template <typename T>
struct WipingAllocator {
  using value_type = T;
  WipingAllocator() = default;
  template <typename U>
  WipingAllocator(const WipingAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)
  T* allocate(std::size_t n) { return std::allocator<T>{}.allocate(n); }
  void deallocate(T* p, std::size_t n) noexcept {
    wipe(p, n * sizeof(T));
    std::allocator<T>{}.deallocate(p, n);
  }
  template <typename U>
  bool operator==(const WipingAllocator<U>&) const noexcept {
    return true;
  }
};

using Request =
    http::request<http::span_body<const char>, http::basic_fields<WipingAllocator<char>>>;
using ResponseBody = http::basic_string_body<char, std::char_traits<char>, WipingAllocator<char>>;
using ReadBuffer = beast::basic_flat_buffer<WipingAllocator<char>>;
using TlsStream = beast::ssl_stream<beast::tcp_stream>;

Status malformed_url() {
  return bad_input("--server: malformed URL (want http[s]://HOST[:PORT][/PATH])");
}

bool is_ip_literal(const std::string& host) {
  beast::error_code ec;
  (void)asio::ip::make_address(host, ec);
  return !ec;
}

// RFC 3986 pchar plus '/': what a path prefix may hold (no query, fragment or whitespace).
bool is_path_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 ||
         std::string_view("-._~!$&'()*+,;=:@%/").find(c) != std::string_view::npos;
}

bool is_host_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) != 0 || c == '.' || c == '-' || c == '_';
}

// Header values and the request line must not smuggle a CR/LF (or any control character).
bool is_header_safe(std::string_view s) {
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if ((u < 0x20 && c != '\t') || u == 0x7f) return false;
  }
  return true;
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size()) return std::nullopt;
  if (value == 0 || value > 65535) return std::nullopt;
  return static_cast<std::uint16_t>(value);
}

// "0.3s", "30s": the request timeout as the messages show it.
std::string seconds_text(std::chrono::milliseconds timeout) {
  char buf[32];
  const double seconds = static_cast<double>(timeout.count()) / 1000.0;
  return std::string(buf, std::to_chars(buf, buf + sizeof buf, seconds).ptr) + "s";
}

// The server closed (or reset) the connection: what an idle keep-alive connection goes stale by.
bool is_closed_error(const beast::error_code& ec) {
  return ec == http::error::end_of_stream || ec == asio::error::eof ||
         ec == asio::error::connection_reset || ec == asio::error::connection_aborted ||
         ec == asio::error::broken_pipe || ec == ssl::error::stream_truncated;
}

class BeastClient final : public HttpClient {
 public:
  BeastClient(ParsedUrl url, ClientOptions options, std::unique_ptr<ssl::context> tls)
      : url_(std::move(url)), options_(options), tls_context_(std::move(tls)) {
    const bool v6 = url_.host.find(':') != std::string::npos;
    const std::string host = v6 ? "[" + url_.host + "]" : url_.host;
    where_ = host + ":" + std::to_string(url_.port);
    host_header_ = url_.port == (url_.tls ? 443 : 80) ? host : where_;
  }
  ~BeastClient() override { close(); }

  Result<ClientResponse> request(std::string_view method, std::string_view target,
                                 std::string_view bearer, std::string_view body,
                                 std::string_view content_type) override {
    try {
      return request_impl(method, target, bearer, body, content_type);
    } catch (const std::exception& e) {  // allocation failures and Beast's throwing setters
      close();
      return runtime_error(where_ + ": request failed: " + e.what());
    }
  }

 private:
  Result<ClientResponse> request_impl(std::string_view method, std::string_view target,
                                      std::string_view bearer, std::string_view body,
                                      std::string_view content_type);
  Status connect(Clock::time_point deadline);
  Status handshake();
  Result<ClientResponse> exchange(const Request& req, bool head, bool& retry);
  Status exchange_error(const beast::error_code& ec) const;
  [[nodiscard]] std::string reason(const beast::error_code& ec) const {
    return ec == beast::error::timeout ? "no answer within " + seconds_text(options_.timeout)
                                       : ec.message();
  }
  void close();
  [[nodiscard]] bool connected() const { return plain_.has_value() || tls_.has_value(); }
  beast::tcp_stream& tcp() { return plain_ ? *plain_ : beast::get_lowest_layer(*tls_); }

  // Starts one async operation, runs the private io_context until it completes (the stream's
  // expiry guarantees it does) and returns its error.
  template <typename Initiate>
  beast::error_code run(Initiate&& initiate) {
    beast::error_code result = asio::error::would_block;
    initiate([&result](beast::error_code ec, auto&&...) { result = ec; });
    ioc_.restart();
    ioc_.run();
    return result;
  }

  // run() for op(stream, handler) on the open stream, plain or TLS.
  template <typename Op>
  beast::error_code run_on_stream(Op&& op) {
    if (tls_) return run([&](auto handler) { op(*tls_, std::move(handler)); });
    return run([&](auto handler) { op(*plain_, std::move(handler)); });
  }

  ParsedUrl url_;
  ClientOptions options_;
  std::unique_ptr<ssl::context> tls_context_;  // null for http://
  std::string where_;                          // "host:port" for messages
  std::string host_header_;
  asio::io_context ioc_;
  std::optional<beast::tcp_stream> plain_;
  std::optional<TlsStream> tls_;
};

void BeastClient::close() {
  beast::error_code ignored;
  if (connected()) tcp().socket().close(ignored);
  tls_.reset();
  plain_.reset();
}

Status BeastClient::connect(Clock::time_point deadline) {
  close();
  tcp::resolver resolver(ioc_);
  beast::error_code ec;
  const auto endpoints =
      resolver.resolve(url_.host, std::to_string(url_.port), tcp::resolver::numeric_service, ec);
  if (ec) return runtime_error("cannot resolve " + where_ + ": " + ec.message());
  if (tls_context_) {
    tls_.emplace(ioc_, *tls_context_);
  } else {
    plain_.emplace(ioc_);
  }
  tcp().expires_at(deadline);
  ec = run([&](auto handler) { tcp().async_connect(endpoints, std::move(handler)); });
  if (ec) {
    close();
    return runtime_error("cannot connect to " + where_ + ": " + reason(ec));
  }
  tcp().socket().set_option(tcp::no_delay(true), ec);  // best effort
  if (tls_) return handshake();
  return Status::ok();
}

Status BeastClient::handshake() {
  SSL* ssl_handle = tls_->native_handle();
  X509_VERIFY_PARAM* param = SSL_get0_param(ssl_handle);
  X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
  const char* host = url_.host.c_str();
  const bool set = is_ip_literal(url_.host)  // an address gets no SNI (RFC 6066 §3)
                       ? X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1
                       : X509_VERIFY_PARAM_set1_host(param, host, 0) == 1 &&
                             SSL_set_tlsext_host_name(ssl_handle, host) == 1;
  const std::string failed = "TLS handshake with " + where_ + " failed: ";
  if (!set) {
    close();
    return runtime_error(failed + "cannot set the expected host name");
  }
  const beast::error_code ec = run(
      [&](auto handler) { tls_->async_handshake(ssl::stream_base::client, std::move(handler)); });
  if (!ec) return Status::ok();
  const long verify = SSL_get_verify_result(ssl_handle);
  close();
  if (verify != X509_V_OK) {
    return runtime_error(failed + "certificate verify failed (" +
                         X509_verify_cert_error_string(verify) + ")");
  }
  return runtime_error(failed + reason(ec));
}

Status BeastClient::exchange_error(const beast::error_code& ec) const {
  if (ec == beast::error::timeout) {
    return runtime_error(where_ + ": no response within " + seconds_text(options_.timeout));
  }
  if (ec == http::error::body_limit) return runtime_error(where_ + ": response body over 64 MiB");
  if (is_closed_error(ec)) return runtime_error(where_ + ": connection closed by the server");
  if (ec.category() == http::make_error_code(http::error::bad_version).category()) {
    return runtime_error(where_ + ": malformed response");
  }
  return runtime_error(where_ + ": " + ec.message());
}

Result<ClientResponse> BeastClient::request_impl(std::string_view method, std::string_view target,
                                                 std::string_view bearer, std::string_view body,
                                                 std::string_view content_type) {
  const bool token_method =
      !method.empty() &&
      method.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ") == std::string_view::npos;
  if (!token_method || target.empty() || target.front() != '/' ||
      target.find_first_of(" \t") != std::string_view::npos || !is_header_safe(target) ||
      !is_header_safe(bearer) || !is_header_safe(content_type)) {
    return bad_input(where_ + ": invalid request (method, target or header value)");
  }
  Request req;
  req.version(11);
  req.method_string(method);
  req.target(url_.base_path + std::string(target));
  req.set(http::field::host, host_header_);
  req.set(http::field::user_agent, kUserAgent);
  req.set(http::field::accept, "application/json");
  if (!bearer.empty()) {
    std::string authorization;
    authorization.reserve(7 + bearer.size());  // exact: no reallocation leaves a copy
    authorization.append("Bearer ").append(bearer);
    req.set(http::field::authorization, authorization);
    wipe(authorization.data(), authorization.size());
  }
  if (!body.empty()) req.set(http::field::content_type, content_type);
  if (!body.empty() || method == "POST" || method == "PUT" || method == "PATCH") {
    req.content_length(body.size());
  }
  req.body() = http::span_body<const char>::value_type(body.data(), body.size());

  const auto deadline = Clock::now() + options_.timeout;
  for (int attempt = 0;; ++attempt) {
    bool retry = attempt == 0 && connected();  // only a reused connection may have gone stale
    if (!connected()) LOCKBOX_TRY(connect(deadline));
    tcp().expires_at(deadline);
    auto response = exchange(req, method == "HEAD", retry);
    if (response.is_ok() || !retry) return response;
  }
}

// Writes the request and reads the response. On failure the connection is closed; `retry` (in:
// a retry is allowed) stays true only when the server closed it before sending a byte.
Result<ClientResponse> BeastClient::exchange(const Request& req, bool head, bool& retry) {
  http::response_parser<ResponseBody> parser;
  parser.body_limit(kMaxBodyBytes);
  parser.skip(head);
  ReadBuffer buffer;
  beast::error_code ec = run_on_stream(
      [&](auto& stream, auto handler) { http::async_write(stream, req, std::move(handler)); });
  if (!ec) {
    ec = run_on_stream([&](auto& stream, auto handler) {
      http::async_read(stream, buffer, parser, std::move(handler));
    });
  }
  if (ec) {
    close();
    retry = retry && !parser.got_some() && is_closed_error(ec);
    return exchange_error(ec);
  }
  retry = false;
  auto& message = parser.get();
  ClientResponse out;
  out.status = static_cast<int>(message.result_int());
  out.content_type = std::string(message[http::field::content_type]);
  out.retry_after = std::string(message[http::field::retry_after]);
  auto& text = message.body();
  out.body = SecretValue(std::string_view(text.data(), text.size()));
  wipe(text.data(), text.size());  // the allocator wipes heap blocks; this covers the SSO buffer
  // Bytes after the response (which we never asked for) would desynchronise the next exchange.
  if (!message.keep_alive() || buffer.size() != 0) close();
  return out;
}

}  // namespace

Result<ParsedUrl> parse_url(std::string_view url) {
  const auto sep = url.find("://");
  if (sep == std::string_view::npos) return malformed_url();
  std::string scheme(url.substr(0, sep));
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (scheme != "http" && scheme != "https") return malformed_url();
  ParsedUrl out;
  out.tls = scheme == "https";
  out.port = out.tls ? 443 : 80;
  const std::string_view rest = url.substr(sep + 3);
  const std::string_view authority = rest.substr(0, rest.find('/'));
  std::string_view path = rest.substr(authority.size());

  std::size_t port_sep = std::string_view::npos;  // the ':' before the port, if any
  if (!authority.empty() && authority.front() == '[') {
    const auto close = authority.find(']');
    if (close == std::string_view::npos) return malformed_url();
    out.host = std::string(authority.substr(1, close - 1));
    beast::error_code ec;
    (void)asio::ip::make_address_v6(out.host, ec);
    if (ec || out.host.find('%') != std::string::npos) return malformed_url();  // no zone ids
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return malformed_url();
      port_sep = close + 1;
    }
  } else {
    port_sep = authority.find(':');
    out.host = std::string(authority.substr(0, port_sep));
    if (out.host.empty()) return malformed_url();
    for (char c : out.host) {
      if (!is_host_char(c)) return malformed_url();  // also '@' (userinfo), '?', '#'
    }
  }
  if (port_sep != std::string_view::npos) {
    const auto port = parse_port(authority.substr(port_sep + 1));
    if (!port) return malformed_url();
    out.port = *port;
  }
  for (char c : path) {
    if (!is_path_char(c)) return malformed_url();  // '?', '#', whitespace, controls
  }
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  out.base_path = std::string(path);
  return out;
}

Result<std::unique_ptr<HttpClient>> HttpClient::create(std::string_view base_url,
                                                       ClientOptions options) {
  LOCKBOX_ASSIGN_OR_RETURN(ParsedUrl url, parse_url(base_url));
  if (options.timeout.count() <= 0) return bad_input("http client: the timeout must be positive");
  std::unique_ptr<ssl::context> tls;
  if (url.tls) {
    try {
      tls = std::make_unique<ssl::context>(ssl::context::tls_client);
      // Reads SSL_CERT_FILE / SSL_CERT_DIR now, else OpenSSL's compiled-in store.
      tls->set_default_verify_paths();
      tls->set_verify_mode(ssl::verify_peer);
      if (SSL_CTX_set_min_proto_version(tls->native_handle(), TLS1_2_VERSION) != 1) {
        return runtime_error("cannot set up TLS: minimum protocol version refused");
      }
    } catch (const std::exception& e) {
      return runtime_error(std::string("cannot set up TLS: ") + e.what());
    }
  }
  return std::unique_ptr<HttpClient>(
      std::make_unique<BeastClient>(std::move(url), options, std::move(tls)));
}

}  // namespace lockbox::api
