#include "core/scope.hpp"

#include <catch2/catch.hpp>

using namespace lockbox;

TEST_CASE("scope addresses round-trip through their canonical text", "[core][scope]") {
  for (const char* text : {"global", "apikey:k1", "group:g-1", "function:production/send-email",
                           "namespace:staging"}) {
    const auto scope = Scope::parse(text);
    REQUIRE(scope.is_ok());
    CHECK(scope->address() == text);
  }
  CHECK(Scope::function("default", "fn").address() == "function:default/fn");
  CHECK(Scope::parse("namespace:prod")->kind() == ScopeKind::kNamespace);
}

TEST_CASE("malformed scope addresses are bad input", "[core][scope]") {
  for (const char* text : {"", "globl", "team:x", "namespace:", "namespace:a/b", "function:ns",
                           "function:/fn", "function:ns/", "apikey:a:b", "global:x", "group:has space"}) {
    INFO(text);
    CHECK(Scope::parse(text).status().code() == StatusCode::kBadInput);
  }
}

TEST_CASE("the name rule is [A-Za-z0-9_-]{1,256} and case-sensitive", "[core][scope]") {
  CHECK(is_valid_name("API_KEY"));
  CHECK(is_valid_name("api-key_2"));
  CHECK(is_valid_name(std::string(256, 'a')));
  CHECK_FALSE(is_valid_name(std::string(257, 'a')));
  CHECK_FALSE(is_valid_name(""));
  CHECK_FALSE(is_valid_name("A.B"));
  CHECK_FALSE(is_valid_name("A B"));
  CHECK_FALSE(is_valid_name("é"));
}

TEST_CASE("name errors do not echo the rejected text", "[core][scope]") {
  const auto status = validate_name("sk_live_canary value", "secret name");
  CHECK(status.code() == StatusCode::kBadInput);
  CHECK(status.message().find("canary") == std::string::npos);
}
