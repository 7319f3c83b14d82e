#pragma once
// The child's environment (SPEC §3), built as a map so no name appears twice (libc takes the
// first duplicate, dash the last), then emitted into one contiguous buffer that is wiped when
// this object dies, right after the spawn.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret_value.hpp"
#include "core/status.hpp"

namespace lockbox::launcher {

class ChildEnvironment {
 public:
  // Starts from `host` ("NAME=value" entries), dropping every LOCKBOX_* variable and the names in
  // `consumed` (prefixed overrides, re-emitted later with their final values). With `pristine`,
  // keeps only PATH HOME USER LOGNAME LANG LC_* TZ TERM.
  static ChildEnvironment from_host(const std::vector<std::string_view>& host,
                                    const std::vector<std::string>& consumed, bool pristine);

  // Sets (or replaces) a variable.
  void set(const std::string& name, SecretValue value);
  void erase(const std::string& name) { vars_.erase(name); }
  [[nodiscard]] const SecretValue* find(const std::string& name) const;
  [[nodiscard]] std::size_t size() const { return vars_.size(); }
  // Wipes every value and the emitted buffer (called right after the spawn).
  void clear();

  // Checks the execve limits for this environment plus `argv`: each string at most
  // MAX_ARG_STRLEN (32 pages), and all strings and pointers within sysconf(_SC_ARG_MAX).
  // kBadInput suggesting --deliver file when too large (E2BIG caught before spawn).
  [[nodiscard]] Status check_exec_limits(const std::vector<std::string>& argv) const;

  // NUL-terminated "NAME=value" pointers into an internal wiping buffer, valid until the next
  // change or destruction. Sorted by name.
  const char* const* envp();

 private:
  std::map<std::string, SecretValue> vars_;
  SecretValue block_;
  std::vector<const char*> pointers_;
};

// The host environment of this process as "NAME=value" views (into environ).
std::vector<std::string_view> host_environment();

}  // namespace lockbox::launcher
