#pragma once
// Metrics: the counters of `GET /metrics` (SPEC §8), rendered in the Prometheus text exposition
// format 0.0.4. Labels are route templates and status codes only: never a name, scope, value,
// token or peer address, so the page can be scraped without revealing which secrets exist.
// Thread-safety: every method may be called from any thread.

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include "api/http_server.hpp"

namespace lockbox::api {

class Metrics {
 public:
  Metrics();
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  // lockbox_http_requests_total{method, route, status} and
  // lockbox_http_request_duration_seconds{route} (histogram).
  void observe_request(const RequestRecord& record);
  // lockbox_resolves_total and lockbox_resolved_secrets_total.
  void add_resolve(std::size_t secrets);
  // lockbox_decrypt_failures_total.
  void add_decrypt_failure();
  // lockbox_auth_failures_total.
  void add_auth_failure();
  // The whole page. lockbox_active_key_age_seconds and lockbox_secrets_rotation_due (gauges: the
  // secrets whose rotation reminder is due, SPEC §13) are written when given; lockbox_up 1 always.
  [[nodiscard]] std::string render(
      std::optional<double> active_key_age_seconds,
      std::optional<std::int64_t> secrets_rotation_due = std::nullopt) const;

 private:
  struct State;
  std::unique_ptr<State> state_;
};

}  // namespace lockbox::api
