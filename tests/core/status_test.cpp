#include "core/status.hpp"

#include <catch2/catch.hpp>

using namespace lockbox;

namespace {
Result<int> half(int x) {
  if (x % 2 != 0) return bad_input("odd");
  return x / 2;
}
Result<int> quarter(int x) {
  LOCKBOX_ASSIGN_OR_RETURN(const int h, half(x));
  LOCKBOX_ASSIGN_OR_RETURN(const int q, half(h));
  return q;
}
Status check_even(int x) {
  LOCKBOX_TRY(half(x));
  return Status::ok();
}
}  // namespace

TEST_CASE("exit codes map one-to-one to the SPEC table", "[core][status]") {
  CHECK(exit_code_for(Status::ok()) == 0);
  CHECK(exit_code_for(runtime_error("x")) == 1);
  CHECK(exit_code_for(bad_input("x")) == 2);
  CHECK(exit_code_for(not_found("x")) == 3);
  CHECK(exit_code_for(key_error("x")) == 4);
  CHECK(exit_code_for(integrity_error("x")) == 5);
  CHECK(exit_code_for(denied("x")) == 6);
}

TEST_CASE("errors propagate through LOCKBOX_TRY and LOCKBOX_ASSIGN_OR_RETURN", "[core][status]") {
  CHECK(quarter(8).value() == 2);
  CHECK(quarter(6).status().code() == StatusCode::kBadInput);
  CHECK(check_even(3).code() == StatusCode::kBadInput);
  CHECK(check_even(4).is_ok());
  CHECK(bad_input("odd").with_context("parsing").message() == "parsing: odd");
}
