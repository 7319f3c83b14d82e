#pragma once
// The resolver (SPEC §2–§3): a pure function from its layers to the launch view. It never touches
// the store or the process environment itself, so `run`, `resolve`, `--dry-run` and the REST API
// (which passes no env-file or host layer) share it.
//
// Layers, lowest to highest precedence:
//   1. stored secrets: per name, the first scope in the resolution order whose head is not a
//      tombstone (heads are given; tombstones must already be excluded). An expired head still
//      wins (no fall-through): it is left out with a warning (on_expired: skip) or is an error
//      (on_expired: fail);
//   2. each env file, in order (later files win);
//   3. host variables `<prefix><NAME>` (with an empty prefix: only names a lower layer defines).
// Matching is on the final variable name (prefix + name_transform(name)). env_override deny drops
// every env-file and host override (one warning naming them), warn keeps them with a warning.
// A function's `secrets` globs filter every origin (matched against the transformed name without
// the prefix, `*` any run of characters, `?` one); `require` names must be stored winners that
// are not skipped. Errors are kBadInput (the caller maps them to 125 for run): a collision (two
// names of one layer mapping to one variable), a refused final name (SPEC §3 list), an expired
// secret under on_expired: fail, missing required secrets. No message contains a value.
// Thread-safety: pure.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/glob.hpp"
#include "core/scope.hpp"
#include "core/secret_value.hpp"
#include "core/status.hpp"
#include "policies/policy.hpp"
#include "resolver/dotenv.hpp"
#include "store/types.hpp"

namespace lockbox::resolver {

struct LaunchContext {
  std::string ns = "default";
  std::optional<std::string> function;
  std::optional<std::string> group;
  std::optional<std::string> apikey;
};

struct Origin {
  enum class Kind { kStore, kEnvFile, kHost };
  Kind kind = Kind::kStore;
  Scope scope;                 // kStore
  std::int64_t version = 0;    // kStore
  std::string env_file;        // kEnvFile: the path as given
  // "namespace:production" (store), "env-file:<path>", or "host" — the `scope` of resolve --json.
  [[nodiscard]] std::string text() const;
};

struct ResolvedVariable {
  std::string name;  // the secret name (bare, before transform)
  std::string env;   // the final variable name
  Origin origin;
  std::optional<UnixMillis> expires_at;  // store origin only
  // Env-file and host values are filled in by resolve(); store values are empty until the caller
  // decrypts them (Store::decrypt(scope, name, version)), so only winners are ever decrypted.
  SecretValue value;
};

struct EnvFileLayer {
  std::string path;
  std::vector<DotenvEntry> entries;
};

struct ResolveInput {
  const policies::Policy* policy = nullptr;               // REQUIRED
  LaunchContext context;
  const policies::FunctionPolicy* function = nullptr;     // its secrets/require apply when set
  std::vector<store::SecretMeta> heads;                   // live heads of scope_chain() scopes
  std::vector<EnvFileLayer> env_files;
  std::vector<std::string_view> host_environ;             // "NAME=value" entries; empty for the API
  UnixMillis now = 0;
};

struct Resolution {
  std::vector<ResolvedVariable> variables;   // sorted by env name
  std::vector<std::string> warnings;         // one line each
  std::vector<std::string> overrides;        // env names whose winner is an env file or the host
  // Host variable names the child must not inherit as they are (every `<prefix>*` host variable
  // when the prefix is not empty): they are re-emitted with their final values, or dropped.
  std::vector<std::string> consumed_host;
};

// The scopes to query for `context`, in the resolution order of its namespace. apikey and group
// scopes appear only when given; the function scope only when a function is given.
std::vector<Scope> scope_chain(const policies::Policy& policy, const LaunchContext& context);

Result<Resolution> resolve(const ResolveInput& input);

// name_transform applied to a secret name.
std::string transform_name(std::string_view name, policies::NameTransform transform);
// True when `env` is on the SPEC §3 refused list (exact names, X_* prefixes, lower-case proxies).
bool is_refused_env_name(std::string_view env);
// Glob match with `*` and `?` (core/glob.hpp).
using lockbox::glob_match;

}  // namespace lockbox::resolver
