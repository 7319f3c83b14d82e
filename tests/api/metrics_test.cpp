// Unit tests of api/metrics: the Prometheus text format 0.0.4 of `GET /metrics`, its label
// escaping and histograms, and exact totals under concurrent observers.

#include "api/metrics.hpp"

#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace lockbox::api {
namespace {

using std::chrono::microseconds;

RequestRecord record(std::string method, std::string route, int status, std::int64_t us) {
  RequestRecord r;
  r.method = std::move(method);
  r.route = std::move(route);
  r.status = status;
  r.duration = microseconds(us);
  r.peer = "127.0.0.1";
  return r;
}

std::vector<std::string> lines_of(const std::string& page) {
  std::vector<std::string> lines;
  std::istringstream in(page);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

// The value of the sample whose name and labels are exactly `series`, or "" when absent.
std::string value_of(const std::string& page, const std::string& series) {
  for (const std::string& line : lines_of(page)) {
    if (line.rfind(series + " ", 0) == 0) return line.substr(series.size() + 1);
  }
  return "";
}

bool has_line(const std::string& page, const std::string& wanted) {
  for (const std::string& line : lines_of(page)) {
    if (line == wanted) return true;
  }
  return false;
}

const char* const kSecretRoute = "/api/v1/admin/secrets/{name}";

TEST_CASE("metrics page declares HELP and TYPE for every family before its samples", "[metrics]") {
  Metrics metrics;
  metrics.observe_request(record("GET", kSecretRoute, 200, 700));
  const std::string page = metrics.render(12.5);
  REQUIRE(!page.empty());
  CHECK(page.back() == '\n');

  // Every sample's metric name belongs to the family most recently declared by a TYPE line
  // (a histogram's series carry the _bucket, _sum and _count suffixes), and HELP precedes TYPE.
  std::set<std::string> families;
  std::string help, family, type;
  for (const std::string& line : lines_of(page)) {
    INFO(line);
    if (line.rfind("# HELP ", 0) == 0) {
      help = line.substr(7, line.find(' ', 7) - 7);
      continue;
    }
    if (line.rfind("# TYPE ", 0) == 0) {
      family = line.substr(7, line.find(' ', 7) - 7);
      type = line.substr(line.find(' ', 7) + 1);
      CHECK(help == family);
      CHECK((type == "counter" || type == "gauge" || type == "histogram"));
      CHECK(families.insert(family).second);
      continue;
    }
    REQUIRE(!family.empty());
    const std::string name = line.substr(0, line.find_first_of("{ "));
    if (type == "histogram") {
      CHECK((name == family + "_bucket" || name == family + "_sum" || name == family + "_count"));
    } else {
      CHECK(name == family);
    }
  }
  CHECK(families == std::set<std::string>{
                        "lockbox_http_requests_total", "lockbox_http_request_duration_seconds",
                        "lockbox_resolves_total", "lockbox_resolved_secrets_total",
                        "lockbox_decrypt_failures_total", "lockbox_auth_failures_total",
                        "lockbox_active_key_age_seconds", "lockbox_up"});
  CHECK(has_line(page, "# TYPE lockbox_http_requests_total counter"));
  CHECK(has_line(page, "# TYPE lockbox_http_request_duration_seconds histogram"));
  CHECK(has_line(page, "# TYPE lockbox_active_key_age_seconds gauge"));
  CHECK(has_line(page, "lockbox_up 1"));
}

TEST_CASE("metrics count requests by method, route template and status", "[metrics]") {
  Metrics metrics;
  metrics.observe_request(record("GET", kSecretRoute, 200, 100));
  metrics.observe_request(record("GET", kSecretRoute, 200, 100));
  metrics.observe_request(record("GET", kSecretRoute, 404, 100));
  metrics.observe_request(record("POST", "/api/v1/resolve", 200, 100));
  const std::string page = metrics.render(std::nullopt);
  CHECK(has_line(
      page,
      R"(lockbox_http_requests_total{method="GET",route="/api/v1/admin/secrets/{name}",status="200"} 2)"));
  CHECK(has_line(
      page,
      R"(lockbox_http_requests_total{method="GET",route="/api/v1/admin/secrets/{name}",status="404"} 1)"));
  CHECK(has_line(
      page,
      R"(lockbox_http_requests_total{method="POST",route="/api/v1/resolve",status="200"} 1)"));
}

TEST_CASE("metrics label requests no route matched as route=\"unmatched\"", "[metrics]") {
  Metrics metrics;
  metrics.observe_request(record("GET", "", 404, 100));
  const std::string page = metrics.render(std::nullopt);
  CHECK(has_line(page,
                 R"(lockbox_http_requests_total{method="GET",route="unmatched",status="404"} 1)"));
  CHECK(has_line(page, R"(lockbox_http_request_duration_seconds_count{route="unmatched"} 1)"));
  CHECK(page.find("route=\"\"") == std::string::npos);
}

TEST_CASE("metrics escape backslash, double quote and newline in label values", "[metrics]") {
  Metrics metrics;
  metrics.observe_request(record("GET", "/a\\b\"c\nd", 200, 100));
  const std::string page = metrics.render(std::nullopt);
  CHECK(has_line(
      page, R"(lockbox_http_requests_total{method="GET",route="/a\\b\"c\nd",status="200"} 1)"));
  CHECK(has_line(page, R"(lockbox_http_request_duration_seconds_count{route="/a\\b\"c\nd"} 1)"));
  // The raw newline never reaches the page: every line is a comment or a complete sample.
  for (const std::string& line : lines_of(page)) {
    INFO(line);
    CHECK((line.rfind("# ", 0) == 0 || line.rfind("lockbox_", 0) == 0));
  }
}

TEST_CASE("metrics fold methods outside the standard set into method=\"other\"", "[metrics]") {
  Metrics metrics;
  metrics.observe_request(record("BREW", "", 400, 100));
  metrics.observe_request(record("get", "", 400, 100));
  metrics.observe_request(record("PUT", kSecretRoute, 200, 100));
  const std::string page = metrics.render(std::nullopt);
  CHECK(has_line(
      page, R"(lockbox_http_requests_total{method="other",route="unmatched",status="400"} 2)"));
  CHECK(has_line(
      page,
      R"(lockbox_http_requests_total{method="PUT",route="/api/v1/admin/secrets/{name}",status="200"} 1)"));
  CHECK(page.find("BREW") == std::string::npos);
}

TEST_CASE("metrics histogram buckets are cumulative, inclusive, with sum and count", "[metrics]") {
  Metrics metrics;
  // 400 us and exactly 500 us fall in le=0.0005 (upper bounds are inclusive); 3 ms in le=0.005;
  // 3 s only in +Inf.
  for (const std::int64_t us : {400, 500, 3000, 3'000'000}) {
    metrics.observe_request(record("GET", "/api/v1/health", 200, us));
  }
  const std::string page = metrics.render(std::nullopt);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"0.0005", "2"}, {"0.001", "2"}, {"0.0025", "2"}, {"0.005", "3"}, {"0.01", "3"},
      {"0.025", "3"},  {"0.05", "3"},  {"0.1", "3"},    {"0.25", "3"},  {"0.5", "3"},
      {"1", "3"},      {"2.5", "3"},   {"+Inf", "4"}};
  std::vector<std::string> order;
  for (const std::string& line : lines_of(page)) {
    if (line.rfind("lockbox_http_request_duration_seconds_bucket{", 0) == 0) order.push_back(line);
  }
  REQUIRE(order.size() == expected.size());
  for (std::size_t i = 0; i < expected.size(); ++i) {
    CHECK(order[i] ==
          R"(lockbox_http_request_duration_seconds_bucket{route="/api/v1/health",le=")" +
              expected[i].first + "\"} " + expected[i].second);
  }
  CHECK(value_of(page, R"(lockbox_http_request_duration_seconds_sum{route="/api/v1/health"})") ==
        "3.003900");
  CHECK(value_of(page, R"(lockbox_http_request_duration_seconds_count{route="/api/v1/health"})") ==
        "4");
}

