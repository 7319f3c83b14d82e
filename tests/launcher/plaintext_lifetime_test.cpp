// Plaintext lifetime (launcher/launch.hpp, docs/SECURITY.md): once the child runs, the launch
// plan's resolution holds no value; the child still gets it. The launch is real (run_launch, the
// test child) with a source that serves one stored secret; the after_spawn seam looks at the plan
// while the child runs.
#include <catch2/catch.hpp>
#include <memory>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "launcher/launch.hpp"
#include "launcher/launch_plan.hpp"
#include "launcher/secret_source.hpp"

using namespace lockbox;
using namespace lockbox::launcher;

namespace {

constexpr const char* kValue = "plaintext-lifetime-value";

// Serves TOKEN (global, v1) = kValue as the stored layer.
class OneSecretSource final : public SecretSource {
 public:
  Status resolve(LaunchPlan& plan, const RunRequest& request, const policies::Policy& policy,
                 const std::vector<std::string_view>& host, UnixMillis now, bool decrypt) override {
    const StoredLayer stored{
        [](const std::vector<Scope>& scopes) -> Result<std::vector<store::SecretMeta>> {
          std::vector<store::SecretMeta> heads;
          for (const auto& scope : scopes) {
            if (scope != Scope::global()) continue;
            store::SecretMeta meta;
            meta.scope = scope;
            meta.name = "TOKEN";
            meta.version = 1;
            heads.push_back(meta);
          }
          return heads;
        },
        [](const store::SecretAddress&, std::int64_t) -> Result<SecretValue> {
          return SecretValue(kValue);
        }};
    return resolve_plan(plan, request, policy, stored, host, now, decrypt);
  }
  Status audit(const store::AuditEvent&) override { return Status::ok(); }
  std::optional<std::int64_t> change_counter() override { return std::nullopt; }
};

struct Seen {
  int spawns = 0;
  std::size_t variables = 0, with_value = 0;
};

// Runs the test child with TOKEN injected; records what the plan held after the spawn.
int launch_and_look(const std::vector<std::string>& steps, const LaunchOptions& options,
                    Seen& seen) {
  policies::Policy policy;
  const FakeClock clock(1'700'000'000'000);
  RunRequest request;
  request.command = {LOCKBOX_TEST_CHILD};
  request.command.insert(request.command.end(), steps.begin(), steps.end());
  LaunchDeps deps;
  deps.policy = &policy;
  deps.clock = &clock;
  deps.open_source = [] {
    return Result<std::unique_ptr<SecretSource>>(std::make_unique<OneSecretSource>());
  };
  deps.after_spawn = [&seen](const LaunchPlan& plan) {
    ++seen.spawns;
    seen.variables = plan.resolution.variables.size();
    for (const auto& v : plan.resolution.variables) seen.with_value += v.value.empty() ? 0 : 1;
  };
  return run_launch(request, options, deps);
}

}  // namespace

TEST_CASE("after the spawn the launch plan keeps no secret value, and the child still has it",
          "[launcher][plaintext]") {
  Seen seen;
  // The child checks its own environment: exit 0 only if the value arrived.
  const int code = launch_and_look(
      {"require-env", std::string("FLUXBASE_SECRET_TOKEN=") + kValue, "exit", "0"}, {}, seen);
  CHECK(code == 0);
  CHECK(seen.spawns == 1);
  CHECK(seen.variables == 1);   // the plan still names the variable (audit, --watch)
  CHECK(seen.with_value == 0);  // but holds no plaintext
}

TEST_CASE("with --redact the launch plan keeps no value either: the redactors hold the only copy",
          "[launcher][plaintext]") {
  Seen seen;
  LaunchOptions options;
  options.redact = true;
  const int code = launch_and_look({"exit", "3"}, options, seen);
  CHECK(code == 3);
  CHECK(seen.spawns == 1);
  CHECK(seen.variables == 1);
  CHECK(seen.with_value == 0);
}
