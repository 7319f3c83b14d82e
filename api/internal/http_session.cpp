// The connections of HttpServer (api/http_server.cpp). One Session per connection, plain or TLS,
// its completion handlers serialized on its own strand (no locks).
//   kHandshake  TLS only: the handshake within header_timeout.
//   kIdle       the first bytes of a request (within header_timeout on a fresh connection,
//               idle_timeout between keep-alive requests), then the rest of the header within
//               header_timeout. A shutdown closes the connection here.
//   kBusy       the body within body_timeout ("100 Continue" first when asked), the handler (on
//               this io thread; a deferred answer is awaited off it), the response within
//               body_timeout. A shutdown lets this finish, then closes (Connection: close).
//   kClosing    a TLS close_notify, or a TCP half-close and discarding what the client still sends,
//               for at most kLingerTimeout: closing on an unread request would send a reset that
//               can destroy the 400/413/503 before the client reads it.
// The parser enforces body_limit (a Content-Length over it fails at the header) and Beast's 8 KiB
// header limit: 413 and 400, then a close. A connection the ConnectionTable refuses (over
// max_connections, or over the per-address cap) gets a 503 at once, without its request being
// read (for TLS after the handshake), then the same close; one admitted on probation is closed
// after its first response unless that request authenticated. Under pressure, idle sessions that
// have not authenticated wait idle_timeout_under_pressure at most (new waits get the shorter
// deadline, and the acceptor sweeps those already waiting: a pending read's deadline cannot be
// moved in Beast's tcp_stream). A timeout
// closes the socket; no read ever blocks a thread.
//
// Secrets: the request body moves into a SecretValue; the parser's string and the fixed network
// buffer are wiped. The response body is written from the handler's SecretValue through a span,
// header and body in separate writes: beast::ssl_stream copies a multi-buffer write under 16 KiB
// into an internal buffer it never wipes, but passes a single buffer through.

#include "api/internal/http_session.hpp"

#include <openssl/ssl.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <csignal>
#include <mutex>
#include <thread>
#include <type_traits>
#include <unordered_map>
#include <vector>

#include "api/internal/connection_table.hpp"
#include "api/internal/framing.hpp"
#include "api/internal/server_state.hpp"
#include "api/internal/tls_context.hpp"
#include "core/log.hpp"
#include "core/secret_value.hpp"

namespace lockbox::api::internal {
namespace {

namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using beast::error_code;

constexpr std::chrono::milliseconds kLingerTimeout{500};
constexpr std::size_t kReadChunk = 4096;
// The network buffer is allocated once at this size and never grows, so no reallocation leaves an
// unwiped copy of request bytes behind. It holds a whole header (Beast's limit: 8 KiB); a body
// streams through it into the parser.
constexpr std::size_t kNetworkBuffer = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";
constexpr std::string_view kHsts = "max-age=31536000";  // one year
using Admission = ConnectionTable::Admission;

std::string to_string(beast::string_view s) {
  return {s.data(), s.size()};
}

// An error Beast's parser reports for a malformed request, as opposed to a peer that went away.
bool is_parse_error(const error_code& ec) {
  if (ec.category() != http::make_error_code(http::error::bad_target).category()) return false;
  return ec != http::error::end_of_stream && ec != http::error::partial_message &&
         ec != http::error::short_read;
}

// One connection, plain or TLS (see the state machine at the top of the file).
template <class Stream>
class Session final : public SessionBase, public std::enable_shared_from_this<Session<Stream>> {
 public:
  Session(ServerState& state, Stream stream, std::string peer, Admission admission)
      : state_(state),
        stream_(std::move(stream)),
        admission_(admission),
        peer_(std::move(peer)),
        buffer_(kNetworkBuffer) {
    buffer_.reserve(kNetworkBuffer);
  }

  ~Session() override {
    discard_request();
    wipe(scratch_.data(), scratch_.size());
    if (admission_ != Admission::kRefused) state_.table().release(peer_, authenticated_);
    state_.remove(this);
  }

