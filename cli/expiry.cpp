#include "cli/expiry.hpp"

#include <fmt/format.h>

#include <array>

namespace lockbox::cli {
namespace {

struct Unit {
  std::int64_t ms;
  const char* suffix;
};

constexpr std::array<Unit, 4> kUnits = {{
    {86'400'000, "d"},
    {3'600'000, "h"},
    {60'000, "m"},
    {1'000, "s"},
}};

}  // namespace

Status check_expiry_cap(UnixMillis at, std::string_view what) {
  if (at <= kLatestExpiry) return Status::ok();
  return bad_input(fmt::format("{}: expiry times end at 9999-12-31T23:59:59Z", what));
}

SecretAge classify_secret(const store::SecretMeta& meta, UnixMillis now,
                          const policies::RotationPolicy& rotation) {
  SecretAge age;
  if (meta.tombstone) return age;
  age.age_ms = now - meta.updated_at;
  age.stale = age.age_ms > rotation.secret_max_age_ms;
  if (meta.expires_at) {
    age.expires_in_ms = *meta.expires_at - now;
    age.expired = age.expires_in_ms <= 0;
    age.expiring_soon = !age.expired && age.expires_in_ms <= rotation.notify_before_ms;
  }
  return age;
}

std::string format_human_duration(std::int64_t ms) {
  const std::int64_t a = ms < 0 ? -ms : ms;
  for (std::size_t i = 0; i < kUnits.size(); ++i) {
    const std::int64_t count = a / kUnits[i].ms;
    if (count == 0 && i + 1 < kUnits.size()) continue;
    std::string out = fmt::format("{}{}", count, kUnits[i].suffix);
    // "1d" for 47 hours would undersell an expiry; two units only while the first is small.
    if (count < 10 && i + 1 < kUnits.size()) {
      const std::int64_t rest = (a % kUnits[i].ms) / kUnits[i + 1].ms;
      if (rest > 0) out += fmt::format(" {}{}", rest, kUnits[i + 1].suffix);
    }
    return out;
  }
  return "0s";  // unreachable: the last unit always returns
}

std::string expiry_label(const SecretAge& age) {
  if (age.expired) return "expired " + format_human_duration(age.expires_in_ms) + " ago";
  if (age.expiring_soon) return "expires in " + format_human_duration(age.expires_in_ms);
  return "";
}

std::string stale_label(const SecretAge& age) {
  if (!age.stale) return "";
  return "not rotated for " + format_human_duration(age.age_ms);
}

std::string age_notes(const SecretAge& age) {
  std::string expiry = expiry_label(age);
  const std::string stale = stale_label(age);
  if (!expiry.empty() && !stale.empty()) return expiry + "; " + stale;
  return expiry.empty() ? stale : expiry;
}

}  // namespace lockbox::cli
