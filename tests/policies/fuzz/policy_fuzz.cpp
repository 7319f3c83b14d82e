// libFuzzer harness for the policy loader (not part of the default build). Build, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -o policy_fuzz
//     tests/policies/fuzz/policy_fuzz.cpp policies/policy_loader.cpp policies/policy.cpp
//     policies/scope_pattern.cpp policies/internal/yaml_reader.cpp
//     policies/internal/value_readers.cpp core/scope.cpp core/status.cpp core/time_format.cpp
//     core/clock.cpp core/glob.cpp -lyaml-cpp -lfmt
// (one command, from the repository root), then ./policy_fuzz -max_len=4096 (yaml-cpp itself is
// not instrumented). scripts/fuzz.sh runs exactly this command, then the fuzzer on the seed
// corpus in tests/policies/fuzz/policy_corpus.
// It checks the loader's contract on arbitrary bytes: no crash and no escaping exception; an
// error is kBadInput, one printable line, "fuz:" first; a loaded policy holds only valid values
// (names, prefix, resolution, ranges, commands).

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>

#include "core/scope.hpp"
#include "policies/policy_loader.hpp"
#include "policies/scope_pattern.hpp"

namespace {

using lockbox::policies::FunctionPolicy;
using lockbox::policies::Policy;

void check(bool ok) {
  if (!ok) std::abort();
}

bool is_one_printable_line(std::string_view s) {
  return std::all_of(s.begin(), s.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

void check_resolution(const std::vector<lockbox::ScopeKind>& kinds) {
  check(!kinds.empty());
  check(std::set<lockbox::ScopeKind>(kinds.begin(), kinds.end()).size() == kinds.size());
}

void check_function(const std::string& name, const FunctionPolicy& fn, bool is_job) {
  check(fn.name == name && lockbox::is_valid_name(name));
  check(!fn.ns || lockbox::is_valid_name(*fn.ns));
  check(!is_job || !fn.command.empty());
  check(fn.command.empty() || !fn.command.front().empty());
  for (const auto& arg : fn.command) check(arg.find('\0') == std::string::npos);
  for (const auto& req : fn.require) check(lockbox::is_valid_name(req));
  check(fn.retries >= 0 && fn.retries <= 100);
  check(!fn.timeout_ms || *fn.timeout_ms > 0);
}

void check_policy(const Policy& p) {
  check(p.version == 1);
  check_resolution(p.resolution);
  const std::string& prefix = p.inject.prefix;
  check(prefix.empty() || !(prefix[0] >= '0' && prefix[0] <= '9'));
  check(p.limits.max_value_bytes >= 1 && p.limits.max_value_bytes <= std::size_t{16} * 1024 * 1024);
  for (const auto& [name, ns] : p.namespaces) {
    check(lockbox::is_valid_name(name));
    if (ns.resolution) check_resolution(*ns.resolution);
  }
  for (const auto& [name, fn] : p.functions) check_function(name, fn, false);
  for (const auto& [name, job] : p.jobs) check_function(name, job, true);
  for (const auto& [name, role] : p.roles) {
    check(lockbox::is_valid_name(name) && name != "admin");
    for (const auto* list : {&role.read, &role.write, &role.del, &role.reveal, &role.resolve}) {
      for (const auto& pattern : *list) check(lockbox::policies::is_valid_scope_pattern(pattern));
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  const auto result = lockbox::policies::parse_policy(text, "fuz", "/base");
  if (!result.is_ok()) {
    const std::string& message = result.status().message();
    check(result.status().code() == lockbox::StatusCode::kBadInput);
    check(message.rfind("fuz:", 0) == 0);
    check(is_one_printable_line(message));
    return 0;
  }
  check_policy(result.value());
  return 0;
}
