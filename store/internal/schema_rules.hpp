#pragma once
// Private to lockbox_store: the two schema verdicts every backend reports in the same words
// (SPEC §11 "same contract as SQLite"), so no backend invents its own message.

#include <string>
#include <string_view>

#include <fmt/format.h>

#include "core/status.hpp"

namespace lockbox::store {

// A store written by a newer lockbox: refused, nothing changed (kRuntime).
inline Status newer_schema_error(int found, int latest) {
  return runtime_error(fmt::format("store schema v{} is newer than this lockbox (v{})", found, latest));
}

// An object in the store's schema that lockbox did not create (a trigger, rule, view, policy,
// function, unknown table or index): it could change what a query returns, so the store is
// refused at open (kIntegrity, exit 5).
inline Status unknown_schema_object_error(std::string_view type, std::string_view name) {
  return integrity_error(fmt::format("the store's schema holds a {} lockbox did not create ({}): the "
                                     "database was tampered with; remove it or restore a backup",
                                     type, name));
}

}  // namespace lockbox::store
