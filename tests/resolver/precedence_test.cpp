// SPEC §2–§3 layer precedence, row by row: stored secrets < each env file in order < the host's
// own <prefix><NAME> variables, matched on the final variable name; env_override; collisions;
// refused names; what the launcher must not inherit (consumed_host).

#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "resolver/resolver.hpp"
#include "tests/resolver/resolver_fixture.hpp"

namespace {

using lockbox::policies::EnvOverride;
using lockbox::policies::NameTransform;
using lockbox::resolver::is_refused_env_name;
using lockbox::resolver::testing::env_file;
using lockbox::resolver::testing::head;
using lockbox::resolver::testing::Launch;
using lockbox::resolver::testing::Pairs;
using lockbox::resolver::testing::render;
using Lines = std::vector<std::string>;

struct FileRow {
  std::string path;
  Pairs entries;
};

struct Row {
  std::string what;
  std::vector<lockbox::store::SecretMeta> heads;
  std::vector<FileRow> files;
  std::vector<std::string> host;
  Lines expected;
  Lines overrides;
};

TEST_CASE("layers override each other on the final name, lowest to highest", "[resolver]") {
  const std::vector<Row> rows = {
      {"store only",
       {head("global", "A"), head("namespace:production", "B", 3)},
       {},
       {},
       {"FLUXBASE_SECRET_A <- global@v1", "FLUXBASE_SECRET_B <- namespace:production@v3"},
       {}},
      {"an env file overrides the store and adds names",
       {head("global", "A"), head("global", "B")},
       {{"dev.env", {{"A", "from-file"}, {"C", "only-file"}}}},
       {},
       {"FLUXBASE_SECRET_A <- env-file:dev.env = from-file", "FLUXBASE_SECRET_B <- global@v1",
        "FLUXBASE_SECRET_C <- env-file:dev.env = only-file"},
       {"FLUXBASE_SECRET_A", "FLUXBASE_SECRET_C"}},
      {"a later env file wins over an earlier one",
       {head("global", "A")},
       {{"one.env", {{"A", "one"}, {"B", "one"}}}, {"two.env", {{"A", "two"}}}},
       {},
       {"FLUXBASE_SECRET_A <- env-file:two.env = two",
        "FLUXBASE_SECRET_B <- env-file:one.env = one"},
       {"FLUXBASE_SECRET_A", "FLUXBASE_SECRET_B"}},
      {"a later entry of one file wins (dotenv keeps the last)",
       {},
       {{"dev.env", {{"A", "first"}, {"A", "second"}}}},
       {},
       {"FLUXBASE_SECRET_A <- env-file:dev.env = second"},
       {"FLUXBASE_SECRET_A"}},
      {"the host wins over env files and the store",
       {head("global", "A")},
       {{"dev.env", {{"A", "file"}}}},
       {"FLUXBASE_SECRET_A=host", "PATH=/usr/bin"},
       {"FLUXBASE_SECRET_A <- host = host"},
       {"FLUXBASE_SECRET_A"}},
      {"a prefixed host variable adds a name the store lacks",
       {head("global", "A")},
       {},
       {"FLUXBASE_SECRET_NEW=host-only"},
       {"FLUXBASE_SECRET_A <- global@v1", "FLUXBASE_SECRET_NEW <- host = host-only"},
       {"FLUXBASE_SECRET_NEW"}},
      {"an empty host value still overrides",
       {head("global", "A")},
       {},
       {"FLUXBASE_SECRET_A="},
       {"FLUXBASE_SECRET_A <- host = "},
       {"FLUXBASE_SECRET_A"}},
  };
  for (const Row& row : rows) {
    INFO(row.what);
    Launch launch;
    launch.heads = row.heads;
    for (const auto& file : row.files)
      launch.env_files.push_back(env_file(file.path, file.entries));
    launch.host = row.host;
    const auto resolution = launch.ok();
    CHECK(render(resolution) == row.expected);
    CHECK(resolution.overrides == row.overrides);
    CHECK(resolution.warnings.empty());
  }
}

Launch overridden_launch(EnvOverride mode) {
  Launch launch;
  launch.policy.namespaces["production"].env_override = mode;
  launch.heads = {head("namespace:production", "DB_URL", 2), head("global", "TOKEN")};
  launch.env_files.push_back(env_file("dev.env", {{"DB_URL", "file"}, {"EXTRA", "x"}}));
  launch.host = {"FLUXBASE_SECRET_TOKEN=host", "HOME=/root"};
  return launch;
}

TEST_CASE("env_override deny drops env-file and host overrides with one warning", "[resolver]") {
  Launch launch = overridden_launch(EnvOverride::kDeny);
  const auto resolution = launch.ok();
  CHECK(render(resolution) == Lines{"FLUXBASE_SECRET_DB_URL <- namespace:production@v2",
                                    "FLUXBASE_SECRET_TOKEN <- global@v1"});
  CHECK(resolution.overrides.empty());
  REQUIRE(resolution.warnings.size() == 1);
  CHECK(resolution.warnings[0] ==
        "namespace production has env_override: deny; dropped env-file and host overrides: "
        "FLUXBASE_SECRET_DB_URL, FLUXBASE_SECRET_EXTRA, FLUXBASE_SECRET_TOKEN");
  // The host variable must still be withheld from the child, or it would shadow the store.
  CHECK(resolution.consumed_host == Lines{"FLUXBASE_SECRET_TOKEN"});
}

TEST_CASE("env_override deny applies only to its own namespace", "[resolver]") {
  Launch launch = overridden_launch(EnvOverride::kDeny);
  launch.context.ns = "staging";  // namespace:production's DB_URL is not in staging's chain
  const auto resolution = launch.ok();
  CHECK(resolution.overrides ==
        Lines{"FLUXBASE_SECRET_DB_URL", "FLUXBASE_SECRET_EXTRA", "FLUXBASE_SECRET_TOKEN"});
  CHECK(resolution.warnings.empty());
}

TEST_CASE("env_override warn keeps overrides and names them in one warning", "[resolver]") {
  Launch launch = overridden_launch(EnvOverride::kWarn);
  const auto resolution = launch.ok();
  CHECK(render(resolution) == Lines{"FLUXBASE_SECRET_DB_URL <- env-file:dev.env = file",
                                    "FLUXBASE_SECRET_EXTRA <- env-file:dev.env = x",
                                    "FLUXBASE_SECRET_TOKEN <- host = host"});
  CHECK(resolution.overrides ==
        Lines{"FLUXBASE_SECRET_DB_URL", "FLUXBASE_SECRET_EXTRA", "FLUXBASE_SECRET_TOKEN"});
  REQUIRE(resolution.warnings.size() == 1);
  CHECK(resolution.warnings[0] ==
        "namespace production has env_override: warn; env-file and host overrides applied: "
        "FLUXBASE_SECRET_DB_URL, FLUXBASE_SECRET_EXTRA, FLUXBASE_SECRET_TOKEN");
}

TEST_CASE("env_override allow keeps overrides silently", "[resolver]") {
  Launch launch = overridden_launch(EnvOverride::kAllow);
  const auto resolution = launch.ok();
  CHECK(resolution.overrides.size() == 3);
  CHECK(resolution.warnings.empty());
}

TEST_CASE("with an empty prefix the host overrides only names a lower layer defines",
          "[resolver]") {
  Launch launch;
  launch.policy.inject.prefix = "";
  launch.heads = {head("global", "DB_URL"), head("global", "TOKEN")};
  launch.env_files.push_back(env_file("dev.env", {{"EXTRA", "file"}}));
  launch.host = {"DB_URL=host", "EXTRA=host-extra", "USER=alice", "OTHER=unrelated"};
  const auto resolution = launch.ok();
  CHECK(render(resolution) ==
        Lines{"DB_URL <- host = host", "EXTRA <- host = host-extra", "TOKEN <- global@v1"});
  CHECK(resolution.overrides == Lines{"DB_URL", "EXTRA"});
  // Only the matched host variables are replaced; USER and OTHER are just inherited.
  CHECK(resolution.consumed_host == Lines{"DB_URL", "EXTRA"});
}

TEST_CASE("with an empty prefix and deny, a host variable cannot shadow a stored one",
          "[resolver]") {
  Launch launch;
  launch.policy.inject.prefix = "";
  launch.policy.namespaces["production"].env_override = EnvOverride::kDeny;
  launch.heads = {head("global", "DB_URL")};
  launch.host = {"DB_URL=host", "USER=alice"};
  const auto resolution = launch.ok();
  CHECK(render(resolution) == Lines{"DB_URL <- global@v1"});
  CHECK(resolution.consumed_host == Lines{"DB_URL"});
  REQUIRE(resolution.warnings.size() == 1);
  CHECK_THAT(resolution.warnings[0],
             Catch::Contains("dropped env-file and host overrides: DB_URL"));
}

TEST_CASE("posix name_transform upper-cases, maps - to _, and matches on the final name",
          "[resolver]") {
  Launch launch;
  launch.policy.inject.name_transform = NameTransform::kPosix;
  launch.heads = {head("global", "db-url"), head("global", "api-key")};
  launch.env_files.push_back(env_file("dev.env", {{"DB_URL", "file"}}));
  launch.host = {"FLUXBASE_SECRET_api-key=host"};
  const auto resolution = launch.ok();
  CHECK(render(resolution) == Lines{"FLUXBASE_SECRET_API_KEY <- host = host",
                                    "FLUXBASE_SECRET_DB_URL <- env-file:dev.env = file"});
  CHECK(resolution.variables[1].name == "DB_URL");
  CHECK(resolution.consumed_host == Lines{"FLUXBASE_SECRET_api-key"});
}

TEST_CASE("keep name_transform passes names through, case-sensitively", "[resolver]") {
  Launch launch;
  launch.heads = {head("global", "api-key"), head("global", "API_KEY"), head("global", "Api_Key")};
  CHECK(render(launch.ok()) == Lines{"FLUXBASE_SECRET_API_KEY <- global@v1",
                                     "FLUXBASE_SECRET_Api_Key <- global@v1",
                                     "FLUXBASE_SECRET_api-key <- global@v1"});
}

TEST_CASE("two names of one layer mapping to one variable stop the launch", "[resolver]") {
  Launch launch;
  launch.policy.inject.name_transform = NameTransform::kPosix;
  SECTION("in the store, even across scopes") {
    launch.heads = {head("global", "api-key"), head("namespace:production", "API_KEY")};
    CHECK(launch.error() ==
          "API_KEY and api-key in the store both map to FLUXBASE_SECRET_API_KEY; rename one");
  }
  SECTION("in one env file") {
    launch.env_files.push_back(env_file("dev.env", {{"api-key", "1"}, {"API_KEY", "2"}}));
    CHECK(launch.error() ==
          "api-key and API_KEY in env file dev.env both map to FLUXBASE_SECRET_API_KEY; "
          "rename one");
  }
  SECTION("in the host environment") {
    launch.host = {"FLUXBASE_SECRET_api-key=1", "FLUXBASE_SECRET_API_KEY=2"};
    CHECK(launch.error() ==
          "FLUXBASE_SECRET_api-key and FLUXBASE_SECRET_API_KEY in the host environment both map "
          "to FLUXBASE_SECRET_API_KEY; rename one");
  }
  SECTION("but not across layers, where the higher layer wins") {
    launch.heads = {head("global", "api-key")};
    launch.env_files.push_back(env_file("one.env", {{"Api-Key", "1"}}));
    launch.env_files.push_back(env_file("two.env", {{"API_KEY", "2"}}));
    CHECK(render(launch.ok()) == Lines{"FLUXBASE_SECRET_API_KEY <- env-file:two.env = 2"});
  }
}

TEST_CASE("refused final names stop the launch, whatever the origin", "[resolver]") {
  Launch launch;
  launch.policy.inject.prefix = "";
  SECTION("from the store") {
    launch.heads = {head("global", "LD_PRELOAD"), head("global", "FINE")};
    CHECK(launch.error() == "refused variable name: LD_PRELOAD (from global)");
  }
  SECTION("bash exported functions") {
    launch.heads = {head("namespace:production", "BASH_FUNC_x")};
    CHECK(launch.error() == "refused variable name: BASH_FUNC_x (from namespace:production)");
  }
  SECTION("from an env file, lower-case proxy") {
    launch.env_files.push_back(env_file("dev.env", {{"http_proxy", "http://p"}}));
    CHECK(launch.error() == "refused variable name: http_proxy (from env-file:dev.env)");
  }
  SECTION("several at once, from the host too") {
    launch.heads = {head("global", "LOCKBOX_X"), head("global", "PATH")};
    launch.host = {"PATH=/usr/bin"};
    CHECK(launch.error() == "refused variable names: LOCKBOX_X (from global), PATH (from host)");
  }
  SECTION("after name_transform") {
    launch.policy.inject.name_transform = NameTransform::kPosix;
    launch.heads = {head("global", "ld-preload")};
    CHECK(launch.error() == "refused variable name: LD_PRELOAD (from global)");
  }
  SECTION("through the prefix") {
    launch.policy.inject.prefix = "LD_";
    launch.heads = {head("global", "PRELOAD")};
    CHECK(launch.error() == "refused variable name: LD_PRELOAD (from global)");
  }
}

TEST_CASE("a refused name is checked on the final name only, and only if injected", "[resolver]") {
  Launch launch;
  SECTION("behind the default prefix PATH is harmless") {
    launch.heads = {head("global", "PATH"), head("global", "LD_PRELOAD")};
    CHECK(render(launch.ok()) ==
          Lines{"FLUXBASE_SECRET_LD_PRELOAD <- global@v1", "FLUXBASE_SECRET_PATH <- global@v1"});
  }
  SECTION("an expired, skipped secret is not injected") {
    launch.policy.inject.prefix = "";
    launch.heads = {head("global", "PATH", 1, lockbox::resolver::testing::kNow)};
    CHECK(launch.ok().variables.empty());
  }
  SECTION("a denied override is not injected") {
    launch.policy.inject.prefix = "";
    launch.policy.namespaces["production"].env_override = EnvOverride::kDeny;
    launch.env_files.push_back(env_file("dev.env", {{"NODE_OPTIONS", "--require x"}}));
    CHECK(launch.ok().variables.empty());
  }
}

TEST_CASE("the refused-name list is the SPEC list, exactly", "[resolver]") {
  for (const char* name :
       {"PATH", "HOME", "SHELL", "IFS", "ENV", "BASH_ENV", "BASH_FUNC_f%%", "BASH_FUNC_", "PS4",
        "LD_PRELOAD", "LD_LIBRARY_PATH", "LD_", "DYLD_INSERT_LIBRARIES", "GCONV_PATH",
        "GLIBC_TUNABLES", "LOCPATH", "MALLOC_CHECK_", "NLSPATH", "HOSTALIASES", "RES_OPTIONS",
        "TMPDIR", "NODE_OPTIONS", "NODE_PATH", "PYTHONPATH", "PYTHONHOME", "PYTHONSTARTUP",
        "PERL5OPT", "PERL5LIB", "RUBYOPT", "RUBYLIB", "JAVA_TOOL_OPTIONS", "_JAVA_OPTIONS",
        "CLASSPATH", "SSL_CERT_FILE", "SSL_CERT_DIR", "HTTP_PROXY", "HTTPS_PROXY", "FTP_PROXY",
        "ALL_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "ftp_proxy", "all_proxy", "no_proxy",
        "LOCKBOX_X", "LOCKBOX_MASTER_KEY",
        // beyond the SPEC's list
        "LUA_CPATH", "LUA_INIT_5_4", "R_PROFILE_USER", "R_ENVIRON", "GIT_SSH", "GIT_CONFIG_KEY_0",
        "GIT_CONFIG_GLOBAL", "GIT_ASKPASS", "SSH_ASKPASS", "SHELLOPTS", "BASHOPTS", "PERL5DB",
        "PYTHONBREAKPOINT", "PHPRC", "PHP_INI_SCAN_DIR", "NODE_EXTRA_CA_CERTS", "CURL_CA_BUNDLE",
        "REQUESTS_CA_BUNDLE"}) {
    INFO(name);
    CHECK(is_refused_env_name(name));
  }
  for (const char* name :
       {"PATHS", "MYPATH", "path", "LD", "LDX", "xLD_PRELOAD", "BASH_FUNC", "Http_Proxy", "LOCKBOX",
        "lockbox_x", "MALLOC", "DYLD", "USER", "FLUXBASE_SECRET_PATH", "HOME_DIR", "ENVIRONMENT",
        "GIT_CONFIG", "LUA_INIT5", ""}) {
    INFO(name);
    CHECK_FALSE(is_refused_env_name(name));
  }
}

TEST_CASE("consumed_host lists every prefixed host variable, injected or not", "[resolver]") {
  Launch launch;
  launch.function = lockbox::resolver::testing::function_policy(std::vector<std::string>{"A*"});
  launch.host = {"FLUXBASE_SECRET_A=1",
                 "FLUXBASE_SECRET_B=not-allowed",
                 "FLUXBASE_SECRET_a.b=bad",
                 "FLUXBASE_SECRET_=empty",
                 "FLUXBASE_SECRET_A=second",
                 "FLUXBASE_SECRETX=no-underscore",
                 "HOME=/root",
                 "no-equals-sign",
                 "=value-without-name"};
  const auto resolution = launch.ok();
  // Duplicates: the first entry wins, as getenv() and the child's libc would read it.
  CHECK(render(resolution) == Lines{"FLUXBASE_SECRET_A <- host = 1"});
  CHECK(resolution.consumed_host ==
        Lines{"FLUXBASE_SECRET_", "FLUXBASE_SECRET_A", "FLUXBASE_SECRET_B", "FLUXBASE_SECRET_a.b"});
  CHECK(resolution.warnings ==
        Lines{"host variable FLUXBASE_SECRET_a.b is not FLUXBASE_SECRET_<secret name>; not "
              "injected",
              "host variable FLUXBASE_SECRET_ is not FLUXBASE_SECRET_<secret name>; not injected"});
}

TEST_CASE("the API view (no env files, no host) is the store layer alone", "[resolver]") {
  Launch launch;
  launch.policy.namespaces["production"].env_override = EnvOverride::kDeny;
  launch.heads = {head("global", "A")};
  const auto resolution = launch.ok();
  CHECK(render(resolution) == Lines{"FLUXBASE_SECRET_A <- global@v1"});
  CHECK(resolution.warnings.empty());
  CHECK(resolution.consumed_host.empty());
}

}  // namespace
