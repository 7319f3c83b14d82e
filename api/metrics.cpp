#include "api/metrics.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstddef>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

namespace lockbox::api {
namespace {

// Methods are labels, and a client chooses the method it sends: anything outside this table is
// counted as "other", so no client can grow the page (or this map) without bound. Sorted, so the
// index order is the output order.
constexpr std::array<std::string_view, 10> kMethods = {
    "CONNECT", "DELETE", "GET", "HEAD", "OPTIONS", "PATCH", "POST", "PUT", "TRACE", "other"};

int method_index(std::string_view method) {
  for (std::size_t i = 0; i + 1 < kMethods.size(); ++i) {
    if (kMethods[i] == method) return static_cast<int>(i);
  }
  return static_cast<int>(kMethods.size() - 1);
}

// Upper bounds in microseconds (inclusive, as Prometheus' `le`), and the same bounds as written
// in the page. Durations arrive as whole microseconds, so bucketing is exact integer comparison.
constexpr std::array<std::int64_t, 12> kBoundsUs = {
    500, 1000, 2500, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000};
constexpr std::array<std::string_view, 13> kBoundLabels = {
    "0.0005", "0.001", "0.0025", "0.005", "0.01", "0.025", "0.05",
    "0.1",    "0.25",  "0.5",    "1",     "2.5",  "+Inf"};

// One route's histogram (per-bucket counts, not cumulative: cumulated when rendered) and its
// request counts by (method index, status).
struct RouteStats {
  std::array<std::uint64_t, kBoundLabels.size()> buckets{};
  std::uint64_t sum_us = 0;
  std::uint64_t count = 0;
  std::map<std::pair<int, int>, std::uint64_t> requests;
};

// Prometheus 0.0.4 label values escape backslash, double quote and line feed.
void append_label_value(std::string& out, std::string_view value) {
  for (const char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

void append_route_label(std::string& out, const std::string& route) {
  out += "route=\"";
  append_label_value(out, route.empty() ? std::string_view("unmatched") : route);
  out += '"';
}

void append_family(std::string& out, std::string_view name, std::string_view type,
                   std::string_view help) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
}

void append_sample(std::string& out, std::string_view name, std::uint64_t value) {
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

// Microseconds as seconds, exactly: "12.000345".
std::string seconds_from_us(std::uint64_t us) {
  std::string fraction = std::to_string(us % 1'000'000);
  return std::to_string(us / 1'000'000) + "." + std::string(6 - fraction.size(), '0') + fraction;
}

// A float sample value: the shortest representation that reads back exactly, and Prometheus'
// spellings of the non-finite values.
std::string float_value(double value) {
  if (std::isnan(value)) return "NaN";
  if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
  std::array<char, 32> buffer{};
  const auto result = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  return {buffer.data(), result.ptr};
}

}  // namespace

struct Metrics::State {
  std::atomic<std::uint64_t> resolves{0};
  std::atomic<std::uint64_t> resolved_secrets{0};
  std::atomic<std::uint64_t> decrypt_failures{0};
  std::atomic<std::uint64_t> auth_failures{0};
  // Keyed by route template ("" = unmatched); std::less<> so the hot path finds a route by
  // string_view without building a key. Routes are the router's templates: a bounded set.
  std::mutex mutex;
  std::map<std::string, RouteStats, std::less<>> routes;
};

Metrics::Metrics() : state_(std::make_unique<State>()) {}
Metrics::~Metrics() = default;

void Metrics::observe_request(const RequestRecord& record) {
  // Everything but the map updates is computed before taking the lock.
  const std::int64_t us = std::max<std::int64_t>(record.duration.count(), 0);
  std::size_t bucket = 0;
  while (bucket < kBoundsUs.size() && us > kBoundsUs[bucket]) ++bucket;
  const std::pair<int, int> key{method_index(record.method), record.status};

  const std::lock_guard lock(state_->mutex);
  auto it = state_->routes.find(std::string_view(record.route));
  if (it == state_->routes.end()) it = state_->routes.emplace(record.route, RouteStats{}).first;
  RouteStats& stats = it->second;
  ++stats.buckets[bucket];
  stats.sum_us += static_cast<std::uint64_t>(us);
  ++stats.count;
  ++stats.requests[key];
}

void Metrics::add_resolve(std::size_t secrets) {
  state_->resolves.fetch_add(1, std::memory_order_relaxed);
  state_->resolved_secrets.fetch_add(secrets, std::memory_order_relaxed);
}

void Metrics::add_decrypt_failure() {
  state_->decrypt_failures.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::add_auth_failure() {
  state_->auth_failures.fetch_add(1, std::memory_order_relaxed);
}

std::string Metrics::render(std::optional<double> active_key_age_seconds,
                            std::optional<std::int64_t> secrets_rotation_due) const {
  // A snapshot under the lock (a handful of routes), formatted outside it: a scrape never holds
  // up the request threads for longer than a copy, and each route's histogram count equals the
  // sum of its request counters.
  std::map<std::string, RouteStats, std::less<>> routes;
  {
    const std::lock_guard lock(state_->mutex);
    routes = state_->routes;
  }

  std::string out;
  out.reserve(1024 + routes.size() * 1024);
  append_family(out, "lockbox_http_requests_total", "counter",
                "HTTP requests answered, by method, route template and status code.");
  for (const auto& [route, stats] : routes) {
    for (const auto& [key, count] : stats.requests) {
      out += "lockbox_http_requests_total{method=\"";
      append_label_value(out, kMethods[static_cast<std::size_t>(key.first)]);
      out += "\",";
      append_route_label(out, route);
      out.append(",status=\"").append(std::to_string(key.second)).append("\"} ");
      out.append(std::to_string(count)).append("\n");
    }
  }

  append_family(out, "lockbox_http_request_duration_seconds", "histogram",
                "Time to handle and answer an HTTP request, by route template.");
  for (const auto& [route, stats] : routes) {
    std::uint64_t cumulative = 0;
    for (std::size_t i = 0; i < kBoundLabels.size(); ++i) {
      cumulative += stats.buckets[i];
      out += "lockbox_http_request_duration_seconds_bucket{";
      append_route_label(out, route);
      out.append(",le=\"").append(kBoundLabels[i]).append("\"} ");
      out.append(std::to_string(cumulative)).append("\n");
    }
    out += "lockbox_http_request_duration_seconds_sum{";
    append_route_label(out, route);
    out.append("} ").append(seconds_from_us(stats.sum_us)).append("\n");
    out += "lockbox_http_request_duration_seconds_count{";
    append_route_label(out, route);
    out.append("} ").append(std::to_string(stats.count)).append("\n");
  }

  const auto load = [](const std::atomic<std::uint64_t>& v) {
    return v.load(std::memory_order_relaxed);
  };
  append_family(out, "lockbox_resolves_total", "counter", "Resolve requests answered.");
  append_sample(out, "lockbox_resolves_total", load(state_->resolves));
  append_family(out, "lockbox_resolved_secrets_total", "counter",
                "Secrets returned by resolve requests.");
  append_sample(out, "lockbox_resolved_secrets_total", load(state_->resolved_secrets));
  append_family(out, "lockbox_decrypt_failures_total", "counter",
                "Secret versions that failed to decrypt.");
  append_sample(out, "lockbox_decrypt_failures_total", load(state_->decrypt_failures));
  append_family(out, "lockbox_auth_failures_total", "counter",
                "Requests refused for a missing, unknown, expired or wrong token.");
  append_sample(out, "lockbox_auth_failures_total", load(state_->auth_failures));

  if (active_key_age_seconds) {
    append_family(out, "lockbox_active_key_age_seconds", "gauge",
                  "Age of the active data key in seconds.");
    out.append("lockbox_active_key_age_seconds ")
        .append(float_value(*active_key_age_seconds))
        .append("\n");
  }
  if (secrets_rotation_due) {
    append_family(out, "lockbox_secrets_rotation_due", "gauge",
                  "Secrets whose rotation reminder (secrets set --rotate-every) is due.");
    append_sample(out, "lockbox_secrets_rotation_due",
                  static_cast<std::uint64_t>(*secrets_rotation_due));
  }
  append_family(out, "lockbox_up", "gauge", "1 while the server is serving.");
  out += "lockbox_up 1\n";
  return out;
}

}  // namespace lockbox::api
