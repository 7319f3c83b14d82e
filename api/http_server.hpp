#pragma once
// HttpServer: the HTTP/1.1 transport of `lockbox serve` (SPEC §8) on Boost.Beast/Asio. This
// header includes no Boost: Beast lives in http_server.cpp alone (NOTES.md: ~15 s per TU).
//
// What the transport guarantees, whatever the handler does:
// - keep-alive; a request's header must arrive within header_timeout, its body within
//   body_timeout, and an idle keep-alive connection is closed after idle_timeout, so a stalled
//   client never holds a thread (all reads are asynchronous);
// - a body over body_limit is answered 413 (payload_too_large) and the connection closed;
// - beyond max_connections open connections, or max_connections_per_address from one address
//   (IPv6: one /64), a new one is answered 503 (unavailable) and closed; a share of the slots is
//   kept for clients with valid tokens, and idle timeouts shorten under pressure (see below);
// - HEAD is answered as GET without the body; every response has Date; an HTTP/1.1 request
//   without Host, with two Host or two Authorization fields, or with a Transfer-Encoding other
//   than chunked is 400 (and closed); absolute-form targets reach the handler in origin form;
// - a request Beast cannot parse is answered 400 (bad_request) and the connection closed;
// - every error body is SPEC §8's {"error": {"code", "message"}} (api/http.hpp);
// - request bodies are wiped after the handler returns; response bodies are sent from the
//   handler's SecretValue without copies into unwiped buffers;
// - TLS when a certificate and key are given: TLS 1.2 and 1.3 only, TLS 1.2 with ECDHE and
//   AES-GCM or ChaCha20-Poly1305 only, in the server's order; HTTPS answers carry
//   Strict-Transport-Security;
// - SIGTERM and SIGINT: stop accepting, finish in-flight requests (their responses are sent,
//   with Connection: close), close idle connections, then run() returns ok (exit 0). A drain
//   that takes longer than drain_timeout is cut.
// Thread-safety: run() once; stop() from any thread or a signal.

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/http.hpp"
#include "core/status.hpp"

namespace lockbox::api {

// One finished request, for the access log and metrics. Never a body, a query value or a header.
struct RequestRecord {
  std::string method;
  std::string route;  // HttpResponse::route, or "" (unmatched / transport error)
  int status = 0;
  std::chrono::microseconds duration{0};
  std::string peer;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  std::uint16_t port = 8790;  // 0: an ephemeral port (tests); see on_listening
  int threads = 2;            // io threads running handlers
  std::optional<std::filesystem::path> tls_cert, tls_key;  // both or neither
  std::size_t body_limit = 1024 * 1024;
  std::chrono::milliseconds header_timeout{10'000};
  std::chrono::milliseconds body_timeout{30'000};
  std::chrono::milliseconds idle_timeout{60'000};
  std::chrono::milliseconds drain_timeout{30'000};
  std::size_t max_connections = 512;
  // Per client address (IPv6: per /64): beyond it a new connection is answered 503.
  std::size_t max_connections_per_address = 64;
  // Slots only connections that carried a valid token may hold: once the others fill
  // max_connections - reserved_for_authenticated, a new connection is closed after its first
  // response unless that request authenticated. At most max_connections / 4 is reserved.
  std::size_t reserved_for_authenticated = 128;
  // From this many open connections, a connection that has not authenticated waits at most
  // idle_timeout_under_pressure between requests (and idle ones past it are closed).
  std::size_t pressure_connections = 384;
  std::chrono::milliseconds idle_timeout_under_pressure{2'000};
  // Called once the socket listens, with the bound address and port (port 0 resolved).
  std::function<void(const std::string& address, std::uint16_t port, bool tls)> on_listening;
  // Called after each response is written (or a transport error answered). Must be thread-safe.
  std::function<void(const RequestRecord&)> on_request;
  // Called when shutdown begins (a signal or stop()), before the drain.
  std::function<void(int signal)> on_shutdown;
};

class HttpServer {
 public:
  // Binds and listens (nothing served until run()). kBadInput for a bad address, TLS files that
  // cannot be loaded, or only one of cert/key; kRuntime when the port cannot be bound.
  static Result<std::unique_ptr<HttpServer>> create(ServerOptions options, Handler handler);
  virtual ~HttpServer() = default;

  // The bound port.
  [[nodiscard]] virtual std::uint16_t port() const = 0;
  // Serves on `threads` threads (the caller's included) until SIGTERM/SIGINT or stop(), then
  // drains and returns.
  virtual Status run() = 0;
  // Begins a graceful shutdown. Thread-safe.
  virtual void stop() = 0;
};

}  // namespace lockbox::api
