#pragma once
// Checks of the audit chain shared by the SQLite and PostgreSQL raw-edit tests
// (tests/store/sqlite/audit_verify_test.cpp, tests/store/postgres/pg_audit_tamper_test.cpp).

#include <catch2/catch.hpp>
#include <cstdint>
#include <optional>
#include <string>

#include "store/store.hpp"
#include "tests/store/sqlite/store_fixture.hpp"

namespace lockbox::testing {

// `audit verify` through a fresh connection, as a separate `lockbox audit verify` process has.
inline store::AuditVerifyResult verify(
    StoreFixture& f, const std::optional<store::AuditCheckpoint>& cp = std::nullopt) {
  auto store = f.reopen();
  auto result = store->verify_audit(cp);
  INFO(result.status().message());
  REQUIRE(result.is_ok());
  return result.value();
}

// Checks that verify names `seq` and that its problem mentions `what`.
inline void check_broken_at(StoreFixture& f, std::int64_t seq, const std::string& what,
                            const std::optional<store::AuditCheckpoint>& cp = std::nullopt) {
  const store::AuditVerifyResult r = verify(f, cp);
  INFO(r.problem);
  REQUIRE(r.first_bad_seq.has_value());
  CHECK(*r.first_bad_seq == seq);
  CHECK(r.problem.find(what) != std::string::npos);
}

inline store::AuditCheckpoint checkpoint_of(StoreFixture& f) {
  auto cp = f.store->audit_checkpoint();
  REQUIRE(cp.is_ok());
  return cp.value();
}

}  // namespace lockbox::testing
