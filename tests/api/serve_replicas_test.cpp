// Two `lockbox serve` replicas on one store (SPEC §11: a replica never serves a value older than a
// write committed through another before the request). On the [pg] pass both share one PostgreSQL
// database, as a fleet does; on the SQLite pass one file. Each round writes through one replica
// and resolves through the other at once, so a resolve cache that outlived a foreign write fails.
#include <catch2/catch.hpp>
#include <string>

#include "tests/api/serve_fixture.hpp"

namespace lockbox::testing {
namespace {

std::string value_of(const Reply& reply, const std::string& name) {
  for (const auto& s : reply.json.as_object().at("secrets").as_array()) {
    if (s.as_object().at("name").as_string() == name)
      return std::string(s.as_object().at("value").as_string());
  }
  return {};
}

}  // namespace

TEST_CASE("two serve replicas on one store: a write through one is resolved by the other at once",
          "[serve][replicas]") {
  Lockbox box;
  box.init();
  box.set("ROTATED", "value-0");
  box.set("STEADY", "steady-value");
  const std::string admin = make_token(box, "adm", "admin");
  Server a(box);
  Server b(box);
  auto to_a = client_of(a);
  auto to_b = client_of(b);
  const std::string context = R"({"namespace":"prod","function":"fn"})";
  for (int round = 1; round <= 20; ++round) {
    // Warm both caches on the current value, then write through the replica of this round.
    REQUIRE(call(*to_a, "POST", "/api/v1/resolve", admin, context).status == 200);
    REQUIRE(call(*to_b, "POST", "/api/v1/resolve", admin, context).status == 200);
    auto& writer = round % 2 == 0 ? *to_a : *to_b;
    auto& reader = round % 2 == 0 ? *to_b : *to_a;
    const std::string value = "value-" + std::to_string(round);
    const Reply put = call(writer, "PUT", "/api/v1/admin/secrets/ROTATED", admin,
                           R"({"value":")" + value + R"("})");
    REQUIRE(put.status == 200);
    const Reply seen = call(reader, "POST", "/api/v1/resolve", admin, context);
    REQUIRE(seen.status == 200);
    INFO("round " << round);
    CHECK(value_of(seen, "ROTATED") == value);
    CHECK(value_of(seen, "STEADY") == "steady-value");
  }
  CHECK(box.run({"audit", "verify"}).exit_code == 0);
  CHECK(a.stop() == 0);
  CHECK(b.stop() == 0);
}

TEST_CASE("serve keeps answering after the PostgreSQL server dropped its connections",
          "[serve][replicas]") {
  if (!pg_backend()) {
    SUCCEED("SQLite has no server connection to drop");
    return;
  }
  Lockbox box;
  box.init();
  box.set("A", "value-a");
  const std::string admin = make_token(box, "adm", "admin");
  Server server(box);
  auto client = client_of(server);
  const std::string context = R"({"namespace":"prod"})";
  REQUIRE(call(*client, "POST", "/api/v1/resolve", admin, context).status == 200);
  for (int round = 0; round < 3; ++round) {
    // What a server restart or a failover does to every session of the database.
    pg_sql("postgres",
           "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity WHERE datname = '" +
               box.pg_db() + "' AND pid <> pg_backend_pid()");
    // Every request after it is answered: each connection reconnects on its next statement.
    for (int i = 0; i < 10; ++i) {
      const Reply r = call(*client, "POST", "/api/v1/resolve", admin, context);
      INFO("round " << round << " request " << i << ": " << r.body);
      REQUIRE(r.status == 200);
      CHECK(value_of(r, "A") == "value-a");
    }
    REQUIRE(
        call(*client, "PUT", "/api/v1/admin/secrets/A", admin, R"({"value":"value-a"})").status ==
        200);
  }
  CHECK(server.stop() == 0);
}

TEST_CASE("serve drops its cached resolve answers as soon as another process writes the store",
          "[serve][replicas]") {
  Lockbox box;
  box.init();
  box.set("A", "value-1");
  const std::string admin = make_token(box, "adm", "admin");
  Server server(box, {}, {{"LOCKBOX_LOG", "debug"}});
  auto client = client_of(server);
  const std::string context = R"({"namespace":"prod"})";
  REQUIRE(call(*client, "POST", "/api/v1/resolve", admin, context).status == 200);  // cached now
  box.set("A", "value-2");  // a CLI process: PostgreSQL NOTIFY, or SQLite's counter
  // No request is needed for the answer computed under value-1 to go (and its plaintext with it).
  CHECK(server.wait_for_log("dropped 1 cached answers", std::chrono::seconds(10)));
  const Reply seen = call(*client, "POST", "/api/v1/resolve", admin, context);
  REQUIRE(seen.status == 200);
  CHECK(value_of(seen, "A") == "value-2");
  CHECK(server.stop() == 0);
}

}  // namespace lockbox::testing
