#pragma once
// ApiService: the handler of `lockbox serve` (SPEC §8): routing, authentication, roles, the
// admin secret routes, /api/v1/resolve, /api/v1/health and /metrics. It knows nothing of sockets:
// HttpServer (api/http_server.hpp) calls handle() on its threads, and tests call it directly.
//
// Each server thread gets its own Store (Store is not thread-safe), opened on first use. Reveals
// and resolves commit their audit record through one AuditBatcher (group commit) before the value
// is returned. Authentication failures are audited (auth.failure, with the token's name when its
// id is known) and counted per client address: past the limit, that address gets 429.
//
// Order of checks for every authenticated route: route (404), authentication (401, or 429 when
// the address is blocked), request syntax (400/415), permission (403), existence (404/409).
// Thread-safety: handle() may be called from any number of threads at once.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>

#include "api/audit_batcher.hpp"
#include "api/auth_limiter.hpp"
#include "api/http.hpp"
#include "api/metrics.hpp"
#include "core/clock.hpp"
#include "policies/policy.hpp"
#include "store/store.hpp"

namespace lockbox::api {

struct ServiceConfig {
  const policies::Policy* policy = nullptr;  // REQUIRED; outlives the service
  // Opens one store (master key and all); called once per server thread and once for the batcher.
  std::function<Result<std::unique_ptr<store::Store>>()> open_store;
  const Clock* clock = nullptr;  // defaults to the process clock
  Metrics* metrics = nullptr;    // optional
  int auth_failure_limit = 10;   // failures per address per window before 429
  std::int64_t auth_failure_window_ms = 60'000;
};

class ApiService {
 public:
  // Opens the batcher's store (so a wrong master key fails here, before serving).
  static Result<std::unique_ptr<ApiService>> create(ServiceConfig config);
  ~ApiService();

  HttpResponse handle(HttpRequest& request);

  [[nodiscard]] const AuditBatcher& batcher() const { return *batcher_; }

  // Drops every cached resolve answer (wiping its values): the store changed. Called by serve's
  // ChangeListener (api/change_listener.hpp); answers are never stale without it.
  void drop_cached_answers();
  [[nodiscard]] std::size_t cached_answers() const;

 private:
  explicit ApiService(ServiceConfig config);
  struct Impl;
  std::unique_ptr<Impl> impl_;
  std::unique_ptr<AuditBatcher> batcher_;
};

}  // namespace lockbox::api
