#include "tests/store/postgres/pg_test_support.hpp"

#include <fmt/format.h>

#include "tests/store/sqlite/store_fixture.hpp"

namespace lockbox::testing::pg {

void put(store::Store& s, const Scope& scope, const std::string& name, const std::string& value) {
  REQUIRE(s.set(set_request(scope, name, value)).is_ok());
}

std::string random_bytes(int n) {
  REQUIRE((n >= 1 && n <= 32));
  return fmt::format("decode(substr(md5(random()::text) || md5(random()::text), 1, {}), 'hex')",
                     2 * n);
}

}  // namespace lockbox::testing::pg
