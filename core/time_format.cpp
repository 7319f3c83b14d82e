#include "core/time_format.hpp"

#include <fmt/format.h>

#include <charconv>
#include <ctime>

namespace lockbox {
namespace {

constexpr std::int64_t kSecond = 1000;
constexpr std::int64_t kMinute = 60 * kSecond;
constexpr std::int64_t kHour = 60 * kMinute;
constexpr std::int64_t kDay = 24 * kHour;
constexpr std::int64_t kWeek = 7 * kDay;
constexpr std::int64_t kYear = 365 * kDay;

// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's algorithm).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool read_int(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size()) return false;
  for (std::size_t i = pos; i < pos + len; ++i) {
    if (s[i] < '0' || s[i] > '9') return false;
  }
  return std::from_chars(s.data() + pos, s.data() + pos + len, out).ec == std::errc();
}

}  // namespace

Result<std::int64_t> parse_duration(std::string_view text) {
  const Status bad = bad_input("malformed duration: expected a positive number with a unit s, m, h, d, w or y (e.g. 30s, 7d)");
  if (text.size() < 2 || text.size() > 19 || text[0] < '1' || text[0] > '9') return bad;
  std::int64_t unit = 0;
  switch (text.back()) {
    case 's': unit = kSecond; break;
    case 'm': unit = kMinute; break;
    case 'h': unit = kHour; break;
    case 'd': unit = kDay; break;
    case 'w': unit = kWeek; break;
    case 'y': unit = kYear; break;
    default: return bad;
  }
  std::int64_t n = 0;
  const std::string_view digits = text.substr(0, text.size() - 1);
  const auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), n);
  if (ec != std::errc() || ptr != digits.data() + digits.size()) return bad;
  if (n > INT64_MAX / unit / 2) return bad_input("duration is too large");
  return n * unit;
}

Result<UnixMillis> parse_rfc3339(std::string_view s) {
  const Status bad = bad_input("malformed time: expected RFC 3339, e.g. 2026-01-31T12:00:00Z");
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, se = 0;
  if (s.size() < 20 || !read_int(s, 0, 4, y) || s[4] != '-' || !read_int(s, 5, 2, mo) ||
      s[7] != '-' || !read_int(s, 8, 2, d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') ||
      !read_int(s, 11, 2, h) || s[13] != ':' || !read_int(s, 14, 2, mi) || s[16] != ':' ||
      !read_int(s, 17, 2, se)) {
    return bad;
  }
  static constexpr int kDaysIn[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (mo < 1 || mo > 12 || d < 1 || d > kDaysIn[mo - 1] || h > 23 || mi > 59 || se > 60) return bad;
  const bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  if (mo == 2 && d == 29 && !leap) return bad;
  std::size_t pos = 19;
  std::int64_t frac_ms = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    std::size_t digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0) return bad;
    for (std::size_t i = digits; i < 3; ++i) frac_ms *= 10;
  }
  std::int64_t offset_min = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh = 0, om = 0;
    if (!read_int(s, pos + 1, 2, oh) || pos + 3 >= s.size() || s[pos + 3] != ':' ||
        !read_int(s, pos + 4, 2, om) || oh > 23 || om > 59) {
      return bad;
    }
    offset_min = (s[pos] == '+' ? 1 : -1) * (oh * 60 + om);
    pos += 6;
  } else {
    return bad;
  }
  if (pos != s.size()) return bad;
  const std::int64_t days = days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d));
  const std::int64_t secs = days * 86400 + h * 3600 + mi * 60 + (se == 60 ? 59 : se) - offset_min * 60;
  return secs * 1000 + frac_ms;
}

std::string format_rfc3339(UnixMillis t) {
  std::time_t secs = static_cast<std::time_t>(t >= 0 ? t / 1000 : (t - 999) / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

Result<UnixMillis> parse_time_or_duration(std::string_view text, UnixMillis now, Direction dir) {
  if (!text.empty() && text.size() < 20 && text.back() >= 'a' && text.back() <= 'z') {
    LOCKBOX_ASSIGN_OR_RETURN(const std::int64_t ms, parse_duration(text));
    return dir == Direction::kFuture ? now + ms : now - ms;
  }
  auto t = parse_rfc3339(text);
  if (!t.is_ok()) {
    return bad_input("malformed time or duration: expected e.g. 30d or 2026-01-31T12:00:00Z");
  }
  return t;
}

std::string format_duration_short(std::int64_t ms) {
  const std::int64_t a = ms < 0 ? -ms : ms;
  if (a >= kYear) return fmt::format("{}y", a / kYear);
  if (a >= kDay) return fmt::format("{}d", a / kDay);
  if (a >= kHour) return fmt::format("{}h", a / kHour);
  if (a >= kMinute) return fmt::format("{}m", a / kMinute);
  return fmt::format("{}s", a / kSecond);
}

}  // namespace lockbox