  void start() { net::dispatch(stream_.get_executor(), callback(&Session::on_start)); }

  void request_stop(bool force) override {
    net::post(stream_.get_executor(), [self = this->shared_from_this(), force] {
      self->stop_requested_ = true;
      if (force || self->phase_ == Phase::kHandshake || self->phase_ == Phase::kIdle)
        self->close_now();
    });
  }

  void sweep_idle() override {
    net::post(stream_.get_executor(), [self = this->shared_from_this()] {
      if (!self->waiting_idle_ || self->authenticated_ || self->phase_ != Phase::kIdle) return;
      if (SteadyClock::now() - self->idle_since_ >= self->options().idle_timeout_under_pressure)
        self->close_now();
    });
  }

 private:
  static constexpr bool kTls = std::is_same_v<Stream, TlsStream>;
  enum class Phase { kHandshake, kIdle, kBusy, kClosing };

  template <class F>
  auto callback(F member) {
    return beast::bind_front_handler(member, this->shared_from_this());
  }
  beast::tcp_stream& tcp() { return beast::get_lowest_layer(stream_); }
  const ServerOptions& options() const { return state_.options(); }
  bool closing_after_response() const { return stop_requested_ || state_.stopping(); }

  void on_start() {
    if constexpr (kTls) {
      tcp().expires_after(options().header_timeout);
      stream_.async_handshake(ssl::stream_base::server, callback(&Session::on_handshake));
    } else {
      on_handshake({});
    }
  }

  void on_handshake(error_code ec) {
    if (ec) return close_now();
    if (admission_ == Admission::kRefused) {
      started_ = SteadyClock::now();
      return send(error_response(503, "unavailable", "too many connections"), false);
    }
    wait_for_request();
  }

  // kIdle: the next request's first bytes (or its pipelined bytes already buffered).
  void wait_for_request() {
    if (closing_after_response()) return close_now();
    phase_ = Phase::kIdle;
    parser_.emplace();
    parser_->body_limit(options().body_limit);
    if (buffer_.size() > 0) {
      tcp().expires_after(options().header_timeout);
      return read_header();
    }
    auto wait = first_request_ ? options().header_timeout : options().idle_timeout;
    if (!authenticated_ && state_.table().under_pressure())
      wait = std::min(wait, options().idle_timeout_under_pressure);
    tcp().expires_after(wait);
    waiting_idle_ = true;
    idle_since_ = SteadyClock::now();
    stream_.async_read_some(buffer_.prepare(kReadChunk), callback(&Session::on_first_bytes));
  }

  void on_first_bytes(error_code ec, std::size_t n) {
    waiting_idle_ = false;
    if (ec) return close_now();
    buffer_.commit(n);
    // A fresh connection keeps the deadline set before its first byte.
    if (!first_request_) tcp().expires_after(options().header_timeout);
    read_header();
  }

  void read_header() {
    http::async_read_header(stream_, buffer_, *parser_, callback(&Session::on_header));
  }

  void on_header(error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_error(ec);
    phase_ = Phase::kBusy;
    first_request_ = false;
    started_ = SteadyClock::now();
    const auto& message = parser_->get();
    method_ = to_string(message.method_string());
    head_ = message.method() == http::verb::head;
    const HeaderFacts facts{message.version(), message.count(http::field::host),
                            message.count(http::field::authorization),
                            message.count(http::field::transfer_encoding),
                            to_string(message[http::field::transfer_encoding])};
    if (auto problem = framing_problem(facts)) {
      discard_request();
      return send(error_response(400, "bad_request", *problem), false);
    }
    if (parser_->is_done()) return serve_request();
    tcp().expires_after(options().body_timeout);
    if (message.version() >= 11 && beast::iequals(message[http::field::expect], "100-continue")) {
      return net::async_write(stream_, net::buffer(kContinue.data(), kContinue.size()),
                              callback(&Session::on_continue_sent));
    }
    read_body();
  }

