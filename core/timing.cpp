#include "core/timing.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <cstdint>
#include <cstdlib>
#include <ctime>
#include <string>
#include <vector>

#include <fmt/format.h>

namespace lockbox::timing {
namespace {

std::int64_t now_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<std::int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

long minor_faults() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_minflt;
}

struct Phase {
  const char* name;
  std::int64_t ns;
  long faults;  // minor page faults in the phase: ~25 us each on these VMs
};

struct State {
  bool enabled = false;
  bool reported = false;
  std::int64_t last = 0;
  long last_faults = 0;
  std::vector<Phase> phases;

  State() {
    const char* v = std::getenv("LOCKBOX_TIMING");
    enabled = v != nullptr && *v != '\0';
    if (!enabled) return;
    last = now_ns();
    last_faults = minor_faults();
    const long long spawned = std::strtoll(v, nullptr, 10);
    if (spawned > 1'000'000 && spawned < last) phases.push_back({"exec+load", last - spawned, last_faults});
  }
};

State& state() {
  static State s;
  return s;
}

}  // namespace

bool enabled() { return state().enabled; }

void mark(const char* phase) {
  State& s = state();
  if (!s.enabled) return;
  const std::int64_t t = now_ns();
  const long f = minor_faults();
  s.phases.push_back({phase, t - s.last, f - s.last_faults});
  s.last = t;
  s.last_faults = f;
}

void report() {
  State& s = state();
  if (!s.enabled || s.reported) return;
  s.reported = true;
  std::string line = "lockbox timing:";
  for (const Phase& p : s.phases) {
    line += fmt::format(" {}={:.3f}ms/{}pf", p.name, static_cast<double>(p.ns) / 1e6, p.faults);
  }
  line += '\n';
  (void)!::write(STDERR_FILENO, line.data(), line.size());
}

}  // namespace lockbox::timing
