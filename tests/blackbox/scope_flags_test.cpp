// Unit tests of cli/scope_flags: the exact mapping of SPEC §5 and every refused combination.

#include "cli/scope_flags.hpp"

#include <catch2/catch.hpp>

namespace lockbox::cli {
namespace {

std::string address_of(const ScopeFlags& flags) {
  auto scope = scope_from_flags(flags);
  REQUIRE(scope.is_ok());
  return scope.value().address();
}

StatusCode code_of(const ScopeFlags& flags) {
  return scope_from_flags(flags).status().code();
}

TEST_CASE("scope flags map to canonical addresses", "[cli][scope]") {
  CHECK(address_of({}) == "global");
  CHECK(address_of({.scope = "namespace:prod"}) == "namespace:prod");
  CHECK(address_of({.scope = "global"}) == "global");
  CHECK(address_of({.apikey = "k1"}) == "apikey:k1");
  CHECK(address_of({.group = "g1"}) == "group:g1");
  CHECK(address_of({.function = "fn"}) == "function:default/fn");
  CHECK(address_of({.function = "fn", .ns = "prod"}) == "function:prod/fn");
  CHECK(address_of({.ns = "staging"}) == "namespace:staging");
}

TEST_CASE("conflicting scope flags are bad input", "[cli][scope]") {
  CHECK(code_of({.scope = "global", .ns = "x"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "global", .apikey = "k"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "global", .function = "f"}) == StatusCode::kBadInput);
  CHECK(code_of({.apikey = "k", .group = "g"}) == StatusCode::kBadInput);
  CHECK(code_of({.apikey = "k", .ns = "n"}) == StatusCode::kBadInput);
  CHECK(code_of({.apikey = "k", .function = "f"}) == StatusCode::kBadInput);
  CHECK(code_of({.group = "g", .ns = "n"}) == StatusCode::kBadInput);
  CHECK(code_of({.group = "g", .function = "f"}) == StatusCode::kBadInput);
}

TEST_CASE("the Fluxbase grammar --scope KIND with the flag of that kind maps like the context flags", "[cli][scope]") {
  CHECK(address_of({.scope = "namespace", .ns = "production"}) == "namespace:production");
  CHECK(address_of({.scope = "function", .function = "fn"}) == "function:default/fn");
  CHECK(address_of({.scope = "function", .function = "fn", .ns = "p"}) == "function:p/fn");
  CHECK(address_of({.scope = "group", .group = "g1"}) == "group:g1");
  CHECK(address_of({.scope = "apikey", .apikey = "k1"}) == "apikey:k1");
  CHECK(address_of({.scope = "global"}) == "global");
}

TEST_CASE("the Fluxbase grammar --scope KIND without its flag or with another kind's flag is bad input",
          "[cli][scope]") {
  CHECK(code_of({.scope = "namespace"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "function", .ns = "p"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "group"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "apikey"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "namespace", .group = "g", .ns = "n"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "function", .apikey = "k", .function = "f"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "group", .group = "g", .ns = "n"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "apikey", .apikey = "k", .function = "f"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "global", .group = "g"}) == StatusCode::kBadInput);
  CHECK(code_of({.scope = "namespace", .ns = "bad ns"}) == StatusCode::kBadInput);
}

TEST_CASE("invalid scope identifiers are bad input and not echoed", "[cli][scope]") {
  for (const ScopeFlags& flags :
       {ScopeFlags{.scope = "cluster:x"}, ScopeFlags{.scope = "namespace:"},
        ScopeFlags{.scope = "function:onlyns"}, ScopeFlags{.apikey = "has space"},
        ScopeFlags{.group = ""}, ScopeFlags{.function = "f/g"}, ScopeFlags{.ns = "a.b"},
        ScopeFlags{.function = "f", .ns = "bad ns"}}) {
    const Status status = scope_from_flags(flags).status();
    CHECK(status.code() == StatusCode::kBadInput);
    CHECK(status.message().find("has space") == std::string::npos);
  }
}

}  // namespace
}  // namespace lockbox::cli
