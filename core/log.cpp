#include "core/log.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <string>

namespace lockbox::log {
namespace {
std::atomic<int> g_level{static_cast<int>(Level::kWarn)};
constexpr std::string_view kNames[] = {"error", "warning", "info", "debug"};
}  // namespace

void set_level(Level lvl) { g_level.store(static_cast<int>(lvl)); }
Level level() { return static_cast<Level>(g_level.load()); }

void init_from_env() {
  const char* v = std::getenv("LOCKBOX_LOG");
  if (v == nullptr) return;
  const std::string_view s(v);
  if (s == "error") set_level(Level::kError);
  if (s == "warn") set_level(Level::kWarn);
  if (s == "info") set_level(Level::kInfo);
  if (s == "debug") set_level(Level::kDebug);
}

void write(Level lvl, std::string_view message) {
  if (static_cast<int>(lvl) > g_level.load()) return;
  // Errors read like every other CLI error ("lockbox: <message>"); other levels are labelled.
  std::string line = "lockbox: ";
  if (lvl != Level::kError) {
    line += kNames[static_cast<int>(lvl)];
    line += ": ";
  }
  line += message;
  line += '\n';
  const char* p = line.data();
  std::size_t left = line.size();
  while (left > 0) {
    const ssize_t n = ::write(STDERR_FILENO, p, left);
    if (n <= 0) break;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace lockbox::log
