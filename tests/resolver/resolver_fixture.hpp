#pragma once
// Builders shared by the resolver tests: store heads, env files, a launch to resolve, and a
// one-line-per-variable rendering of a Resolution that shows origin and value side by side.

#include <catch2/catch.hpp>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/scope.hpp"
#include "core/secret_value.hpp"
#include "policies/policy.hpp"
#include "resolver/resolver.hpp"
#include "store/types.hpp"

namespace lockbox::resolver::testing {

inline constexpr UnixMillis kNow = 1'767'225'600'000;  // 2026-01-01T00:00:00Z
inline constexpr std::int64_t kHourMs = 3'600'000;

inline store::SecretMeta head(std::string_view address, std::string name, std::int64_t version = 1,
                              std::optional<UnixMillis> expires_at = std::nullopt) {
  auto scope = Scope::parse(address);
  REQUIRE(scope.is_ok());
  store::SecretMeta meta;
  meta.scope = scope.value();
  meta.name = std::move(name);
  meta.version = version;
  meta.fingerprint = "0123456789abcdef";
  meta.expires_at = expires_at;
  meta.key_id = 1;
  return meta;
}

using Pairs = std::vector<std::pair<std::string, std::string>>;

inline EnvFileLayer env_file(std::string path, const Pairs& entries) {
  EnvFileLayer layer;
  layer.path = std::move(path);
  int line = 0;
  for (const auto& [key, value] : entries) {
    layer.entries.push_back(DotenvEntry{key, SecretValue(value), ++line});
  }
  return layer;
}

inline LaunchContext context_in(std::string ns) {
  LaunchContext context;
  context.ns = std::move(ns);
  return context;
}

// A launch in namespace `production` with the built-in policy; tests adjust the parts they need.
struct Launch {
  policies::Policy policy;
  std::optional<policies::FunctionPolicy> function;
  LaunchContext context = context_in("production");
  std::vector<store::SecretMeta> heads;
  std::vector<EnvFileLayer> env_files;
  std::vector<std::string> host;  // "NAME=value"
  UnixMillis now = kNow;

  Result<Resolution> run() {
    ResolveInput input;
    input.policy = &policy;
    input.context = context;
    input.function = function ? &*function : nullptr;
    input.heads = heads;
    for (const auto& file : env_files) {
      EnvFileLayer copy;
      copy.path = file.path;
      for (const auto& e : file.entries) copy.entries.push_back({e.key, e.value.clone(), e.line});
      input.env_files.push_back(std::move(copy));
    }
    input.host_environ.assign(host.begin(), host.end());
    input.now = now;
    return resolve(input);
  }

  Resolution ok() {
    auto result = run();
    INFO(result.status().message());
    REQUIRE(result.is_ok());
    return std::move(result).value();
  }

  std::string error() {
    auto result = run();
    REQUIRE_FALSE(result.is_ok());
    CHECK(result.status().code() == StatusCode::kBadInput);
    return result.status().message();
  }
};

// "ENV <- ORIGIN" plus "@vN" for the store or " = value" for overrides, in output order.
inline std::vector<std::string> render(const Resolution& resolution) {
  std::vector<std::string> lines;
  for (const auto& var : resolution.variables) {
    std::string line = var.env + " <- " + var.origin.text();
    if (var.origin.kind == Origin::Kind::kStore) {
      line += "@v" + std::to_string(var.origin.version);
    } else {
      line += " = " + std::string(var.value.reveal());
    }
    lines.push_back(std::move(line));
  }
  return lines;
}

inline policies::FunctionPolicy function_policy(std::optional<std::vector<std::string>> secrets,
                                                std::vector<std::string> require = {}) {
  policies::FunctionPolicy fn;
  fn.name = "send-email";
  fn.ns = "production";
  fn.secrets = std::move(secrets);
  fn.require = std::move(require);
  return fn;
}

}  // namespace lockbox::resolver::testing
