#pragma once
// Loading the policy file (SPEC §9) into a validated Policy (policy.hpp). yaml-cpp stays inside
// this module; no YAML type crosses this header.
//
// Schema (every key optional; a missing key keeps the SPEC default of policy.hpp; an empty file,
// or one holding only comments, is the default policy):
//   version: 1                                     only 1 is accepted
//   resolution: [apikey, group, function, namespace, global]   non-empty, each kind at most once
//   inject: {prefix, name_transform: keep|posix, on_expired: skip|fail}
//       prefix matches [A-Za-z_][A-Za-z0-9_]* or is "" (empty: bare secret names)
//   limits: {max_value_bytes}                      1 .. 16 MiB
//   rotation: {data_key_max_age, secret_max_age, notify_before}   durations (SPEC §1)
//   namespaces: {NAME: {env_override: allow|warn|deny, resolution: [...]}}
//   functions: {NAME: {namespace, command, workdir, timeout, secrets, require}}
//   jobs: {NAME: {namespace, command, workdir, timeout, secrets, require, retries}}   retries 0 .. 100
//   roles: {NAME: {read, write, delete, reveal, resolve}}   lists of scope patterns
//                                                            (scope_pattern.hpp); `admin` is
//                                                            built in and cannot be redefined
// NAME, a function's `namespace` and each `require` entry follow the name rule
// [A-Za-z0-9_-]{1,256}. `secrets` entries are globs over secret names: name-rule characters plus
// `*` (any run of characters) and `?` (one character). An unset `namespace` stays unset (launches
// use "default"). A function's `command` is optional (for `run --function F -- CMD`); a job's is
// required. When present it is a non-empty list of strings, the first non-empty, none holding NUL.
//
// Commands and workdir (SPEC §9): every `command` element reaches exec exactly as written (a
// shell script full of '/' included); nothing is rewritten. A function or job runs its policy
// command in `workdir`: (base_dir / workdir).lexically_normal() (absolute stays absolute; no
// symlink is resolved, nothing is checked on disk), and without `workdir` in base_dir itself, so
// `command: [python3, functions/x.py]` finds the script beside the policy file.
//
// Errors are kBadInput with one line, "FILE:LINE:COLUMN: message", 1-based, at the offending key
// (unknown key, duplicate key, bad name, refused role) or value (wrong type, bad duration, bad
// enum, prefix, version, resolution kind, scope pattern, out-of-range integer); YAML syntax errors
// carry yaml-cpp's position and message. More than one YAML document in the file is an error.
// Thread-safety: both functions are reentrant.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.hpp"
#include "policies/policy.hpp"

namespace lockbox::policies {

// Largest policy file load_policy_file() reads; a larger one is refused before parsing.
inline constexpr std::size_t kMaxPolicyFileBytes = 4 * 1024 * 1024;

// Reads and parses the file at `path`. Workdirs resolve against the directory of
// std::filesystem::absolute(path); errors name `path` as given. Policy::source is `path`.
// Errors: as parse_policy(), plus kBadInput "cannot read policy file FILE: reason" when it cannot
// be opened or read (missing, no permission, larger than kMaxPolicyFileBytes), and
// "policy file FILE is not a regular file" for a FIFO, a device or a directory (never read, so a
// FIFO cannot hang lockbox).
Result<Policy> load_policy_file(const std::filesystem::path& path);

// Parses policy text. `source` names it in errors and becomes Policy::source; workdirs resolve
// against `base_dir` (pass an absolute directory to get absolute paths), and a function or job
// without `workdir` gets base_dir itself.
Result<Policy> parse_policy(std::string_view yaml, const std::string& source,
                            const std::filesystem::path& base_dir);

}  // namespace lockbox::policies
