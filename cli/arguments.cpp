#include "cli/arguments.hpp"

#include <charconv>

namespace lockbox::cli {

Result<store::SecretAddress> secret_address(const ScopeFlags& flags, const std::string& name) {
  LOCKBOX_ASSIGN_OR_RETURN(Scope scope, scope_from_flags(flags));
  LOCKBOX_TRY(validate_name(name, "secret name"));
  return store::SecretAddress{std::move(scope), name};
}

Result<std::int64_t> parse_version(const std::string& text) {
  std::int64_t version = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
  if (ec != std::errc() || end != text.data() + text.size() || version < 1) {
    return bad_input("VERSION must be a positive integer");
  }
  return version;
}

}  // namespace lockbox::cli
