#pragma once
// Private to lockbox_policies: the lockbox-specific values of a policy file (names, scope kinds,
// scope patterns, secret globs, commands), each read and checked with its position. Messages
// follow yaml_reader.hpp: "SOURCE:LINE:COLUMN: message".

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

#include "core/scope.hpp"
#include "core/status.hpp"
#include "policies/internal/yaml_reader.hpp"

namespace lockbox::policies::internal {

// [A-Za-z_][A-Za-z0-9_]* or empty (SPEC §3).
bool is_valid_prefix(std::string_view prefix);
// 1-256 characters of the name rule plus `*` and `?`.
bool is_valid_secret_glob(std::string_view glob);

// ok when `name` follows the name rule; else "invalid WHAT 'name': ..." at `mark`.
Status check_name(const YamlReader& reader, const YAML::Mark& mark, const std::string& name,
                  std::string_view what);

// A non-empty list of scope kinds, each at most once.
Result<std::vector<ScopeKind>> read_resolution(const YamlReader& reader, const Field& field);
// A list of secret names (`require`).
Result<std::vector<std::string>> read_name_list(const YamlReader& reader, const Field& field);
// A list of scope patterns (scope_pattern.hpp).
Result<std::vector<std::string>> read_scope_patterns(const YamlReader& reader, const Field& field);
// A list of secret globs (`secrets`).
Result<std::vector<std::string>> read_secret_globs(const YamlReader& reader, const Field& field);
// A non-empty list of strings, the first non-empty, none holding NUL; kept exactly as written.
Result<std::vector<std::string>> read_command(const YamlReader& reader, const Field& field);
// A non-empty directory path without NUL, resolved against reader.base_dir()
// ((base_dir / text).lexically_normal(); an absolute path stays as it is).
Result<std::filesystem::path> read_workdir(const YamlReader& reader, const Field& field);

}  // namespace lockbox::policies::internal
