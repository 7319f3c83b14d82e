#include "policies/scope_pattern.hpp"

#include <catch2/catch.hpp>
#include <string>

using namespace lockbox;
using lockbox::policies::is_valid_scope_pattern;
using lockbox::policies::validate_scope_pattern;

TEST_CASE("scope patterns accept canonical addresses with * inside identifiers",
          "[policies][scope_pattern]") {
  for (const char* pattern : {"*", "global", "namespace:production", "namespace:prod*",
                              "function:production/*", "function:*/send-*", "function:*/*",
                              "apikey:*", "group:team-*", "apikey:k1", "namespace:*prod*"}) {
    INFO(pattern);
    CHECK(is_valid_scope_pattern(pattern));
    CHECK(validate_scope_pattern(pattern).is_ok());
  }
}

TEST_CASE("scope patterns refuse wildcard kinds, missing segments and foreign characters",
          "[policies][scope_pattern]") {
  for (const char* pattern :
       {"", "**x", "global*", "globa", "*:prod", "namespace*:x", "namespace:", "namespace:a/b",
        "namespace:a:b", "function:*", "function:ns", "function:/fn", "function:ns/",
        "function:a/b/c", "global:x", "team:x", "apikey:has space", "namespace:prod?", "group:é"}) {
    INFO(pattern);
    CHECK_FALSE(is_valid_scope_pattern(pattern));
    CHECK(validate_scope_pattern(pattern).code() == StatusCode::kBadInput);
  }
  CHECK(is_valid_scope_pattern("namespace:" + std::string(256, '*')));
  CHECK_FALSE(is_valid_scope_pattern("namespace:" + std::string(257, 'a')));
}

TEST_CASE("a scope pattern matches its kind, with * inside one segment only",
          "[policies][scope_pattern]") {
  using lockbox::policies::scope_pattern_matches;
  const Scope prod = Scope::ns("production");
  const Scope fn = Scope::function("production", "send-email");
  CHECK(scope_pattern_matches("*", prod));
  CHECK(scope_pattern_matches("*", Scope::global()));
  CHECK(scope_pattern_matches("global", Scope::global()));
  CHECK_FALSE(scope_pattern_matches("global", prod));
  CHECK(scope_pattern_matches("namespace:production", prod));
  CHECK(scope_pattern_matches("namespace:prod*", prod));
  CHECK_FALSE(scope_pattern_matches("namespace:prod", prod));
  // namespace:X does not imply function:X/*, and the kind is never a wildcard.
  CHECK_FALSE(scope_pattern_matches("namespace:production", fn));
  CHECK_FALSE(scope_pattern_matches("namespace:*", fn));
  CHECK(scope_pattern_matches("function:production/*", fn));
  CHECK(scope_pattern_matches("function:*/send-*", fn));
  CHECK_FALSE(scope_pattern_matches("function:staging/*", fn));
  CHECK_FALSE(scope_pattern_matches("function:production/send", fn));
  // `*` never crosses the namespace/function boundary.
  CHECK_FALSE(scope_pattern_matches("function:prod*/email", Scope::function("prod", "x-email")));
  CHECK(scope_pattern_matches("apikey:*", Scope::apikey("k1")));
  CHECK_FALSE(scope_pattern_matches("group:*", Scope::apikey("k1")));
  CHECK(scope_pattern_matches("group:team-*", Scope::group("team-a")));
  // An invalid pattern matches nothing, not even what its text would suggest.
  CHECK_FALSE(scope_pattern_matches("namespace:prod?", prod));
  CHECK_FALSE(scope_pattern_matches("*:production", prod));
  CHECK_FALSE(scope_pattern_matches("", Scope::global()));
}
