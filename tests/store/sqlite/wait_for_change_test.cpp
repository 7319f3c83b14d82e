// Store::wait_for_change (SPEC §11 "changes are pushed"; SQLite polls): a write committed by
// another connection wakes a waiter well before its timeout; no write means the timeout.
#include <catch2/catch.hpp>
#include <chrono>
#include <thread>

#include "tests/store/sqlite/store_fixture.hpp"

namespace lockbox::testing {

TEST_CASE("wait_for_change returns soon after another connection commits a write") {
  StoreFixture f;
  auto writer = f.reopen();
  const std::int64_t seen = f.store->change_counter().value();
  std::thread other([&] { REQUIRE(writer->set(set_request(Scope::global(), "A", "v")).is_ok()); });
  const auto start = std::chrono::steady_clock::now();
  const auto counter = f.store->wait_for_change(seen, 20'000);
  const auto waited = std::chrono::steady_clock::now() - start;
  other.join();
  REQUIRE(counter.is_ok());
  CHECK(*counter == seen + 1);
  CHECK(waited < std::chrono::seconds(5));
}

TEST_CASE("wait_for_change without a write returns the same counter at its timeout") {
  StoreFixture f;
  const std::int64_t seen = f.store->change_counter().value();
  const auto counter = f.store->wait_for_change(seen, 150);
  REQUIRE(counter.is_ok());
  CHECK(*counter == seen);
}

}  // namespace lockbox::testing
