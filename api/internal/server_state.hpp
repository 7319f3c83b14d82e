#pragma once
// Internal to the api module: what HttpServer's sessions share (options, the handler, the
// ConnectionTable, the registry of live sessions used by the shutdown and the pressure sweep),
// without Beast, so http_server.cpp stays the transport.
// Thread-safety: ServerState may be used from any thread; SessionBase's methods are thread-safe.

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string_view>
#include <unordered_map>

#include "api/http_server.hpp"
#include "api/internal/connection_table.hpp"
#include "core/log.hpp"

namespace lockbox::api::internal {

using SteadyClock = std::chrono::steady_clock;

// Under pressure, idle sessions are swept at most this often.
inline constexpr std::chrono::milliseconds kSweepInterval{100};

// Runs a callback of the caller's; an exception from it is logged (without its text) and dropped.
template <class F>
void guarded(std::string_view what, F&& callback) {
  try {
    callback();
  } catch (...) {
    log::warn("http server: the {} callback failed", what);
  }
}

// What the server side of a session can do to it; implemented by Session<Stream>.
class SessionBase {
 public:
  virtual ~SessionBase() = default;
  // Asks the session (on its strand) to close: at once when idle or `force`, else after the
  // response in flight. Thread-safe.
  virtual void request_stop(bool force) = 0;
  // Asks the session (on its strand) to close if it is idle between requests, has not
  // authenticated and has waited idle_timeout_under_pressure. Thread-safe.
  virtual void sweep_idle() = 0;
};

// What sessions share with the server: options, the handler, the connection count and the
// registry of live sessions used by the shutdown. Thread-safe.
class ServerState {
 public:
  ServerState(ServerOptions options, Handler handler)
      : options_(std::move(options)),
        handler_(std::move(handler)),
        table_({options_.max_connections, options_.max_connections_per_address,
                options_.reserved_for_authenticated, options_.pressure_connections}) {}

  [[nodiscard]] const ServerOptions& options() const { return options_; }
  [[nodiscard]] bool stopping() const { return stopping_.load(); }
  [[nodiscard]] internal::ConnectionTable& table() { return table_; }

  // Runs the handler; an exception becomes a 500 that carries none of its text.
  HttpResponse handle(HttpRequest& request) const;
  // For a response whose answer is deferred (api/http.hpp): starts its work and calls `send`
  // once with the final answer, carrying the placeholder's route and authenticated (a 500 when
  // the work could not be started). `send` may run on any thread.
  static void when_ready(HttpResponse placeholder, std::function<void(HttpResponse)> send);

  void record(const RequestRecord& record) const {
    if (options_.on_request) guarded("request", [&] { options_.on_request(record); });
  }

  void add(const std::shared_ptr<SessionBase>& session) {
    std::lock_guard lock(mu_);
    sessions_.emplace(session.get(), session);
  }

  // Called by a session's destructor; the last one gone during a shutdown calls on_drained.
  void remove(SessionBase* session);

  // Marks the server stopping and asks every live session to stop. Returns whether any is left.
  bool stop_sessions(bool force);

  // Under pressure, asks the idle sessions to close when they have waited long enough; at most
  // every kSweepInterval. Called by the acceptor.
  void sweep_if_pressed();

  // REQUIRES: set before any session exists.
  void set_on_drained(std::function<void()> on_drained) { on_drained_ = std::move(on_drained); }

 private:
  const ServerOptions options_;
  const Handler handler_;
  std::atomic<bool> stopping_{false};
  internal::ConnectionTable table_;
  std::mutex mu_;
  SteadyClock::time_point last_sweep_{};
  std::unordered_map<SessionBase*, std::weak_ptr<SessionBase>> sessions_;
  std::function<void()> on_drained_;
};

}  // namespace lockbox::api::internal
