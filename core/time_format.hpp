#pragma once
// Durations and times (SPEC §1, exact): durations match ^[1-9][0-9]*(s|m|h|d|w|y)$ with m = minutes
// and y = 365 days; times are RFC 3339, printed in UTC with a trailing Z.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/clock.hpp"
#include "core/status.hpp"

namespace lockbox {

// Milliseconds of a duration; kBadInput "malformed duration" otherwise (the text is not echoed).
Result<std::int64_t> parse_duration(std::string_view text);

// Parses an RFC 3339 date-time ("2026-01-02T03:04:05Z", fractional seconds and +hh:mm offsets
// accepted) into Unix milliseconds.
Result<UnixMillis> parse_rfc3339(std::string_view text);

// "2026-01-02T03:04:05Z" (second precision, UTC).
std::string format_rfc3339(UnixMillis t);

// A duration or a time. kFuture (for --expires) adds a duration to now; kPast (for --since)
// subtracts it.
enum class Direction { kFuture, kPast };
Result<UnixMillis> parse_time_or_duration(std::string_view text, UnixMillis now, Direction dir);

// "3d", "5h", "42s": the largest whole unit, for people.
std::string format_duration_short(std::int64_t ms);

}  // namespace lockbox
