#include "policies/policy_loader.hpp"

#include <sys/stat.h>

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "tests/support/temp_dir.hpp"

using namespace lockbox;
using namespace lockbox::policies;

namespace {

constexpr const char* kSpecExample = R"(version: 1
resolution: [apikey, group, function, namespace, global]
inject: { prefix: FLUXBASE_SECRET_, name_transform: keep, on_expired: skip }
limits: { max_value_bytes: 65536 }
rotation: { data_key_max_age: 90d, secret_max_age: 180d, notify_before: 7d }
namespaces:
  production: { env_override: deny, resolution: [function, namespace, global] }
functions:
  send-email:
    namespace: production
    command: [python3, samples/functions/send_email.py]
    timeout: 30s
    secrets: [SENDGRID_*, SUPPORT_EMAIL]
    require: [SENDGRID_API_KEY]
jobs:
  sync-data: { namespace: production, command: [python3, samples/jobs/sync.py], timeout: 10m, retries: 3 }
roles:
  devops: { read: ["namespace:production", "function:production/*"], write: ["namespace:production"] }
)";

Result<Policy> parse(const std::string& yaml) {
  return parse_policy(yaml, "p.yaml", "/srv/app");
}

// The error message of a policy that must not load.
std::string error_of(const std::string& yaml) {
  const auto result = parse(yaml);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == StatusCode::kBadInput);
  return result.status().message();
}

using Kinds = std::vector<ScopeKind>;
using Strings = std::vector<std::string>;

}  // namespace