  void on_continue_sent(error_code ec, std::size_t /*bytes*/) {
    if (ec) return close_now();
    read_body();
  }

  void read_body() { http::async_read(stream_, buffer_, *parser_, callback(&Session::on_body)); }

  void on_body(error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_read_error(ec);
    serve_request();
  }

  // A limit or a malformed request gets its error answer; a timeout or a vanished peer, a close.
  void on_read_error(error_code ec) {
    if (phase_ == Phase::kIdle) {  // the header failed: its request line may have parsed
      method_ = parser_ ? to_string(parser_->get().method_string()) : "";
      head_ = method_ == "HEAD";
      started_ = SteadyClock::now();
    }
    discard_request();
    phase_ = Phase::kBusy;
    if (ec == http::error::body_limit) {
      const std::string message =
          "request body is larger than " + describe_size(options().body_limit);
      return send(error_response(413, "payload_too_large", message), false);
    }
    if (is_parse_error(ec))
      return send(error_response(400, "bad_request", "malformed HTTP request"), false);
    close_now();
  }

  void serve_request() {
    version_ = parser_->get().version();
    const bool keep_alive = parser_->get().keep_alive();
    HttpResponse response;
    {
      HttpRequest request = take_request();
      response = state_.handle(request);
    }  // the request body (a SecretValue) is wiped here
    if (!response.deferred) return answer(std::move(response), keep_alive);
    // The answer waits for work elsewhere (api/http.hpp): this io thread goes on serving others.
    state_.when_ready(
        std::move(response), [self = this->shared_from_this(), keep_alive](HttpResponse r) {
          auto ready = std::make_shared<HttpResponse>(std::move(r));
          net::post(self->stream_.get_executor(),
                    [self, ready, keep_alive] { self->answer(std::move(*ready), keep_alive); });
        });
  }

  void answer(HttpResponse response, bool keep_alive) {
    if (response.authenticated && !authenticated_) {
      authenticated_ = true;
      state_.table().authenticated(peer_);
    }
    // A connection on probation keeps its slot only by authenticating.
    if (admission_ == Admission::kProbation && !authenticated_) keep_alive = false;
    send(std::move(response), keep_alive);
  }

  HttpRequest take_request() {
    const auto& message = parser_->get();
    HttpRequest request;
    request.method = head_ ? "GET" : method_;  // HEAD is GET without the body (RFC 9110 §9.3.2)
    request.target = origin_form(to_string(message.target()));
    request.authorization = to_string(message[http::field::authorization]);
    request.content_type = to_string(message[http::field::content_type]);
    request.cookie = to_string(message[http::field::cookie]);
    request.csrf = to_string(message["X-Lockbox-CSRF"]);
    request.body = SecretValue(message.body());
    request.peer = peer_;
    discard_request();
    return request;
  }

  // Wipes the parser's body and, when no pipelined bytes wait in it, the whole network buffer.
  void discard_request() {
    if (parser_) {
      auto& body = parser_->get().body();
      wipe(body.data(), body.size());
      parser_.reset();
    }
    if (buffer_.size() == 0 && buffer_.capacity() > 0) {
      auto storage = buffer_.prepare(buffer_.capacity());
      wipe(storage.data(), storage.size());
    }
  }

  void send(HttpResponse response, bool keep_alive) {
    response_ = std::move(response);
    keep_alive_ = keep_alive && !closing_after_response();
    if (!build_message()) {
      response_ = error_response(500, "internal", "internal error");
      if (!build_message()) return close_now();
    }
    serializer_.emplace(*message_);
    tcp().expires_after(options().body_timeout);
    http::async_write_header(stream_, *serializer_, callback(&Session::on_header_written));
  }