TEST_CASE("metrics keep one histogram per route, whatever the method and status", "[metrics]") {
  Metrics metrics;
  metrics.observe_request(record("GET", kSecretRoute, 200, 20'000));
  metrics.observe_request(record("DELETE", kSecretRoute, 403, 20'000));
  metrics.observe_request(record("POST", "/api/v1/resolve", 200, 1'500));
  metrics.observe_request(record("GET", kSecretRoute, 200, -5));  // a clock step: counted as 0
  const std::string page = metrics.render(std::nullopt);
  const std::string secret = R"({route="/api/v1/admin/secrets/{name}")";
  CHECK(value_of(page, "lockbox_http_request_duration_seconds_count" + secret + "}") == "3");
  CHECK(value_of(page, "lockbox_http_request_duration_seconds_sum" + secret + "}") == "0.040000");
  CHECK(value_of(page, "lockbox_http_request_duration_seconds_bucket" + secret +
                           R"(,le="0.0005"})") == "1");
  CHECK(value_of(page, "lockbox_http_request_duration_seconds_bucket" + secret +
                           R"(,le="0.025"})") == "3");
  CHECK(value_of(page, R"(lockbox_http_request_duration_seconds_count{route="/api/v1/resolve"})") ==
        "1");
}

TEST_CASE("metrics add resolves, resolved secrets, decrypt and auth failures", "[metrics]") {
  Metrics metrics;
  const std::string empty = metrics.render(std::nullopt);
  CHECK(value_of(empty, "lockbox_resolves_total") == "0");
  CHECK(value_of(empty, "lockbox_resolved_secrets_total") == "0");
  CHECK(value_of(empty, "lockbox_decrypt_failures_total") == "0");
  CHECK(value_of(empty, "lockbox_auth_failures_total") == "0");
  metrics.add_resolve(50);
  metrics.add_resolve(0);
  metrics.add_resolve(7);
  metrics.add_decrypt_failure();
  metrics.add_auth_failure();
  metrics.add_auth_failure();
  const std::string page = metrics.render(std::nullopt);
  CHECK(value_of(page, "lockbox_resolves_total") == "3");
  CHECK(value_of(page, "lockbox_resolved_secrets_total") == "57");
  CHECK(value_of(page, "lockbox_decrypt_failures_total") == "1");
  CHECK(value_of(page, "lockbox_auth_failures_total") == "2");
  CHECK(has_line(page, "# TYPE lockbox_resolves_total counter"));
}

TEST_CASE("metrics write the active key age gauge only when given", "[metrics]") {
  Metrics metrics;
  const std::string without = metrics.render(std::nullopt);
  CHECK(without.find("lockbox_active_key_age_seconds") == std::string::npos);
  CHECK(has_line(without, "lockbox_up 1"));
  const std::string with = metrics.render(86400.25);
  CHECK(has_line(with, "# TYPE lockbox_active_key_age_seconds gauge"));
  CHECK(has_line(with, "lockbox_active_key_age_seconds 86400.25"));
  CHECK(has_line(metrics.render(0.0), "lockbox_active_key_age_seconds 0"));
  CHECK(has_line(with, "lockbox_up 1"));
}

TEST_CASE("metrics output is sorted the same whatever the order of observations", "[metrics]") {
  const std::vector<RequestRecord> records = {record("POST", "/api/v1/resolve", 200, 900),
                                              record("GET", kSecretRoute, 404, 10),
                                              record("GET", "", 404, 10),
                                              record("DELETE", kSecretRoute, 200, 10),
                                              record("GET", kSecretRoute, 200, 10),
                                              record("GET", "/api/v1/health", 200, 10)};
  Metrics forward, backward;
  for (const auto& r : records) forward.observe_request(r);
  for (auto it = records.rbegin(); it != records.rend(); ++it) backward.observe_request(*it);
  const std::string page = forward.render(1.0);
  CHECK(page == backward.render(1.0));
  CHECK(page.find("lockbox_up 1") > page.find("lockbox_active_key_age_seconds 1"));
  const auto at = [&](const std::string& s) { return page.find(s); };
  CHECK(at(R"(route="/api/v1/admin/secrets/{name}",status="200")") <
        at(R"(route="/api/v1/admin/secrets/{name}",status="404")"));
  CHECK(at(R"(method="DELETE",route="/api/v1/admin/secrets/{name}")") <
        at(R"(method="GET",route="/api/v1/admin/secrets/{name}")"));
}

TEST_CASE("metrics totals are exact with concurrent observers and scrapes", "[metrics]") {
  Metrics metrics;
  constexpr int kThreads = 8;
  constexpr int kPerThread = 20'000;
  std::atomic<bool> done{false};
  int scrapes = 0;
  bool scrapes_complete = true;  // checked after the join: Catch2 assertions are not thread-safe
  std::thread scraper([&] {
    while (!done.load()) {
      scrapes_complete = scrapes_complete && has_line(metrics.render(1.0), "lockbox_up 1");
      ++scrapes;
    }
  });
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&metrics, t] {
      for (int i = 0; i < kPerThread; ++i) {
        const bool resolve = (i + t) % 2 == 0;
        metrics.observe_request(resolve ? record("POST", "/api/v1/resolve", 200, 1'000)
                                        : record("GET", kSecretRoute, i % 4 == 1 ? 404 : 200, 3));
        if (resolve) metrics.add_resolve(50);
        if (i % 100 == 0) metrics.add_auth_failure();
        if (i % 1000 == 0) metrics.add_decrypt_failure();
      }
    });
  }
  for (auto& thread : threads) thread.join();
  done.store(true);
  scraper.join();
  CHECK(scrapes > 0);
  CHECK(scrapes_complete);

  const std::string page = metrics.render(std::nullopt);
  constexpr int kTotal = kThreads * kPerThread;
  CHECK(value_of(
            page,
            R"(lockbox_http_requests_total{method="POST",route="/api/v1/resolve",status="200"})") ==
        std::to_string(kTotal / 2));
  // Only even threads send GETs for odd i, and half of those (i ≡ 1 mod 4) are answered 404.
  const int get_404 = kThreads / 2 * (kPerThread / 4);
  CHECK(
      value_of(
          page,
          R"(lockbox_http_requests_total{method="GET",route="/api/v1/admin/secrets/{name}",status="404"})") ==
      std::to_string(get_404));
  CHECK(
      value_of(
          page,
          R"(lockbox_http_requests_total{method="GET",route="/api/v1/admin/secrets/{name}",status="200"})") ==
      std::to_string(kTotal / 2 - get_404));
  CHECK(value_of(page, R"(lockbox_http_request_duration_seconds_count{route="/api/v1/resolve"})") ==
        std::to_string(kTotal / 2));
  CHECK(value_of(page, R"(lockbox_http_request_duration_seconds_sum{route="/api/v1/resolve"})") ==
        "80.000000");
  CHECK(value_of(page, "lockbox_resolves_total") == std::to_string(kTotal / 2));
  CHECK(value_of(page, "lockbox_resolved_secrets_total") == std::to_string(kTotal / 2 * 50));
  CHECK(value_of(page, "lockbox_auth_failures_total") ==
        std::to_string(kThreads * kPerThread / 100));
  CHECK(value_of(page, "lockbox_decrypt_failures_total") ==
        std::to_string(kThreads * kPerThread / 1000));
}

}  // namespace
}  // namespace lockbox::api
