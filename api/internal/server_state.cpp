#include "api/internal/server_state.hpp"

#include <memory>
#include <utility>
#include <vector>

namespace lockbox::api::internal {

HttpResponse ServerState::handle(HttpRequest& request) const {
  try {
    return handler_(request);
  } catch (...) {
    log::warn("http server: a handler failed on {}; answered 500", request.method);
    return error_response(500, "internal", "internal error");
  }
}

void ServerState::when_ready(HttpResponse placeholder, std::function<void(HttpResponse)> send) {
  auto deferred = std::exchange(placeholder.deferred, nullptr);
  auto meta = std::make_shared<HttpResponse>(std::move(placeholder));
  try {
    deferred([meta, send](HttpResponse final) {
      final.route = meta->route;
      final.authenticated = meta->authenticated;
      send(std::move(final));
    });
  } catch (...) {
    log::warn("http server: a deferred answer could not be started; answered 500");
    HttpResponse failed = error_response(500, "internal", "internal error");
    failed.route = meta->route;
    send(std::move(failed));
  }
}

void ServerState::remove(SessionBase* session) {
  bool drained = false;
  {
    std::lock_guard lock(mu_);
    sessions_.erase(session);
    drained = stopping_ && sessions_.empty();
  }
  if (drained && on_drained_) on_drained_();
}

bool ServerState::stop_sessions(bool force) {
  std::vector<std::shared_ptr<SessionBase>> live;
  bool any = false;
  {
    std::lock_guard lock(mu_);
    stopping_ = true;
    for (auto& entry : sessions_) {
      if (auto session = entry.second.lock()) live.push_back(std::move(session));
    }
    any = !sessions_.empty();
  }
  for (auto& session : live) session->request_stop(force);
  return any;
}

void ServerState::sweep_if_pressed() {
  if (!table_.under_pressure()) return;
  const auto now = SteadyClock::now();
  std::vector<std::shared_ptr<SessionBase>> live;
  {
    std::lock_guard lock(mu_);
    if (now - last_sweep_ < kSweepInterval) return;
    last_sweep_ = now;
    for (auto& entry : sessions_) {
      if (auto session = entry.second.lock()) live.push_back(std::move(session));
    }
  }
  for (auto& session : live) session->sweep_idle();
}

}  // namespace lockbox::api::internal
