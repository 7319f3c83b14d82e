#pragma once
// Scope addresses (SPEC §1). Canonical text forms (exact):
//   apikey:<id>   group:<id>   function:<namespace>/<function>   namespace:<ns>   global
// Identifiers and secret names follow the name rule [A-Za-z0-9_-]{1,256}.

#include <optional>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace lockbox {

// NOTE: the order is the default resolution order, most specific first.
enum class ScopeKind { kApikey, kGroup, kFunction, kNamespace, kGlobal };

std::string_view to_string(ScopeKind kind);
std::optional<ScopeKind> parse_scope_kind(std::string_view text);

// True when `name` matches [A-Za-z0-9_-]{1,256}.
bool is_valid_name(std::string_view name);
// kBadInput naming `what` (e.g. "secret name") when invalid; the name itself is echoed only when
// it is short and printable-safe, because a mistyped value may land in a name argument.
Status validate_name(std::string_view name, std::string_view what);

class Scope {
 public:
  Scope() = default;  // global
  static Scope global() { return {}; }
  static Scope apikey(std::string id) { return {ScopeKind::kApikey, std::move(id), {}}; }
  static Scope group(std::string id) { return {ScopeKind::kGroup, std::move(id), {}}; }
  static Scope ns(std::string ns) { return {ScopeKind::kNamespace, std::move(ns), {}}; }
  static Scope function(std::string ns, std::string fn) {
    return {ScopeKind::kFunction, std::move(ns), std::move(fn)};
  }

  // Parses a canonical address; kBadInput on anything else.
  static Result<Scope> parse(std::string_view address);

  [[nodiscard]] ScopeKind kind() const { return kind_; }
  // apikey/group id, or the namespace of namespace:/function: scopes.
  [[nodiscard]] const std::string& id() const { return id_; }
  [[nodiscard]] const std::string& function_name() const { return fn_; }
  [[nodiscard]] std::string address() const;

  bool operator==(const Scope&) const = default;

 private:
  Scope(ScopeKind k, std::string id, std::string fn) : kind_(k), id_(std::move(id)), fn_(std::move(fn)) {}
  ScopeKind kind_ = ScopeKind::kGlobal;
  std::string id_;
  std::string fn_;
};

}  // namespace lockbox
