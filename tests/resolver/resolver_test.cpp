// SPEC §2 store resolution (scope order, expiry without fall-through), per-function policy
// (`secrets` allow-list across origins, `require`), the name helpers, and the rule that no value
// ever reaches a warning or an error.

#include "resolver/resolver.hpp"

#include <algorithm>
#include <catch2/catch.hpp>
#include <random>
#include <string>
#include <vector>

#include "tests/resolver/resolver_fixture.hpp"

namespace {

using lockbox::Scope;
using lockbox::ScopeKind;
using lockbox::policies::EnvOverride;
using lockbox::policies::NameTransform;
using lockbox::policies::OnExpired;
using lockbox::resolver::glob_match;
using lockbox::resolver::LaunchContext;
using lockbox::resolver::Origin;
using lockbox::resolver::scope_chain;
using lockbox::resolver::transform_name;
using lockbox::resolver::testing::env_file;
using lockbox::resolver::testing::function_policy;
using lockbox::resolver::testing::head;
using lockbox::resolver::testing::kHourMs;
using lockbox::resolver::testing::kNow;
using lockbox::resolver::testing::Launch;
using lockbox::resolver::testing::render;
using Lines = std::vector<std::string>;

std::vector<std::string> addresses(const std::vector<Scope>& chain) {
  std::vector<std::string> out;
  out.reserve(chain.size());
  for (const auto& scope : chain) out.push_back(scope.address());
  return out;
}

TEST_CASE("scope_chain lists only the scopes the context gives, most specific first",
          "[resolver]") {
  lockbox::policies::Policy policy;
  LaunchContext full{"production", "send-email", "team-a", "key1"};
  CHECK(addresses(scope_chain(policy, full)) == Lines{"apikey:key1", "group:team-a",
                                                      "function:production/send-email",
                                                      "namespace:production", "global"});
  CHECK(addresses(scope_chain(policy, LaunchContext{})) == Lines{"namespace:default", "global"});
  LaunchContext fn_only = lockbox::resolver::testing::context_in("dev");
  fn_only.function = "job";
  CHECK(addresses(scope_chain(policy, fn_only)) ==
        Lines{"function:dev/job", "namespace:dev", "global"});
}

TEST_CASE("a namespace's own resolution order can drop caller scopes", "[resolver]") {
  lockbox::policies::Policy policy;
  policy.namespaces["production"].resolution =
      std::vector<ScopeKind>{ScopeKind::kFunction, ScopeKind::kNamespace, ScopeKind::kGlobal};
  LaunchContext prod{"production", "send-email", "team-a", "key1"};
  CHECK(addresses(scope_chain(policy, prod)) ==
        Lines{"function:production/send-email", "namespace:production", "global"});
  LaunchContext staging{"staging", "send-email", "team-a", "key1"};
  CHECK(scope_chain(policy, staging).size() == 5);

  // An apikey head handed in anyway (a sloppy caller) must not win in production.
  Launch launch;
  launch.policy = policy;
  launch.context = prod;
  launch.heads = {head("apikey:key1", "A"), head("group:team-a", "A"),
                  head("namespace:production", "A", 7)};
  CHECK(render(launch.ok()) == Lines{"FLUXBASE_SECRET_A <- namespace:production@v7"});
}

TEST_CASE("the store layer takes apikey > group > function > namespace > global", "[resolver]") {
  std::vector<lockbox::store::SecretMeta> heads = {
      head("global", "A", 1), head("namespace:production", "A", 2),
      head("function:production/fn", "A", 3), head("group:g", "A", 4), head("apikey:k", "A", 5)};
  const Lines winners = {"apikey:k@v5", "group:g@v4", "function:production/fn@v3",
                         "namespace:production@v2", "global@v1"};
  std::mt19937 shuffle_rng(42);
  for (std::size_t i = 0; i < winners.size(); ++i) {
    INFO("most specific present: " << winners[i]);
    Launch launch;
    launch.context = LaunchContext{"production", "fn", "g", "k"};
    launch.heads = heads;
    std::shuffle(launch.heads.begin(), launch.heads.end(), shuffle_rng);  // any order
    CHECK(render(launch.ok()) == Lines{"FLUXBASE_SECRET_A <- " + winners[i]});
    // Remove the winner's scope for the next row.
    heads.pop_back();
  }
}

TEST_CASE("heads of scopes outside the context's chain are ignored", "[resolver]") {
  Launch launch;  // no function, group or apikey
  launch.heads = {head("apikey:k", "A"), head("function:production/fn", "B"),
                  head("namespace:staging", "C"), head("global", "D")};
  CHECK(render(launch.ok()) == Lines{"FLUXBASE_SECRET_D <- global@v1"});
}

TEST_CASE("an expired winner is skipped with a warning and does not fall through", "[resolver]") {
  Launch launch;
  launch.context.apikey = "k";
  launch.heads = {head("apikey:k", "A", 4, kNow), head("namespace:production", "A", 2),
                  head("global", "B", 1, kNow + 1), head("global", "C", 1, kNow - kHourMs)};
  const auto resolution = launch.ok();
  CHECK(render(resolution) == Lines{"FLUXBASE_SECRET_B <- global@v1"});
  CHECK(resolution.variables[0].expires_at == kNow + 1);
  CHECK(resolution.warnings ==
        Lines{"A from apikey:k@v4 expired at 2026-01-01T00:00:00Z; not injected",
              "C from global@v1 expired at 2025-12-31T23:00:00Z; not injected"});
}

TEST_CASE("an expired stored secret can still be overridden by an env file", "[resolver]") {
  Launch launch;
  launch.heads = {head("global", "A", 1, kNow - 1)};
  launch.env_files.push_back(env_file("dev.env", {{"A", "local"}}));
  const auto resolution = launch.ok();
  CHECK(render(resolution) == Lines{"FLUXBASE_SECRET_A <- env-file:dev.env = local"});
  CHECK(resolution.warnings.size() == 1);
}

TEST_CASE("on_expired fail stops the launch naming the secret", "[resolver]") {
  Launch launch;
  launch.policy.inject.on_expired = OnExpired::kFail;
  launch.heads = {head("namespace:production", "A", 3, kNow), head("global", "B")};
  CHECK(launch.error() ==
        "A from namespace:production@v3 expired at 2026-01-01T00:00:00Z (on_expired: fail)");
}

TEST_CASE("the secrets allow-list filters every origin on the transformed name", "[resolver]") {
  Launch launch;
  launch.function = function_policy(std::vector<std::string>{"SENDGRID_*", "SUPPORT_EMAIL"});
  launch.heads = {head("global", "SENDGRID_API_KEY"), head("global", "DB_URL"),
                  head("global", "SUPPORT_EMAIL")};
  launch.env_files.push_back(env_file("dev.env", {{"SENDGRID_FROM", "f"}, {"OTHER", "o"}}));
  launch.host = {"FLUXBASE_SECRET_SUPPORT_EMAIL=h", "FLUXBASE_SECRET_AWS_KEY=h"};
  const auto resolution = launch.ok();
  CHECK(render(resolution) == Lines{"FLUXBASE_SECRET_SENDGRID_API_KEY <- global@v1",
                                    "FLUXBASE_SECRET_SENDGRID_FROM <- env-file:dev.env = f",
                                    "FLUXBASE_SECRET_SUPPORT_EMAIL <- host = h"});
  // A filtered host variable is still withheld from the child.
  CHECK(resolution.consumed_host ==
        Lines{"FLUXBASE_SECRET_AWS_KEY", "FLUXBASE_SECRET_SUPPORT_EMAIL"});

  SECTION("posix: the pattern sees the upper-cased name") {
    launch.policy.inject.name_transform = NameTransform::kPosix;
    launch.heads = {head("global", "sendgrid-key")};
    launch.env_files.clear();
    launch.host.clear();
    CHECK(render(launch.ok()) == Lines{"FLUXBASE_SECRET_SENDGRID_KEY <- global@v1"});
  }
  SECTION("an empty list allows nothing, no list allows everything") {
    launch.function = function_policy(std::vector<std::string>{});
    CHECK(launch.ok().variables.empty());
    launch.function = function_policy(std::nullopt);
    CHECK(launch.ok().variables.size() == 6);
  }
  SECTION("a filtered expired secret neither warns nor fails") {
    launch.policy.inject.on_expired = OnExpired::kFail;
    launch.heads.push_back(head("global", "OLD", 1, kNow - 1));
    CHECK(launch.ok().warnings.empty());
  }
}

TEST_CASE("require is met only by stored, injected secrets", "[resolver]") {
  Launch launch;
  launch.function = function_policy(std::nullopt, {"SENDGRID_API_KEY", "SUPPORT_EMAIL"});
  SECTION("satisfied, also when an override shadows the stored value") {
    launch.heads = {head("global", "SENDGRID_API_KEY"), head("global", "SUPPORT_EMAIL")};
    launch.host = {"FLUXBASE_SECRET_SUPPORT_EMAIL=dev@example.com"};
    CHECK(launch.ok().variables.size() == 2);
  }
  SECTION("missing, named in order") {
    CHECK(launch.error() ==
          "required secrets missing from the store: SENDGRID_API_KEY, SUPPORT_EMAIL");
  }
  SECTION("satisfied only by the host or an env file is not enough") {
    launch.heads = {head("global", "SENDGRID_API_KEY")};
    launch.host = {"FLUXBASE_SECRET_SUPPORT_EMAIL=h"};
    launch.env_files.push_back(env_file("dev.env", {{"SUPPORT_EMAIL", "f"}}));
    CHECK(launch.error() == "required secrets missing from the store: SUPPORT_EMAIL");
  }
  SECTION("an expired, skipped secret does not count") {
    launch.heads = {head("global", "SENDGRID_API_KEY", 1, kNow), head("global", "SUPPORT_EMAIL")};
    CHECK(launch.error() == "required secrets missing from the store: SENDGRID_API_KEY");
  }
  SECTION("a secret the allow-list filters out does not count") {
    launch.function->secrets = std::vector<std::string>{"SENDGRID_*"};
    launch.heads = {head("global", "SENDGRID_API_KEY"), head("global", "SUPPORT_EMAIL")};
    CHECK(launch.error() == "required secrets missing from the store: SUPPORT_EMAIL");
  }
}

TEST_CASE("variables come sorted by final name with their origins", "[resolver]") {
  Launch launch;
  launch.heads = {head("global", "Z", 1, kNow + kHourMs), head("global", "M")};
  launch.env_files.push_back(env_file("a/dev.env", {{"B", "b"}}));
  launch.host = {"FLUXBASE_SECRET_A=a"};
  const auto resolution = launch.ok();
  REQUIRE(resolution.variables.size() == 4);
  CHECK(render(resolution) ==
        Lines{"FLUXBASE_SECRET_A <- host = a", "FLUXBASE_SECRET_B <- env-file:a/dev.env = b",
              "FLUXBASE_SECRET_M <- global@v1", "FLUXBASE_SECRET_Z <- global@v1"});
  const auto& stored = resolution.variables[3];
  CHECK(stored.name == "Z");
  CHECK(stored.value.empty());  // the caller decrypts winners only
  CHECK(stored.expires_at == kNow + kHourMs);
  CHECK_FALSE(resolution.variables[0].expires_at.has_value());
  CHECK(resolution.variables[0].origin.kind == Origin::Kind::kHost);
}

TEST_CASE("transform_name and glob_match", "[resolver]") {
  CHECK(transform_name("api-key_v2", NameTransform::kKeep) == "api-key_v2");
  CHECK(transform_name("api-key_v2", NameTransform::kPosix) == "API_KEY_V2");
  CHECK(glob_match("*", ""));
  CHECK(glob_match("SENDGRID_*", "SENDGRID_"));
  CHECK(glob_match("SENDGRID_*", "SENDGRID_API_KEY"));
  CHECK_FALSE(glob_match("SENDGRID_*", "SENDGRID"));
  CHECK(glob_match("A?C", "ABC"));
  CHECK_FALSE(glob_match("A?C", "AC"));
  CHECK(glob_match("*_KEY*", "DB_KEY_V2"));
  CHECK(glob_match("a*b*c", "aXbYbZc"));
  CHECK_FALSE(glob_match("a*b*c", "aXbYbZ"));
  CHECK_FALSE(glob_match("api_key", "API_KEY"));  // case-sensitive
  CHECK(glob_match("[AB]", "[AB]"));              // no character classes
  CHECK(glob_match(std::string(200, '*') + "x", std::string(5000, 'a') + "x"));
}

TEST_CASE("a missing policy is an error, not a crash", "[resolver]") {
  lockbox::resolver::ResolveInput input;
  CHECK_FALSE(lockbox::resolver::resolve(input).is_ok());
}

TEST_CASE("no value ever appears in a warning or an error", "[resolver][canary]") {
  const std::string canary = "canary-7f3a9c";
  std::vector<std::string> messages;
  auto collect = [&](Launch& launch) {
    auto result = launch.run();
    if (!result.is_ok()) {
      messages.push_back(result.status().message());
      return;
    }
    for (const auto& w : result.value().warnings) messages.push_back(w);
  };
  auto with_canary = [&](Launch& launch) {
    launch.env_files.push_back(env_file("dev.env", {{"A", canary}, {"LD_PRELOAD", canary}}));
    launch.host = {"FLUXBASE_SECRET_B=" + canary, "FLUXBASE_SECRET_a.b=" + canary, canary};
  };
  for (EnvOverride mode : {EnvOverride::kDeny, EnvOverride::kWarn}) {
    Launch launch;
    launch.policy.namespaces["production"].env_override = mode;
    launch.heads = {head("global", "A", 1, kNow)};
    with_canary(launch);
    collect(launch);
  }
  Launch refused;
  refused.policy.inject.prefix = "";
  with_canary(refused);
  refused.env_files[0].entries.push_back({"PATH", lockbox::SecretValue(canary), 3});
  collect(refused);
  Launch collision;
  collision.policy.inject.name_transform = NameTransform::kPosix;
  with_canary(collision);
  collision.env_files[0].entries.push_back({"a", lockbox::SecretValue(canary), 3});
  collect(collision);
  Launch required;
  required.function = function_policy(std::nullopt, {"A", "B"});
  with_canary(required);
  collect(required);

  REQUIRE(messages.size() >= 6);
  for (const auto& message : messages) {
    INFO(message);
    CHECK(message.find(canary) == std::string::npos);
  }
}

}  // namespace
