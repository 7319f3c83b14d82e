#pragma once
// A launch plan (SPEC §4): which command runs, in which context, with which variables. Built from
// the policy, the invoker's flags and the store; the values of store winners are decrypted here,
// and only those. Building a plan spawns nothing and writes nothing.

#include <cstdint>
#include <filesystem>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.hpp"
#include "core/status.hpp"
#include "policies/policy.hpp"
#include "resolver/resolver.hpp"
#include "store/store.hpp"

namespace lockbox::launcher {

struct RunRequest {
  // `run FUNCTION [-- EXTRA]` sets function_name and extra_args; `run [--function F] -- CMD` sets
  // command (and function_name when --function is given).
  std::optional<std::string> function_name;
  bool function_form = false;  // FUNCTION given positionally
  std::vector<std::string> command;
  std::vector<std::string> extra_args;
  std::optional<std::string> ns;       // --namespace
  std::optional<std::string> group;    // --group
  std::optional<std::string> apikey;   // --apikey
  std::vector<std::string> env_files;  // --env-file, in order
  bool pristine = false;
  std::optional<std::int64_t> timeout_ms;  // --timeout (overrides the policy's)
  bool job = false;                        // a policy job instead of a function
};

struct LaunchPlan {
  resolver::LaunchContext context;
  const policies::FunctionPolicy* function = nullptr;  // from the policy, when there is one
  std::vector<std::string> argv;                       // argv[0] is the command as given
  // Where the child runs: the policy entry's workdir when its command is used (run FUNCTION, job
  // run); empty (the invoker's directory) for run -- CMD.
  std::filesystem::path workdir;
  std::optional<std::int64_t> timeout_ms;
  resolver::Resolution resolution;  // store values decrypted
  std::string audit_target;         // "function:NS/FN" or "namespace:NS"
};

// Resolves the context, function and command from the request and the policy. kBadInput for an
// unknown function/job, a --namespace that contradicts the policy, or no command.
Result<LaunchPlan> plan_context(const RunRequest& request, const policies::Policy& policy);

// The stored layer of a resolution: the live heads of the given scopes, and one version's value.
// The store provides both locally; remote mode (api/remote_source) answers from the server's
// resolve response.
// The heads among `winners` (one chosen winner per name, from an agent or a server) that are in
// `scopes`: what a StoredLayer offers as the heads of those scopes, so the local resolver keeps
// them and applies this host's layers on top.
std::vector<store::SecretMeta> winners_in(const std::vector<store::SecretMeta>& winners,
                                          const std::vector<Scope>& scopes);

struct StoredLayer {
  std::function<Result<std::vector<store::SecretMeta>>(const std::vector<Scope>&)> heads;
  std::function<Result<SecretValue>(const store::SecretAddress&, std::int64_t version)> value;
};

// Resolves the variables of `plan` (stored layer, env files, host) and fills in the values of the
// stored winners (only those) unless decrypt is false.
Status resolve_plan(LaunchPlan& plan, const RunRequest& request, const policies::Policy& policy,
                    const StoredLayer& stored, const std::vector<std::string_view>& host,
                    UnixMillis now, bool decrypt = true);

// Resolves the variables of `plan` (store, env files, host) and decrypts the store winners.
// `host` is empty for remote/API use. With decrypt = false (resolve, which never shows values)
// store winners keep empty values.
Status resolve_plan(LaunchPlan& plan, const RunRequest& request, const policies::Policy& policy,
                    store::Store& store, const std::vector<std::string_view>& host, UnixMillis now,
                    bool decrypt = true);

// Reads a whole file straight into a wiping buffer (no stream buffers holding copies of values):
// env files, the remote token file. kBadInput "cannot read WHAT PATH", "WHAT PATH is not a
// regular file" (a FIFO, device or directory: refused unread, so it cannot hang), or "... is too
// large" past max_bytes.
Result<SecretValue> read_secret_file(const std::string& path, std::string_view what,
                                     std::size_t max_bytes = std::size_t{64} << 20);

// What --watch compares: every store winner's (env, scope, version, expiry).
std::string plan_fingerprint(const LaunchPlan& plan);

// "A@global#v3,B@namespace:prod#v1" for the audit record; names and versions, never values.
std::string injected_summary(const LaunchPlan& plan);

}  // namespace lockbox::launcher
