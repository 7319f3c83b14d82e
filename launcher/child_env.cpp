#include "launcher/child_env.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>

#include <fmt/format.h>

extern char** environ;

namespace lockbox::launcher {
namespace {

constexpr std::array<std::string_view, 7> kPristineNames = {"PATH", "HOME", "USER", "LOGNAME",
                                                            "LANG", "TZ", "TERM"};

bool kept_when_pristine(std::string_view name) {
  return name.starts_with("LC_") ||
         std::find(kPristineNames.begin(), kPristineNames.end(), name) != kPristineNames.end();
}

std::size_t max_arg_strlen() {
  const long page = sysconf(_SC_PAGESIZE);
  return static_cast<std::size_t>(page > 0 ? page : 4096) * 32;
}

}  // namespace

std::vector<std::string_view> host_environment() {
  std::vector<std::string_view> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

ChildEnvironment ChildEnvironment::from_host(const std::vector<std::string_view>& host,
                                             const std::vector<std::string>& consumed, bool pristine) {
  ChildEnvironment env;
  for (std::string_view entry : host) {
    const std::size_t eq = entry.find('=');
    if (eq == std::string_view::npos || eq == 0) continue;
    const std::string name(entry.substr(0, eq));
    if (name.starts_with("LOCKBOX_")) continue;
    if (std::find(consumed.begin(), consumed.end(), name) != consumed.end()) continue;
    if (pristine && !kept_when_pristine(name)) continue;
    // First occurrence wins, as getenv() sees it.
    if (env.vars_.count(name) == 0) env.vars_.emplace(name, SecretValue(entry.substr(eq + 1)));
  }
  return env;
}

void ChildEnvironment::set(const std::string& name, SecretValue value) {
  vars_.insert_or_assign(name, std::move(value));
}

void ChildEnvironment::clear() {
  vars_.clear();  // SecretValue destructors wipe
  pointers_.clear();
  block_.clear();
}

const SecretValue* ChildEnvironment::find(const std::string& name) const {
  auto it = vars_.find(name);
  return it == vars_.end() ? nullptr : &it->second;
}

Status ChildEnvironment::check_exec_limits(const std::vector<std::string>& argv) const {
  const std::size_t per_string = max_arg_strlen();
  std::size_t total = 0;
  for (const auto& [name, value] : vars_) {
    const std::size_t len = name.size() + 1 + value.size() + 1;
    if (len > per_string) {
      return bad_input(fmt::format("{} is too large for the environment ({} bytes, the limit per "
                                   "variable is {}); use --deliver file",
                                   name, len, per_string));
    }
    total += len + sizeof(char*);
  }
  for (const auto& arg : argv) total += arg.size() + 1 + sizeof(char*);
  const long arg_max = sysconf(_SC_ARG_MAX);
  if (arg_max > 0 && total > static_cast<std::size_t>(arg_max)) {
    return bad_input(fmt::format("the environment is too large for execve ({} bytes, the limit is "
                                 "{}); use --deliver file",
                                 total, arg_max));
  }
  return Status::ok();
}

const char* const* ChildEnvironment::envp() {
  std::size_t bytes = 0;
  for (const auto& [name, value] : vars_) bytes += name.size() + value.size() + 2;
  block_.clear();
  std::uint8_t* out = block_.resize_for_write(bytes);
  std::vector<std::size_t> offsets;
  offsets.reserve(vars_.size());
  std::size_t pos = 0;
  for (const auto& [name, value] : vars_) {
    offsets.push_back(pos);
    std::copy(name.begin(), name.end(), out + pos);
    pos += name.size();
    out[pos++] = '=';
    const std::string_view v = value.reveal();
    std::copy(v.begin(), v.end(), out + pos);
    pos += v.size();
    out[pos++] = '\0';
  }
  pointers_.clear();
  const char* base = block_.reveal().data();
  for (std::size_t off : offsets) pointers_.push_back(base + off);
  pointers_.push_back(nullptr);
  return pointers_.data();
}

}  // namespace lockbox::launcher