  // The response message over response_'s body (no copy). False when Beast refuses a field.
  bool build_message() {
    if (response_.status < 100 || response_.status > 999) return false;
    try {
      message_.emplace();
      message_->version(version_);
      message_->result(static_cast<unsigned>(response_.status));
      message_->set(http::field::server, "lockbox");
      message_->set(http::field::date, http_date_now());
      if constexpr (kTls) message_->set(http::field::strict_transport_security, kHsts);
      if (!response_.content_type.empty())
        message_->set(http::field::content_type, response_.content_type);
      for (const auto& [name, value] : response_.headers) message_->insert(name, value);
      const std::string_view body = response_.body.reveal();
      message_->body() =
          http::span_body<const char>::value_type(body.data(), head_ ? 0 : body.size());
      message_->keep_alive(keep_alive_);
      message_->prepare_payload();
      if (head_) message_->content_length(body.size());  // what GET would send
      return true;
    } catch (const std::exception&) {
      message_.reset();
      return false;
    }
  }

  void on_header_written(error_code ec, std::size_t /*bytes*/) {
    if (ec) return on_written(ec, 0);
    http::async_write(stream_, *serializer_, callback(&Session::on_written));
  }

  void on_written(error_code ec, std::size_t /*bytes*/) {
    const auto duration =
        std::chrono::duration_cast<std::chrono::microseconds>(SteadyClock::now() - started_);
    state_.record(RequestRecord{method_, response_.route, response_.status, duration, peer_});
    serializer_.reset();
    message_.reset();
    response_ = HttpResponse{};  // wipes the body
    if (ec) return close_now();
    if (!keep_alive_ || closing_after_response()) return close_gracefully();
    wait_for_request();
  }

  // kClosing: see the top of the file.
  void close_gracefully() {
    phase_ = Phase::kClosing;
    tcp().expires_after(kLingerTimeout);
    if constexpr (kTls) {
      stream_.async_shutdown([self = this->shared_from_this()](error_code) { self->close_now(); });
    } else {
      error_code ignored;
      tcp().socket().shutdown(tcp::socket::shutdown_send, ignored);
      linger();
    }
  }

  void linger() {
    tcp().async_read_some(net::buffer(scratch_), callback(&Session::on_linger_read));
  }

  void on_linger_read(error_code ec, std::size_t /*bytes*/) {
    if (ec) return close_now();
    linger();
  }

  void close_now() {
    phase_ = Phase::kClosing;
    tcp().close();
  }

  ServerState& state_;
  Stream stream_;
  const Admission admission_;  // kRefused: answered 503 and closed
  Phase phase_ = Phase::kHandshake;
  bool first_request_ = true;
  bool authenticated_ = false;  // a request on this connection carried a valid token
  bool waiting_idle_ = false;   // kIdle, waiting for the first byte of a request
  bool head_ = false;           // the request in flight is HEAD
  SteadyClock::time_point idle_since_;
  bool stop_requested_ = false;
  bool keep_alive_ = false;
  unsigned version_ = 11;
  const std::string peer_;
  std::string method_;
  SteadyClock::time_point started_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  // The response in flight: the serializer reads message_, whose body points into response_.
  HttpResponse response_;
  std::optional<http::response<http::span_body<const char>>> message_;
  std::optional<http::response_serializer<http::span_body<const char>>> serializer_;
  std::array<char, kReadChunk> scratch_{};  // bytes discarded while lingering
};

}  // namespace

template <class Stream>
void launch(ServerState& state, Stream stream, std::string peer, Admission admission) {
  auto session =
      std::make_shared<Session<Stream>>(state, std::move(stream), std::move(peer), admission);
  state.add(session);
  session->start();
}

void start_session(ServerState& state, PlainStream stream, std::string peer, Admission admission) {
  launch(state, std::move(stream), std::move(peer), admission);
}

void start_session(ServerState& state, TlsStream stream, std::string peer, Admission admission) {
  launch(state, std::move(stream), std::move(peer), admission);
}

}  // namespace lockbox::api::internal
