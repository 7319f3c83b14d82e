#include "core/fault.hpp"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

#include <unistd.h>

namespace lockbox::fault {
#ifdef LOCKBOX_TEST_SEAMS
namespace {

struct Selection {
  std::string name;   // empty: no fault selected
  long hit = 1;
};

const Selection& selection() {
  static const Selection selected = [] {
    Selection s;
    const char* env = std::getenv("LOCKBOX_FAULT");
    if (env == nullptr) return s;
    std::string spec(env);
    if (const auto colon = spec.rfind(':'); colon != std::string::npos) {
      char* end = nullptr;
      const long n = std::strtol(spec.c_str() + colon + 1, &end, 10);
      if (end != nullptr && *end == '\0' && n > 0) {
        s.hit = n;
        spec.resize(colon);
      }
    }
    s.name = spec;
    return s;
  }();
  return selected;
}

std::atomic<long> hits{0};

}  // namespace
#endif

void point(std::string_view name) {
#ifndef LOCKBOX_TEST_SEAMS
  (void)name;  // release builds: no fault injection, whatever the environment says
  return;
#else
  const Selection& s = selection();
  if (s.name.empty() || s.name != name) return;
  if (hits.fetch_add(1) + 1 < s.hit) return;
  ::kill(::getpid(), SIGKILL);
  ::_exit(137);  // not reached
#endif
}

}  // namespace lockbox::fault
