#include "policies/scope_pattern.hpp"

#include "core/glob.hpp"
#include "core/scope.hpp"

namespace lockbox::policies {
namespace {

constexpr std::size_t kMaxSegment = 256;

// One identifier segment: name-rule characters and `*`, 1-256 of them.
bool is_valid_segment(std::string_view segment) {
  if (segment.empty() || segment.size() > kMaxSegment) return false;
  for (char c : segment) {
    const bool name_char = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                           (c >= '0' && c <= '9') || c == '_' || c == '-';
    if (!name_char && c != '*') return false;
  }
  return true;
}

}  // namespace

bool is_valid_scope_pattern(std::string_view pattern) {
  if (pattern == "*" || pattern == "global") return true;
  const auto colon = pattern.find(':');
  if (colon == std::string_view::npos) return false;
  const auto kind = parse_scope_kind(pattern.substr(0, colon));
  if (!kind || *kind == ScopeKind::kGlobal) return false;
  const std::string_view rest = pattern.substr(colon + 1);
  if (*kind != ScopeKind::kFunction) return is_valid_segment(rest);
  const auto slash = rest.find('/');
  if (slash == std::string_view::npos) return false;
  return is_valid_segment(rest.substr(0, slash)) && is_valid_segment(rest.substr(slash + 1));
}

Status validate_scope_pattern(std::string_view pattern) {
  if (is_valid_scope_pattern(pattern)) return Status::ok();
  return bad_input(
      "invalid scope pattern: expected *, global, apikey:ID, group:ID, namespace:ID or "
      "function:NS/FN, where an identifier may contain *");
}

bool scope_pattern_matches(std::string_view pattern, const Scope& scope) {
  if (!is_valid_scope_pattern(pattern)) return false;
  if (pattern == "*") return true;
  if (pattern == "global") return scope.kind() == ScopeKind::kGlobal;
  const auto colon = pattern.find(':');
  if (parse_scope_kind(pattern.substr(0, colon)) != scope.kind()) return false;
  // A valid pattern's segments hold name-rule characters and `*` only, and a scope's identifiers
  // never contain `/` or `:`, so matching segment by segment keeps `*` inside its segment.
  const std::string_view rest = pattern.substr(colon + 1);
  if (scope.kind() != ScopeKind::kFunction) return glob_match(rest, scope.id());
  const auto slash = rest.find('/');
  return glob_match(rest.substr(0, slash), scope.id()) &&
         glob_match(rest.substr(slash + 1), scope.function_name());
}

}  // namespace lockbox::policies
