#include "policies/internal/value_readers.hpp"

#include <algorithm>

#include "policies/scope_pattern.hpp"

namespace lockbox::policies::internal {
namespace {

constexpr std::size_t kMaxGlob = 256;

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

// The strings of a list, each checked by `valid`; the first failure is "invalid WHAT 'x' in
// 'key': EXPECTED" at that element.
template <typename Valid>
Result<std::vector<std::string>> read_checked_list(const YamlReader& r, const Field& f,
                                                   std::string_view what, std::string_view expected,
                                                   Valid valid) {
  LOCKBOX_ASSIGN_OR_RETURN(std::vector<Field> items, r.list_items(f));
  std::vector<std::string> out;
  out.reserve(items.size());
  for (const Field& item : items) {
    LOCKBOX_ASSIGN_OR_RETURN(std::string text, r.string(item));
    if (!valid(text)) {
      return r.error_at(item, "invalid " + std::string(what) + " " + in_quotes(text) + " in " +
                                  in_quotes(f.name) + ": expected " + std::string(expected));
    }
    out.push_back(std::move(text));
  }
  return out;
}

}  // namespace

bool is_valid_prefix(std::string_view prefix) {
  for (std::size_t i = 0; i < prefix.size(); ++i) {
    const char c = prefix[i];
    if (c == '-' || !is_name_char(c) || (i == 0 && c >= '0' && c <= '9')) return false;
  }
  return true;
}

bool is_valid_secret_glob(std::string_view glob) {
  if (glob.empty() || glob.size() > kMaxGlob) return false;
  return std::all_of(glob.begin(), glob.end(),
                     [](char c) { return is_name_char(c) || c == '*' || c == '?'; });
}

Status check_name(const YamlReader& r, const YAML::Mark& mark, const std::string& name,
                  std::string_view what) {
  if (is_valid_name(name)) return Status::ok();
  return r.error_at(mark, "invalid " + std::string(what) + " " + in_quotes(name) +
                              ": expected 1-256 characters of A-Z a-z 0-9 _ -");
}

Result<std::vector<ScopeKind>> read_resolution(const YamlReader& r, const Field& f) {
  LOCKBOX_ASSIGN_OR_RETURN(std::vector<Field> items, r.list_items(f));
  if (items.empty()) return r.error_at(f, "'resolution' must list at least one scope kind");
  std::vector<ScopeKind> kinds;
  for (const Field& item : items) {
    LOCKBOX_ASSIGN_OR_RETURN(std::string text, r.string(item));
    const auto kind = parse_scope_kind(text);
    if (!kind) {
      return r.error_at(item, "unknown scope kind " + in_quotes(text) +
                                  " in 'resolution': expected apikey, group, function, "
                                  "namespace or global");
    }
    if (std::find(kinds.begin(), kinds.end(), *kind) != kinds.end()) {
      return r.error_at(item, "scope kind " + in_quotes(text) + " appears twice in 'resolution'");
    }
    kinds.push_back(*kind);
  }
  return kinds;
}

Result<std::vector<std::string>> read_name_list(const YamlReader& r, const Field& f) {
  return read_checked_list(r, f, "secret name", "1-256 characters of A-Z a-z 0-9 _ -",
                           [](const std::string& s) { return is_valid_name(s); });
}

Result<std::vector<std::string>> read_scope_patterns(const YamlReader& r, const Field& f) {
  return read_checked_list(r, f, "scope pattern",
                           "*, global, apikey:ID, group:ID, namespace:ID or function:NS/FN, where "
                           "an identifier may contain *",
                           [](const std::string& s) { return is_valid_scope_pattern(s); });
}

Result<std::vector<std::string>> read_secret_globs(const YamlReader& r, const Field& f) {
  return read_checked_list(r, f, "secret glob", "1-256 characters of A-Z a-z 0-9 _ - * ?",
                           [](const std::string& s) { return is_valid_secret_glob(s); });
}

Result<std::vector<std::string>> read_command(const YamlReader& r, const Field& f) {
  LOCKBOX_ASSIGN_OR_RETURN(std::vector<Field> items, r.list_items(f));
  if (items.empty()) return r.error_at(f, "expected a non-empty list for 'command'");
  std::vector<std::string> command;
  command.reserve(items.size());
  for (const Field& item : items) {
    LOCKBOX_ASSIGN_OR_RETURN(std::string arg, r.string(item));
    if (arg.find('\0') != std::string::npos) return r.error_at(item, "NUL byte in 'command'");
    command.push_back(std::move(arg));  // exactly as written (SPEC §9): never rewritten
  }
  if (command.front().empty()) return r.error_at(items.front(), "empty program name in 'command'");
  return command;
}

Result<std::filesystem::path> read_workdir(const YamlReader& r, const Field& f) {
  LOCKBOX_ASSIGN_OR_RETURN(std::string text, r.string(f));
  if (text.empty()) return r.error_at(f, "empty 'workdir'");
  if (text.find('\0') != std::string::npos) return r.error_at(f, "NUL byte in 'workdir'");
  std::filesystem::path dir = (r.base_dir() / text).lexically_normal();
  if (!dir.has_filename() && dir != dir.root_path()) dir = dir.parent_path();  // "a/.." is "a/"
  return dir;
}

}  // namespace lockbox::policies::internal
