#pragma once
// Clock: an injected seam so expiry, TTL and rotation tests need no sleeping.
// Times are Unix milliseconds (UTC) throughout lockbox.
// Thread-safety: SystemClock is thread-safe; FakeClock is not.

#include <cstdint>

namespace lockbox {

using UnixMillis = std::int64_t;

class Clock {
 public:
  virtual ~Clock() = default;
  [[nodiscard]] virtual UnixMillis now() const = 0;
};

class SystemClock final : public Clock {
 public:
  [[nodiscard]] UnixMillis now() const override;
  // A process-wide instance.
  static const SystemClock& instance();
};

// The clock of this lockbox process: the system clock, or, when LOCKBOX_TEST_NOW holds an RFC 3339
// time, one that starts at that time and advances with the system clock. A test seam (expiry,
// token TTL and rotation tests without sleeping); read once, on first use. Only test builds
// (-DLOCKBOX_TEST_SEAMS=ON) honour it; a release build always uses the system clock.
const Clock& process_clock();

class FakeClock final : public Clock {
 public:
  explicit FakeClock(UnixMillis start) : now_(start) {}
  [[nodiscard]] UnixMillis now() const override { return now_; }
  void set(UnixMillis t) { now_ = t; }
  void advance(std::int64_t ms) { now_ += ms; }

 private:
  UnixMillis now_;
};

}  // namespace lockbox
