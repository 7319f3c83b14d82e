#include "core/scope.hpp"

#include <array>

namespace lockbox {
namespace {

constexpr std::array<std::string_view, 5> kKindNames = {"apikey", "group", "function", "namespace",
                                                       "global"};

bool is_name_char(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
         c == '-';
}

}  // namespace

std::string_view to_string(ScopeKind kind) { return kKindNames[static_cast<std::size_t>(kind)]; }

std::optional<ScopeKind> parse_scope_kind(std::string_view text) {
  for (std::size_t i = 0; i < kKindNames.size(); ++i) {
    if (kKindNames[i] == text) return static_cast<ScopeKind>(i);
  }
  return std::nullopt;
}

bool is_valid_name(std::string_view name) {
  if (name.empty() || name.size() > 256) return false;
  for (char c : name) {
    if (!is_name_char(c)) return false;
  }
  return true;
}

Status validate_name(std::string_view name, std::string_view what) {
  if (is_valid_name(name)) return Status::ok();
  if (name.empty()) return bad_input(std::string("empty ") + std::string(what));
  if (name.size() > 256) {
    return bad_input(std::string(what) + " is longer than 256 characters");
  }
  // Do not echo: the argument may be a value pasted in the wrong place.
  return bad_input("invalid " + std::string(what) + ": only A-Z a-z 0-9 _ - are allowed");
}

Result<Scope> Scope::parse(std::string_view address) {
  if (address == "global") return Scope::global();
  const auto colon = address.find(':');
  if (colon == std::string_view::npos) {
    return bad_input("unknown scope: expected global, namespace:NS, function:NS/FN, group:G or apikey:K");
  }
  const auto kind = parse_scope_kind(address.substr(0, colon));
  const std::string_view rest = address.substr(colon + 1);
  if (!kind || *kind == ScopeKind::kGlobal) {
    return bad_input("unknown scope kind: expected global, namespace, function, group or apikey");
  }
  if (*kind == ScopeKind::kFunction) {
    const auto slash = rest.find('/');
    if (slash == std::string_view::npos) return bad_input("function scope must be function:NS/FN");
    const std::string_view ns = rest.substr(0, slash);
    const std::string_view fn = rest.substr(slash + 1);
    LOCKBOX_TRY(validate_name(ns, "namespace in scope"));
    LOCKBOX_TRY(validate_name(fn, "function in scope"));
    return Scope::function(std::string(ns), std::string(fn));
  }
  LOCKBOX_TRY(validate_name(rest, "scope identifier"));
  switch (*kind) {
    case ScopeKind::kApikey: return Scope::apikey(std::string(rest));
    case ScopeKind::kGroup: return Scope::group(std::string(rest));
    default: return Scope::ns(std::string(rest));
  }
}

std::string Scope::address() const {
  switch (kind_) {
    case ScopeKind::kGlobal: return "global";
    case ScopeKind::kFunction: return "function:" + id_ + "/" + fn_;
    default: return std::string(to_string(kind_)) + ":" + id_;
  }
}

}  // namespace lockbox
