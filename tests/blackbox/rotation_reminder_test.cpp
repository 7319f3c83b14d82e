// Black-box: rotation reminders (SPEC §13): `secrets set --rotate-every DUR [--notify-before DUR]`,
// carried to the next version, `secrets list` marks "rotation due" (table NOTES and JSON
// rotation.due), `doctor` reports it and exits 1. Time moves with LOCKBOX_TEST_NOW (at()).
#include <boost/json.hpp>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

const boost::json::value& only(const boost::json::value& list) {
  REQUIRE(list.as_array().size() == 1);
  return list.as_array()[0];
}

}  // namespace

TEST_CASE("a rotation reminder falls due at rotate_every minus notify_before",
          "[blackbox][rotation]") {
  Lockbox box;
  box.init();
  box.set("API_KEY", kCanary, {"--rotate-every", "30d", "--notify-before", "7d"});
  box.set("PLAIN", "v");

  const auto early = box.run({"secrets", "list", "--json"}, at(22 * kDay));
  REQUIRE(early.exit_code == 0);
  const auto early_json = boost::json::parse(early.out);
  const auto& api_key = early_json.as_array()[0];
  CHECK(api_key.at("rotation").at("rotate_every") == "30d");
  CHECK(api_key.at("rotation").at("notify_before") == "7d");
  CHECK(api_key.at("rotation").at("due") == false);
  CHECK_FALSE(early_json.as_array()[1].as_object().contains("rotation"));
  CHECK_FALSE(contains(box.run({"secrets", "list"}, at(22 * kDay)).out, "rotation due"));
  CHECK(box.run({"doctor"}, at(22 * kDay)).exit_code == 0);

  const auto due = box.run({"secrets", "list"}, at(24 * kDay));
  REQUIRE(due.exit_code == 0);
  CHECK(contains(due.out, "rotation due"));
  CHECK_FALSE(contains(due.out, kCanary));
  const auto due_json = box.run({"secrets", "list", "--json"}, at(24 * kDay));
  CHECK(boost::json::parse(due_json.out).as_array()[0].at("rotation").at("due") == true);
  const auto doctor = box.run({"doctor"}, at(24 * kDay));
  CHECK(doctor.exit_code == 1);
  CHECK(contains(doctor.out, "global/API_KEY is due for rotation"));
  CHECK_FALSE(contains(doctor.out, "global/PLAIN"));
  CHECK_FALSE(contains(doctor.out, kCanary));
  const auto get = box.run({"secrets", "get", "API_KEY"}, at(24 * kDay));
  CHECK(contains(get.out, "(rotation due)"));
  CHECK(contains(get.err, "is due for rotation"));
}

TEST_CASE("a new value restarts the reminder, which carries over until removed with 0",
          "[blackbox][rotation]") {
  Lockbox box;
  box.init();
  box.set("API_KEY", "one", {"--rotate-every", "30d"});
  CHECK(box.run({"doctor"}, at(31 * kDay)).exit_code == 1);
  // Written "later": the reminder carries over and counts from this version.
  const auto rotated = box.run_stdin({"secrets", "set", "API_KEY"}, "two", at(31 * kDay));
  REQUIRE(rotated.exit_code == 0);
  const auto list = box.run({"secrets", "list", "--json"}, at(32 * kDay));
  const auto parsed = boost::json::parse(list.out);
  const auto& meta = only(parsed);
  CHECK(meta.at("version") == 2);
  CHECK(meta.at("rotation").at("rotate_every") == "30d");
  CHECK(meta.at("rotation").at("due") == false);
  CHECK(box.run({"doctor"}, at(32 * kDay)).exit_code == 0);

  REQUIRE(box.run_stdin({"secrets", "set", "API_KEY", "--rotate-every", "0"}, "three").exit_code ==
          0);
  const auto cleared = box.run({"secrets", "get", "API_KEY", "--json"});
  CHECK_FALSE(boost::json::parse(cleared.out).as_object().contains("rotation"));
}

TEST_CASE("bad reminder durations are exit 2 and change nothing", "[blackbox][rotation]") {
  Lockbox box;
  box.init();
  const std::string before = box.snapshot();
  const auto malformed = box.run_stdin({"secrets", "set", "K", "--rotate-every", "soon"}, "v");
  CHECK(malformed.exit_code == 2);
  CHECK(contains(malformed.err, "--rotate-every: expected a duration"));
  const auto alone = box.run_stdin({"secrets", "set", "K", "--notify-before", "7d"}, "v");
  CHECK(alone.exit_code == 2);
  CHECK(contains(alone.err, "a rotation notice needs a rotation period"));
  const auto longer =
      box.run_stdin({"secrets", "set", "K", "--rotate-every", "7d", "--notify-before", "7d"}, "v");
  CHECK(longer.exit_code == 2);
  CHECK(box.snapshot() == before);
}

}  // namespace lockbox::testing