TEST_CASE("the SPEC example loads with every field, relative command paths resolved",
          "[policies][loader]") {
  const lockbox::testing::TempDir dir;
  const auto file = dir / "lockbox.yaml";
  lockbox::testing::write_file(file, kSpecExample);
  const auto loaded = load_policy_file(file);
  REQUIRE(loaded.is_ok());
  const Policy& p = loaded.value();
  const std::string base = dir.path().lexically_normal().string();

  CHECK(p.source == file);
  CHECK(p.version == 1);
  CHECK(p.resolution == Kinds{ScopeKind::kApikey, ScopeKind::kGroup, ScopeKind::kFunction,
                              ScopeKind::kNamespace, ScopeKind::kGlobal});
  CHECK(p.inject.prefix == "FLUXBASE_SECRET_");
  CHECK(p.inject.name_transform == NameTransform::kKeep);
  CHECK(p.inject.on_expired == OnExpired::kSkip);
  CHECK(p.limits.max_value_bytes == 65536);
  CHECK(p.rotation.data_key_max_age_ms == 90 * kDayMs);
  CHECK(p.rotation.secret_max_age_ms == 180 * kDayMs);
  CHECK(p.rotation.notify_before_ms == 7 * kDayMs);

  REQUIRE(p.namespaces.size() == 1);
  const NamespacePolicy& prod = p.namespaces.at("production");
  CHECK(prod.env_override == EnvOverride::kDeny);
  CHECK(prod.resolution == Kinds{ScopeKind::kFunction, ScopeKind::kNamespace, ScopeKind::kGlobal});
  CHECK(p.resolution_for("production").size() == 3);
  CHECK(p.env_override_for("production") == EnvOverride::kDeny);

  REQUIRE(p.functions.size() == 1);
  const FunctionPolicy& fn = p.functions.at("send-email");
  CHECK(fn.name == "send-email");
  CHECK(fn.ns == "production");
  CHECK(fn.command == Strings{"python3", "samples/functions/send_email.py"});
  CHECK(fn.workdir == base);
  CHECK(fn.timeout_ms == 30'000);
  CHECK(fn.secrets == Strings{"SENDGRID_*", "SUPPORT_EMAIL"});
  CHECK(fn.require == Strings{"SENDGRID_API_KEY"});
  CHECK(fn.retries == 0);

  REQUIRE(p.jobs.size() == 1);
  const FunctionPolicy& job = p.jobs.at("sync-data");
  CHECK(job.name == "sync-data");
  CHECK(job.ns == "production");
  CHECK(job.command == Strings{"python3", "samples/jobs/sync.py"});
  CHECK(job.workdir == base);
  CHECK(job.timeout_ms == 600'000);
  CHECK_FALSE(job.secrets.has_value());
  CHECK(job.require.empty());
  CHECK(job.retries == 3);

  REQUIRE(p.roles.size() == 1);
  const RolePolicy& devops = p.roles.at("devops");
  CHECK(devops.read == Strings{"namespace:production", "function:production/*"});
  CHECK(devops.write == Strings{"namespace:production"});
  CHECK(devops.del.empty());
  CHECK(devops.reveal.empty());
  CHECK(devops.resolve.empty());
}

TEST_CASE("an empty policy file is the default policy", "[policies][loader]") {
  for (const char* text : {"", "\n", "# nothing here\n", "---\n", "~\n"}) {
    INFO(text);
    const auto p = parse(text);
    REQUIRE(p.is_ok());
    const Policy defaults;
    CHECK(p->version == 1);
    CHECK(p->resolution == defaults.resolution);
    CHECK(p->inject.prefix == "FLUXBASE_SECRET_");
    CHECK(p->inject.name_transform == NameTransform::kKeep);
    CHECK(p->inject.on_expired == OnExpired::kSkip);
    CHECK(p->limits.max_value_bytes == 65536);
    CHECK(p->rotation.data_key_max_age_ms == 90 * kDayMs);
    CHECK(p->rotation.secret_max_age_ms == 180 * kDayMs);
    CHECK(p->rotation.notify_before_ms == 7 * kDayMs);
    CHECK(p->namespaces.empty());
    CHECK(p->functions.empty());
    CHECK(p->jobs.empty());
    CHECK(p->roles.empty());
    CHECK(p->source == "p.yaml");
  }
}

TEST_CASE("missing keys keep their defaults", "[policies][loader]") {
  const auto p = parse(
      "inject: {prefix: ''}\n"
      "limits:\n"
      "rotation: {notify_before: 1w}\n"
      "namespaces:\n  staging:\n  dev: {env_override: warn}\n"
      "functions:\n  hello: {}\n  run: {command: [node, app.js]}\n"
      "jobs:\n  nightly: {command: [./nightly.sh]}\n"
      "roles:\n  nobody: {}\n");
  REQUIRE(p.is_ok());
  CHECK(p->inject.prefix.empty());
  CHECK(p->inject.name_transform == NameTransform::kKeep);
  CHECK(p->limits.max_value_bytes == 65536);
  CHECK(p->rotation.notify_before_ms == 7 * kDayMs);
  CHECK(p->rotation.secret_max_age_ms == 180 * kDayMs);
  CHECK(p->namespaces.at("staging").env_override == EnvOverride::kAllow);
  CHECK_FALSE(p->namespaces.at("staging").resolution.has_value());
  CHECK(p->namespaces.at("dev").env_override == EnvOverride::kWarn);
  CHECK(p->resolution_for("dev") == p->resolution);

  const FunctionPolicy& hello = p->functions.at("hello");
  CHECK(hello.name == "hello");
  CHECK_FALSE(hello.ns.has_value());
  CHECK(hello.command.empty());
  CHECK_FALSE(hello.timeout_ms.has_value());
  CHECK_FALSE(hello.secrets.has_value());
  CHECK(hello.require.empty());
  CHECK(p->functions.at("run").command == Strings{"node", "app.js"});
  CHECK(p->jobs.at("nightly").command == Strings{"./nightly.sh"});
  CHECK(p->jobs.at("nightly").workdir == "/srv/app");
  CHECK(hello.workdir == "/srv/app");
  CHECK(p->jobs.at("nightly").retries == 0);
  CHECK(p->roles.at("nobody").read.empty());
}

TEST_CASE("command elements reach exec exactly as written, slashes and all",
          "[policies][loader]") {
  const auto p = parse(
      "functions:\n"
      "  f:\n"
      "    command: [./bin/run, ../tools/x, /usr/bin/env, python3, -c, --out=a/b, 'a//b/./c', '']\n"
      "    secrets: []\n"
      "jobs:\n"
      "  j: {command: [sh, -c, 'n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count']}\n");
  REQUIRE(p.is_ok());
  const FunctionPolicy& f = p->functions.at("f");
  CHECK(f.command == Strings{"./bin/run", "../tools/x", "/usr/bin/env", "python3", "-c",
                             "--out=a/b", "a//b/./c", ""});
  CHECK(f.secrets == Strings{});  // an empty allow-list is not "everything"
  CHECK(p->jobs.at("j").command ==
        Strings{"sh", "-c", "n=$(cat count 2>/dev/null || echo 0); echo $((n+1)) > count"});
}

TEST_CASE("workdir resolves against the policy directory and defaults to it",
          "[policies][loader]") {
  const auto p = parse(
      "functions:\n"
      "  a: {command: [x], workdir: bin/../work}\n"
      "  b: {command: [x], workdir: /abs/dir}\n"
      "  c: {command: [x]}\n"
      "jobs:\n"
      "  j: {command: [x], workdir: ..}\n");
  REQUIRE(p.is_ok());
  CHECK(p->functions.at("a").workdir == "/srv/app/work");
  CHECK(p->functions.at("b").workdir == "/abs/dir");
  CHECK(p->functions.at("c").workdir == "/srv/app");
  CHECK(p->jobs.at("j").workdir == "/srv");
  CHECK(error_of("functions: {f: {command: [x], workdir: ''}}\n") ==
        "p.yaml:1:40: empty 'workdir'");
  CHECK(error_of("functions: {f: {command: [x], workdir: [a]}}\n").find("workdir") !=
        std::string::npos);
}

TEST_CASE("other values parse to their types", "[policies][loader]") {
  const auto p = parse(
      "resolution: [global]\n"
      "inject: {prefix: _X9, name_transform: posix, on_expired: fail}\n"
      "limits: {max_value_bytes: 16777216}\n"
      "namespaces: {p: {env_override: allow, resolution: [namespace, apikey]}}\n"
      "jobs: {j: {command: [a], retries: 100, timeout: 1y, secrets: ['A?', '*'], require: [a-b]}}\n"
      "roles: {r: {delete: ['*'], reveal: [global], resolve: ['apikey:*', 'group:g*']}}\n");
  REQUIRE(p.is_ok());
  CHECK(p->resolution == Kinds{ScopeKind::kGlobal});
  CHECK(p->inject.prefix == "_X9");
  CHECK(p->inject.name_transform == NameTransform::kPosix);
  CHECK(p->inject.on_expired == OnExpired::kFail);
  CHECK(p->limits.max_value_bytes == 16777216);
  CHECK(p->namespaces.at("p").resolution == Kinds{ScopeKind::kNamespace, ScopeKind::kApikey});
  const FunctionPolicy& j = p->jobs.at("j");
  CHECK(j.retries == 100);
  CHECK(j.timeout_ms == 365 * kDayMs);
  CHECK(j.secrets == Strings{"A?", "*"});
  CHECK(j.require == Strings{"a-b"});
  const RolePolicy& r = p->roles.at("r");
  CHECK(r.del == Strings{"*"});
  CHECK(r.reveal == Strings{"global"});
  CHECK(r.resolve == Strings{"apikey:*", "group:g*"});
}

TEST_CASE("unknown keys are errors at the key", "[policies][loader][errors]") {
  CHECK(error_of("version: 1\nversoin: 1\n") ==
        "p.yaml:2:1: unknown key 'versoin' at the top level");
  CHECK(error_of("inject:\n  prefix: A_\n  foo: 1\n") == "p.yaml:3:3: unknown key 'foo' in inject");
  CHECK(error_of("limits: {max: 1}\n") == "p.yaml:1:10: unknown key 'max' in limits");
  CHECK(error_of("rotation: {max_age: 1d}\n") == "p.yaml:1:12: unknown key 'max_age' in rotation");
  CHECK(error_of("namespaces:\n  prod: {deny: true}\n") ==
        "p.yaml:2:10: unknown key 'deny' in namespace 'prod'");
  CHECK(error_of("functions:\n  f:\n    comand: [x]\n") ==
        "p.yaml:3:5: unknown key 'comand' in function 'f'");
  CHECK(error_of("functions:\n  f: {retries: 1}\n") ==
        "p.yaml:2:7: unknown key 'retries' in function 'f'");
  CHECK(error_of("jobs:\n  j: {command: [a], retry: 1}\n") ==
        "p.yaml:2:21: unknown key 'retry' in job 'j'");
  CHECK(error_of("roles:\n  r: {del: []}\n") == "p.yaml:2:7: unknown key 'del' in role 'r'");
}

TEST_CASE("duplicate keys are errors at the second occurrence", "[policies][loader][errors]") {
  CHECK(error_of("version: 1\nlimits: {}\nversion: 1\n") == "p.yaml:3:1: duplicate key 'version'");
  CHECK(error_of("functions:\n  f:\n    command: [a]\n    timeout: 1s\n    command: [b]\n") ==
        "p.yaml:5:5: duplicate key 'command'");
  CHECK(error_of("functions:\n  f: {command: [a]}\n  f: {command: [b]}\n") ==
        "p.yaml:3:3: duplicate key 'f'");
  CHECK(error_of("inject: {prefix: A, 'prefix': B}\n") == "p.yaml:1:21: duplicate key 'prefix'");
}

TEST_CASE("wrong types are errors at the value", "[policies][loader][errors]") {
  CHECK(error_of("functions:\n  f:\n    command: python3\n") ==
        "p.yaml:3:14: expected a list for 'command'");
  CHECK(error_of("inject: [prefix]\n") == "p.yaml:1:9: expected a map for 'inject'");
  CHECK(error_of("inject: {prefix: [A]}\n") == "p.yaml:1:18: expected a string for 'prefix'");
  CHECK(error_of("functions: {f: {command: [a, [b]]}}\n") ==
        "p.yaml:1:30: expected a string in 'command'");
  CHECK(error_of("functions: {f: {command: []}}\n") ==
        "p.yaml:1:26: expected a non-empty list for 'command'");
  CHECK(error_of("jobs: {j: {command: [a], retries: '3'}}\n") ==
        "p.yaml:1:35: expected an integer for 'retries'");
  CHECK(error_of("jobs: {j: {command: [a], retries: 3.5}}\n") ==
        "p.yaml:1:35: expected an integer for 'retries'");
  CHECK(error_of("- version\n") == "p.yaml:1:1: expected a map at the top level");
  CHECK(error_of("[a]: 1\n") == "p.yaml:1:1: expected a string key at the top level");
  // An empty value is reported at its key: yaml-cpp marks it wherever the next token is.
  CHECK(error_of("inject:\n  prefix:\n  on_expired: skip\n") ==
        "p.yaml:2:3: expected a string for 'prefix'");
}

TEST_CASE("bad durations, enums and ranges are errors at the value", "[policies][loader][errors]") {
  CHECK(error_of("rotation:\n  notify_before: 10x\n") ==
        "p.yaml:2:18: malformed duration '10x' for 'notify_before': expected a number and a unit "
        "s, m, h, d, w or y (30s, 10m, 7d)");
  CHECK(error_of("functions: {f: {timeout: 0s}}\n").starts_with("p.yaml:1:26: malformed duration"));
  CHECK(error_of("inject: {name_transform: upper}\n") ==
        "p.yaml:1:26: bad value 'upper' for 'name_transform': expected keep or posix");
  CHECK(error_of("inject: {on_expired: warn}\n") ==
        "p.yaml:1:22: bad value 'warn' for 'on_expired': expected skip or fail");
  CHECK(error_of("namespaces: {p: {env_override: no}}\n") ==
        "p.yaml:1:32: bad value 'no' for 'env_override': expected allow, warn or deny");
  CHECK(error_of("limits: {max_value_bytes: 0}\n") ==
        "p.yaml:1:27: 'max_value_bytes' must be between 1 and 16777216");
  CHECK(error_of("limits: {max_value_bytes: 16777217}\n") ==
        "p.yaml:1:27: 'max_value_bytes' must be between 1 and 16777216");
  CHECK(error_of("jobs: {j: {command: [a], retries: 101}}\n") ==
        "p.yaml:1:35: 'retries' must be between 0 and 100");
  CHECK(error_of("jobs: {j: {command: [a], retries: 99999999999999999999}}\n") ==
        "p.yaml:1:35: 'retries' must be between 0 and 100");
  CHECK(error_of("version: 2\n") == "p.yaml:1:10: unsupported policy version 2: expected 1");
}

TEST_CASE("bad names and prefixes are errors", "[policies][loader][errors]") {
  CHECK(error_of("functions:\n  send email: {command: [a]}\n") ==
        "p.yaml:2:3: invalid function name 'send email': expected 1-256 characters of "
        "A-Z a-z 0-9 _ -");
  CHECK(error_of("namespaces: {prod.eu: {}}\n")
            .starts_with("p.yaml:1:14: invalid namespace name 'prod.eu'"));
  CHECK(error_of("jobs: {j: {namespace: a/b, command: [a]}}\n")
            .starts_with("p.yaml:1:23: invalid namespace 'a/b'"));
  CHECK(error_of("functions: {f: {require: [OK, 'NOT OK']}}\n")
            .starts_with("p.yaml:1:31: invalid secret name 'NOT OK' in 'require'"));
  CHECK(error_of("functions: {f: {secrets: ['A.*']}}\n")
            .starts_with("p.yaml:1:27: invalid secret glob 'A.*' in 'secrets'"));
  CHECK(error_of("inject: {prefix: 1ABC}\n") ==
        "p.yaml:1:18: invalid prefix '1ABC': expected [A-Za-z_][A-Za-z0-9_]* or an empty string");
  CHECK(error_of("inject: {prefix: A-B}\n").starts_with("p.yaml:1:18: invalid prefix 'A-B'"));
  CHECK(error_of("jobs:\n  j: {timeout: 1s}\n") == "p.yaml:2:3: job 'j' has no 'command'");
  CHECK(error_of("functions: {f: {command: ['', x]}}\n") ==
        "p.yaml:1:27: empty program name in 'command'");
}

TEST_CASE("resolution lists known kinds, each once", "[policies][loader][errors]") {
  CHECK(error_of("resolution: [apikey, team]\n") ==
        "p.yaml:1:22: unknown scope kind 'team' in 'resolution': expected apikey, group, "
        "function, namespace or global");
  CHECK(error_of("resolution: [global, namespace, global]\n") ==
        "p.yaml:1:33: scope kind 'global' appears twice in 'resolution'");
  CHECK(error_of("resolution: []\n") ==
        "p.yaml:1:13: 'resolution' must list at least one scope kind");
  CHECK(error_of("namespaces:\n  p: {resolution: [function, Function]}\n")
            .starts_with("p.yaml:2:30: unknown scope kind 'Function'"));
}

TEST_CASE("roles refuse admin and malformed scope patterns", "[policies][loader][errors]") {
  CHECK(error_of("roles:\n  admin: {read: ['*']}\n") ==
        "p.yaml:2:3: role 'admin' is built in and cannot be redefined");
  CHECK(error_of("roles:\n  devops:\n    write: [\"namespace:production\", \"function:*\"]\n") ==
        "p.yaml:3:37: invalid scope pattern 'function:*' in 'write': expected *, global, "
        "apikey:ID, group:ID, namespace:ID or function:NS/FN, where an identifier may contain *");
  CHECK(error_of("roles: {r: {reveal: ['*:prod']}}\n")
            .starts_with("p.yaml:1:22: invalid scope pattern '*:prod' in 'reveal'"));
}

TEST_CASE("YAML syntax errors and extra documents carry a position", "[policies][loader][errors]") {
  CHECK(error_of("functions:\n  f: {command: [a\n") ==
        "p.yaml:3:1: invalid YAML: end of sequence flow not found");
  CHECK(error_of("version: 1\n\tinject: {}\n").starts_with("p.yaml:2:"));
  CHECK(error_of("version: 1\n---\nversion: 1\n") ==
        "p.yaml:2:1: more than one YAML document in a policy file");
  // yaml-cpp 0.7's LoadAll never returns on these; the loader must.
  CHECK(error_of(",]") == "p.yaml:1:1: invalid YAML: unexpected token");
  CHECK(error_of("version: 1\n,}\n").starts_with("p.yaml:2:1: invalid YAML: "));
  const std::string deep(5000, '[');
  CHECK(error_of("resolution: " + deep + "\n").starts_with("p.yaml:"));
}

TEST_CASE("messages show keys as one printable, bounded line", "[policies][loader][errors]") {
  CHECK(error_of("\"a\\x01b\\nc\": 1\n") == "p.yaml:1:1: unknown key 'a?b?c' at the top level");
  const std::string message = error_of(std::string(300, 'k') + ": 1\n");
  CHECK(message == "p.yaml:1:1: unknown key '" + std::string(64, 'k') + "...' at the top level");
}

TEST_CASE("unreadable policy files name the file and the reason", "[policies][loader]") {
  const lockbox::testing::TempDir dir;
  const auto missing = dir / "missing.yaml";
  const auto result = load_policy_file(missing);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == StatusCode::kBadInput);
  CHECK(result.status().message() ==
        "cannot read policy file " + missing.string() + ": no such file or directory");

  const auto as_dir = load_policy_file(dir.path());
  REQUIRE_FALSE(as_dir.is_ok());
  CHECK(as_dir.status().message() == "policy file " + dir.path().string() + " is not a regular file");
}

TEST_CASE("a FIFO as the policy file is refused at once, never read", "[policies][loader]") {
  const lockbox::testing::TempDir dir;
  const auto fifo = dir / "policy.fifo";
  REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
  // No writer ever opens it: reading it would block forever.
  const auto result = load_policy_file(fifo);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == StatusCode::kBadInput);
  CHECK(result.status().message() == "policy file " + fifo.string() + " is not a regular file");
}

TEST_CASE("file errors carry the file name and line", "[policies][loader]") {
  const lockbox::testing::TempDir dir;
  const auto file = dir / "bad.yaml";
  lockbox::testing::write_file(file, "version: 1\ninject: {prefix: A, prefx: B}\n");
  const auto result = load_policy_file(file);
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().message() == file.string() + ":2:21: unknown key 'prefx' in inject");
}
