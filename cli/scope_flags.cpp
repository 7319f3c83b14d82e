#include "cli/scope_flags.hpp"

#include <CLI/CLI.hpp>

namespace lockbox::cli {
namespace {

constexpr std::string_view kCombinations =
    "conflicting scope flags: use --scope ADDRESS, or one of --apikey K, --group G, "
    "--function F [--namespace N], --namespace N";

constexpr std::string_view kKindFlags =
    "--scope KIND needs the flag that names it: --scope global, --scope namespace --namespace N, "
    "--scope function --function F [--namespace N], --scope group --group G, "
    "--scope apikey --apikey K";

// The Fluxbase grammar: `--scope KIND` with exactly the flags of that kind.
Result<Scope> scope_of_kind(ScopeKind kind, const ScopeFlags& flags) {
  const bool fits = [&] {
    switch (kind) {
      case ScopeKind::kGlobal:
        return !flags.apikey && !flags.group && !flags.function && !flags.ns;
      case ScopeKind::kNamespace:
        return flags.ns && !flags.apikey && !flags.group && !flags.function;
      case ScopeKind::kFunction:
        return flags.function && !flags.apikey && !flags.group;
      case ScopeKind::kGroup:
        return flags.group && !flags.apikey && !flags.function && !flags.ns;
      case ScopeKind::kApikey:
        return flags.apikey && !flags.group && !flags.function && !flags.ns;
    }
    return false;
  }();
  if (!fits) return bad_input(std::string(kKindFlags));
  ScopeFlags context = flags;
  context.scope.reset();
  return scope_from_flags(context);
}

}  // namespace

std::optional<ScopeKind> scope_kind_word(const std::optional<std::string>& scope) {
  if (!scope) return std::nullopt;
  return parse_scope_kind(*scope);
}

void add_scope_flags(CLI::App& command, ScopeFlags& flags) {
  command.add_option("--scope", flags.scope,
                     "Scope address (global, namespace:NS, function:NS/FN, group:G, "
                     "apikey:K) or a KIND with its flag (--scope namespace --namespace NS)");
  command.add_option("--apikey", flags.apikey, "Scope apikey:K");
  command.add_option("--group", flags.group, "Scope group:G");
  command.add_option("--function", flags.function, "Scope function:NS/F (NS from --namespace)");
  command.add_option("--namespace", flags.ns, "Scope namespace:NS, or the namespace of --function");
}

Result<Scope> scope_from_flags(const ScopeFlags& flags) {
  const bool any_context = flags.apikey || flags.group || flags.function || flags.ns;
  if (const auto kind = scope_kind_word(flags.scope)) return scope_of_kind(*kind, flags);
  if (flags.scope) {
    if (any_context) return bad_input(std::string(kCombinations));
    return Scope::parse(*flags.scope);
  }
  if (flags.apikey) {
    if (flags.group || flags.function || flags.ns) return bad_input(std::string(kCombinations));
    LOCKBOX_TRY(validate_name(*flags.apikey, "apikey id"));
    return Scope::apikey(*flags.apikey);
  }
  if (flags.group) {
    if (flags.function || flags.ns) return bad_input(std::string(kCombinations));
    LOCKBOX_TRY(validate_name(*flags.group, "group id"));
    return Scope::group(*flags.group);
  }
  if (flags.function) {
    const std::string ns = flags.ns.value_or("default");
    LOCKBOX_TRY(validate_name(ns, "namespace"));
    LOCKBOX_TRY(validate_name(*flags.function, "function name"));
    return Scope::function(ns, *flags.function);
  }
  if (flags.ns) {
    LOCKBOX_TRY(validate_name(*flags.ns, "namespace"));
    return Scope::ns(*flags.ns);
  }
  return Scope::global();
}

}  // namespace lockbox::cli
