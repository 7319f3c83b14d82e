// HttpServer on Boost.Beast: the acceptor, the io threads, the signals and the shutdown; each
// connection is a Session (api/internal/http_session.cpp, where its state machine is described).
// Only these two TUs include Beast (NOTES.md "Build cost").

#include "api/http_server.hpp"

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
#include "api/internal/http_session.hpp"
#include "api/internal/server_state.hpp"
#include "api/internal/tls_context.hpp"
#include "core/log.hpp"
#include "core/secret_value.hpp"

namespace lockbox::api {
namespace {

namespace beast = boost::beast;
namespace net = boost::asio;
namespace ssl = net::ssl;
using tcp = net::ip::tcp;
using beast::error_code;
using internal::PlainStream;
using internal::TlsStream;
using Admission = internal::ConnectionTable::Admission;
using internal::guarded;
using internal::ServerState;

constexpr std::chrono::milliseconds kAcceptRetry{50};

std::string peer_address(const tcp::socket& socket) {
  error_code ec;
  auto address = socket.remote_endpoint(ec).address();
  if (ec) return "";
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return net::ip::make_address_v4(net::ip::v4_mapped, address.to_v6()).to_string();
  }
  return address.to_string();
}

class Server final : public HttpServer {
 public:
  Server(ServerOptions options, Handler handler, std::unique_ptr<ssl::context> tls)
      : state_(std::move(options), std::move(handler)),
        tls_(std::move(tls)),
        ioc_(state_.options().threads),
        strand_(net::make_strand(ioc_)),
        acceptor_(strand_),
        signals_(strand_),
        drain_timer_(strand_),
        retry_timer_(strand_) {
    state_.set_on_drained([this] { net::post(strand_, [this] { on_drained(); }); });
  }

  Status listen(const tcp::endpoint& endpoint) {
    const std::string where =
        internal::endpoint_text(endpoint.address().to_string(), endpoint.port());
    error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(net::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(net::socket_base::max_listen_connections, ec);
    if (!ec) port_ = acceptor_.local_endpoint(ec).port();
    if (ec)
      return runtime_error(
          fmt::format("http server: cannot listen on {}: {}", where, ec.message()));
    return Status::ok();
  }

  [[nodiscard]] std::uint16_t port() const override { return port_; }

  Status run() override {
    if (ran_.exchange(true)) return runtime_error("http server: run() may be called only once");
    error_code ec;
    signals_.add(SIGTERM, ec);
    signals_.add(SIGINT, ec);
    signals_.async_wait(beast::bind_front_handler(&Server::on_signal, this));
    net::post(strand_, [this] { do_accept(); });
    notify_listening();
    std::vector<std::thread> threads;
    for (int i = 1; i < state_.options().threads; ++i) threads.emplace_back([this] { run_io(); });
    run_io();
    for (auto& thread : threads) thread.join();
    signals_.clear(ec);  // back to the default dispositions
    return Status::ok();
  }

  void stop() override {
    net::post(strand_, [this] { begin_shutdown(0); });
  }

 private:
  void notify_listening() {
    const auto& on_listening = state_.options().on_listening;
    error_code ec;
    const std::string address = acceptor_.local_endpoint(ec).address().to_string();
    if (on_listening) guarded("listening", [&] { on_listening(address, port_, tls_ != nullptr); });
  }

  void run_io() {
    for (;;) {
      try {
        ioc_.run();
        return;
      } catch (...) {
        log::error("http server: unexpected exception in an io handler");
      }
    }
  }

  void do_accept() {
    if (shutting_down_) return;
    acceptor_.async_accept(net::make_strand(ioc_),
                           beast::bind_front_handler(&Server::on_accept, this));
  }

  void on_accept(error_code ec, tcp::socket socket) {
    if (shutting_down_ || !acceptor_.is_open()) return;
    if (ec) {  // EMFILE, ECONNABORTED ...: retry shortly instead of spinning
      log::debug("http server: accept failed: {}", ec.message());
      retry_timer_.expires_after(kAcceptRetry);
      retry_timer_.async_wait([this](error_code wait_ec) {
        if (!wait_ec) do_accept();
      });
      return;
    }
    error_code ignored;
    socket.set_option(tcp::no_delay(true), ignored);  // header and body are two writes
    state_.sweep_if_pressed();  // frees slots held by idle clients (closes asynchronously)
    std::string peer = peer_address(socket);
    const Admission admission = state_.table().admit(peer);
    if (tls_) {
      internal::start_session(state_, TlsStream(std::move(socket), *tls_), std::move(peer),
                              admission);
    } else {
      internal::start_session(state_, PlainStream(std::move(socket)), std::move(peer), admission);
    }
    do_accept();
  }

  void on_signal(error_code ec, int signal) {
    if (ec) return;
    if (shutting_down_) {
      state_.stop_sessions(true);  // a second signal cuts the drain
    } else {
      begin_shutdown(signal);
    }
    if (!drained_) signals_.async_wait(beast::bind_front_handler(&Server::on_signal, this));
  }

  void begin_shutdown(int signal) {
    if (shutting_down_) return;
    shutting_down_ = true;
    const auto& on_shutdown = state_.options().on_shutdown;
    if (on_shutdown) guarded("shutdown", [&] { on_shutdown(signal); });
    error_code ignored;
    acceptor_.close(ignored);
    retry_timer_.cancel();
    if (!state_.stop_sessions(false)) return on_drained();
    drain_timer_.expires_after(state_.options().drain_timeout);
    drain_timer_.async_wait([this](error_code ec) {
      if (!ec) state_.stop_sessions(true);
    });
  }

  // Every session is gone: cancel what keeps the io_context busy, so run() returns.
  void on_drained() {
    drained_ = true;
    drain_timer_.cancel();
    error_code ignored;
    signals_.cancel(ignored);
  }

  ServerState state_;
  std::unique_ptr<ssl::context> tls_;
  net::io_context ioc_;
  net::strand<net::io_context::executor_type> strand_;
  // Used on strand_ only (after run() starts):
  tcp::acceptor acceptor_;
  net::signal_set signals_;
  net::steady_timer drain_timer_;
  net::steady_timer retry_timer_;
  bool shutting_down_ = false;
  bool drained_ = false;

  std::uint16_t port_ = 0;
  std::atomic<bool> ran_{false};
};

}  // namespace

Result<std::unique_ptr<HttpServer>> HttpServer::create(ServerOptions options, Handler handler) {
  error_code ec;
  const auto address = net::ip::make_address(options.address, ec);
  if (ec) return bad_input(fmt::format("http server: bad listen address \"{}\"", options.address));
  if (options.tls_cert.has_value() != options.tls_key.has_value()) {
    return bad_input("http server: a TLS certificate and a TLS key go together");
  }
  if (options.threads < 1) return bad_input("http server: threads must be at least 1");
  std::unique_ptr<ssl::context> tls;
  if (options.tls_cert) {
    LOCKBOX_ASSIGN_OR_RETURN(tls, internal::make_tls_context(*options.tls_cert, *options.tls_key));
  }
  const tcp::endpoint endpoint(address, options.port);
  auto server = std::make_unique<Server>(std::move(options), std::move(handler), std::move(tls));
  LOCKBOX_TRY(server->listen(endpoint));
  return std::unique_ptr<HttpServer>(std::move(server));
}

}  // namespace lockbox::api
