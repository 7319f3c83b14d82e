#pragma once
// Helpers shared by the PostgreSQL raw-edit tests (pg_tamper_test.cpp, pg_audit_tamper_test.cpp).
// The fixture, the scratch database and raw SQL through libpq are StoreFixture's
// (tests/store/sqlite/store_fixture.hpp: f.sql, f.count, pg_rows).

#include <catch2/catch.hpp>
#include <string>

#include "store/store.hpp"

namespace lockbox::testing::pg {

// Sets `name` in `scope` to `value`; REQUIREs success.
void put(store::Store& s, const Scope& scope, const std::string& name, const std::string& value);

// A PostgreSQL expression for `n` (1..32) random bytes, as SQLite's randomblob(n) (no pgcrypto).
std::string random_bytes(int n);

// REQUIREs that `result` failed with an integrity error (exit 5) whose message contains `what`.
template <typename R>
void check_refused(const R& result, const std::string& what) {
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().code() == StatusCode::kIntegrity);
  INFO(result.status().message());
  CHECK(result.status().message().find(what) != std::string::npos);
}

}  // namespace lockbox::testing::pg
