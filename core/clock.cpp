#include "core/clock.hpp"

#include <chrono>
#include <cstdlib>

#include "core/log.hpp"
#include "core/time_format.hpp"

namespace lockbox {

UnixMillis SystemClock::now() const {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

const SystemClock& SystemClock::instance() {
  static const SystemClock clock;
  return clock;
}

namespace {

class OffsetClock final : public Clock {
 public:
  explicit OffsetClock(std::int64_t offset_ms) : offset_ms_(offset_ms) {}
  [[nodiscard]] UnixMillis now() const override { return SystemClock::instance().now() + offset_ms_; }

 private:
  std::int64_t offset_ms_;
};

const Clock& make_process_clock() {
#ifndef LOCKBOX_TEST_SEAMS
  return SystemClock::instance();  // a release build never lets the environment move its clock
#else
  const char* fake = std::getenv("LOCKBOX_TEST_NOW");
  if (fake == nullptr || *fake == '\0') return SystemClock::instance();
  auto start = parse_rfc3339(fake);
  if (!start.is_ok()) {
    log::warn("LOCKBOX_TEST_NOW is not an RFC 3339 time; using the system clock");
    return SystemClock::instance();
  }
  static const OffsetClock clock(*start - SystemClock::instance().now());
  return clock;
#endif
}

}  // namespace

const Clock& process_clock() {
  static const Clock& clock = make_process_clock();
  return clock;
}

}  // namespace lockbox
