#pragma once
// The write/read scope of a management command (SPEC §5, exact):
//   --scope ADDRESS                      the canonical address (Scope::parse)
//   --apikey K                           apikey:K
//   --group G                            group:G
//   --function F [--namespace N]         function:N/F (N defaults to "default")
//   --namespace N                        namespace:N
//   none                                 global
// and the Fluxbase grammar: --scope KIND with KIND one of global namespace function group apikey,
// with exactly the flag(s) of that kind (--scope namespace --namespace N, --scope function
// --function F [--namespace N], --scope group --group G, --scope apikey --apikey K, --scope global).
// Any other combination (--scope with a context flag, --apikey with --group, --apikey with
// --namespace, --group with --function ...) is kBadInput (exit 2). Identifiers follow the name
// rule; an invalid one is kBadInput without echoing it.

#include <optional>
#include <string>

#include "core/scope.hpp"
#include "core/status.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace lockbox::cli {

// Each flag as given (absent = not on the command line). The `{}` initializers let tests use
// designated initializers without -Wmissing-field-initializers.
struct ScopeFlags {
  std::optional<std::string> scope{};
  std::optional<std::string> apikey{};
  std::optional<std::string> group{};
  std::optional<std::string> function{};
  std::optional<std::string> ns{};
};

// Adds --scope --apikey --group --function --namespace to `command`, bound to `flags`.
// REQUIRES: `flags` outlives the parse.
void add_scope_flags(CLI::App& command, ScopeFlags& flags);

// The kind when `scope` is a bare KIND word (the Fluxbase grammar), nullopt for an address or absent.
// NOTE: "global" is both a kind and an address; both mean the one global scope.
std::optional<ScopeKind> scope_kind_word(const std::optional<std::string>& scope);

// The scope the flags name, or kBadInput as described above.
Result<Scope> scope_from_flags(const ScopeFlags& flags);

}  // namespace lockbox::cli
