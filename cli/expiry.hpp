#pragma once
// Expiry and rotation reminders (SPEC §5 `doctor`, §9 `rotation`): one classification of a
// secret's current version against "now" and the policy, shared by `secrets list` (the NOTES
// column), `secrets get` (the stderr warnings) and `doctor` (its findings), so the three never
// disagree about what "expired", "expiring soon" or "stale" means.
//
//   expired        expires_at <= now
//   expiring soon  now < expires_at <= now + rotation.notify_before
//   stale          now - updated_at > rotation.secret_max_age (no new version for that long;
//                  a rollback or a set with the same value counts as a new version)
//
// A tombstone is never classified (it has nothing left to expire or rotate).
// Thread-safety: pure functions.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/status.hpp"
#include "policies/policy.hpp"
#include "store/types.hpp"

namespace lockbox::cli {

// The last expiry time RFC 3339 can print with a four-digit year: 9999-12-31T23:59:59Z (SPEC §18).
inline constexpr UnixMillis kLatestExpiry = 253'402'300'799'000;

// kBadInput when `at` is after kLatestExpiry ("--expires 9999999y"). Refused rather than clamped:
// a silently shortened expiry is a value the user did not ask for. `what` names the flag.
[[nodiscard]] Status check_expiry_cap(UnixMillis at, std::string_view what);

struct SecretAge {
  bool expired = false;
  bool expiring_soon = false;  // never together with `expired`
  bool stale = false;
  std::int64_t expires_in_ms = 0;  // expires_at - now (negative once expired); 0 when unset
  std::int64_t age_ms = 0;         // now - updated_at

  [[nodiscard]] bool fine() const { return !expired && !expiring_soon && !stale; }
};

// Classifies `meta` (its current version) at `now` under `rotation`. All false for a tombstone.
[[nodiscard]] SecretAge classify_secret(const store::SecretMeta& meta, UnixMillis now,
                                        const policies::RotationPolicy& rotation);

// A duration for people, in s/m/h/d (never weeks or years: "400d" reads better next to a
// `secret_max_age: 180d`): the largest whole unit, plus the next one when the first count is a
// single digit and the remainder is not zero ("3d", "1d 23h", "2h 5m", "42s"). Rounds down; the
// sign is ignored.
[[nodiscard]] std::string format_human_duration(std::int64_t ms);

// "expired 3d ago" / "expires in 2d" / "" (not expired and not expiring soon).
[[nodiscard]] std::string expiry_label(const SecretAge& age);
// "not rotated for 200d" / "".
[[nodiscard]] std::string stale_label(const SecretAge& age);
// The labels that apply, joined with "; " ("expired 3d ago; not rotated for 200d"), or "" when
// the secret is fine: the NOTES cell of `secrets list`.
[[nodiscard]] std::string age_notes(const SecretAge& age);

}  // namespace lockbox::cli
