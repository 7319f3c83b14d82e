#pragma once
// A tiny stderr logger (no spdlog). Levels: error < warn < info < debug. The level comes from -v
// (repeatable) or LOCKBOX_LOG=error|warn|info|debug; default warn.
// Log names, scopes, versions and key ids, never values: no overload accepts a SecretValue.
// Thread-safety: each call writes one line with a single write(2).

#include <fmt/format.h>

#include <string_view>

namespace lockbox::log {

enum class Level { kError = 0, kWarn = 1, kInfo = 2, kDebug = 3 };

void set_level(Level level);
Level level();
// Reads LOCKBOX_LOG; unknown values are ignored.
void init_from_env();
// Writes "lockbox: <level>: <message>\n" to stderr when `lvl` is enabled.
void write(Level lvl, std::string_view message);

template <typename... Args>
void error(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}
// A line for people that is always shown ("lockbox: <message>"), e.g. job attempt reports.
template <typename... Args>
void notice(fmt::format_string<Args...> f, Args&&... args) {
  write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void warn(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::kWarn) write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void info(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::kInfo) write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void debug(fmt::format_string<Args...> f, Args&&... args) {
  if (level() >= Level::kDebug) write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace lockbox::log
