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
