#include "core/time_format.hpp"

#include <catch2/catch.hpp>

using namespace lockbox;

TEST_CASE("durations follow the exact grammar", "[core][time]") {
  CHECK(parse_duration("30s").value() == 30'000);
  CHECK(parse_duration("5m").value() == 300'000);
  CHECK(parse_duration("2h").value() == 7'200'000);
  CHECK(parse_duration("1d").value() == 86'400'000);
  CHECK(parse_duration("1w").value() == 7 * 86'400'000LL);
  CHECK(parse_duration("1y").value() == 365 * 86'400'000LL);
  for (const char* bad : {"", "0s", "01s", "s", "10", "1.5h", "1M", "-1s", " 1s", "1s ", "1d2h",
                          "99999999999999999999y"}) {
    INFO(bad);
    CHECK(parse_duration(bad).status().code() == StatusCode::kBadInput);
  }
}

TEST_CASE("RFC 3339 times parse with offsets and print in UTC with Z", "[core][time]") {
  CHECK(parse_rfc3339("1970-01-01T00:00:00Z").value() == 0);
  CHECK(parse_rfc3339("2026-01-01T00:00:00Z").value() == 1'767'225'600'000);
  CHECK(parse_rfc3339("2026-01-01T01:00:00+01:00").value() == 1'767'225'600'000);
  CHECK(parse_rfc3339("2026-01-01T00:00:00.250Z").value() == 1'767'225'600'250);
  CHECK(format_rfc3339(1'767'225'600'999) == "2026-01-01T00:00:00Z");
  for (const char* bad : {"2026-01-01", "2026-13-01T00:00:00Z", "2026-02-30T00:00:00Z",
                          "2025-02-29T00:00:00Z", "2026-01-01T00:00:00", "2026-01-01T24:00:00Z"}) {
    INFO(bad);
    CHECK_FALSE(parse_rfc3339(bad).is_ok());
  }
}

TEST_CASE("an expiry adds a duration and a since filter subtracts it", "[core][time]") {
  const UnixMillis now = 1'000'000'000;
  CHECK(parse_time_or_duration("1h", now, Direction::kFuture).value() == now + 3'600'000);
  CHECK(parse_time_or_duration("1h", now, Direction::kPast).value() == now - 3'600'000);
  CHECK(parse_time_or_duration("2026-01-01T00:00:00Z", now, Direction::kFuture).value() == 1'767'225'600'000);
  CHECK_FALSE(parse_time_or_duration("tomorrow", now, Direction::kFuture).is_ok());
}
