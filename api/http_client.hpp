#pragma once
// HttpClient: a small synchronous HTTP/1.1 client (Boost.Beast, kept in http_client.cpp) for
// remote mode (`run --server`) and the server tests. Keep-alive: one connection reused across
// requests, reconnected once when the server closed it.
//
// https:// verifies the server's certificate chain against the default trust store (OpenSSL's
// default verify paths, so SSL_CERT_FILE and SSL_CERT_DIR are honoured) and its host name, with
// SNI; there is no switch to turn verification off. http:// is plain.
// Errors (kRuntime): cannot resolve, connect, TLS handshake or verification failure (the message
// says which), timeout, a malformed response. kBadInput: a malformed URL. Messages name the host
// and port, never a header value or a body.
// Thread-safety: none (one client per thread).

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/secret_value.hpp"
#include "core/status.hpp"

namespace lockbox::api {

struct ClientOptions {
  std::chrono::milliseconds timeout{30'000};  // per request: connect + write + read
};

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::string retry_after;  // the Retry-After header, "" when absent
  SecretValue body;         // wiped when dropped: resolve and reveal responses carry values
};

struct ParsedUrl {
  bool tls = false;
  std::string host;
  std::uint16_t port = 0;
  std::string base_path;  // "" or "/prefix" (no trailing slash)
};

// "http://127.0.0.1:8790", "https://vault.example:443/base". Default ports 80/443. kBadInput
// (without echoing the URL, which may carry credentials) for anything else.
Result<ParsedUrl> parse_url(std::string_view url);

class HttpClient {
 public:
  static Result<std::unique_ptr<HttpClient>> create(std::string_view base_url, ClientOptions options = {});
  virtual ~HttpClient() = default;

  // Sends METHOD base_path+target with `Authorization: Bearer <bearer>` when bearer is not
  // empty, and `body` (Content-Type: content_type) when not empty.
  virtual Result<ClientResponse> request(std::string_view method, std::string_view target,
                                         std::string_view bearer, std::string_view body = {},
                                         std::string_view content_type = "application/json") = 0;
};

}  // namespace lockbox::api
