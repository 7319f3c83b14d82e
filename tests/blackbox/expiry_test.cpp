// Black-box: expiry and rotation reminders in `secrets list` and `secrets get` (SPEC §5, §9
// `rotation`). Time moves with LOCKBOX_TEST_NOW, never by sleeping; JSON and revealed values stay
// byte for byte what scripts read, whatever the reminders say.

#include <sstream>

#include "core/clock.hpp"
#include "core/time_format.hpp"
#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {


// The line of a table (or field block) that starts with `name` followed by a blank.
std::string line_of(const std::string& text, const std::string& name) {
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(name + " ", 0) == 0) return line;
  }
  FAIL("no line for " << name << " in:\n" << text);
  return {};
}

TEST_CASE("list marks expired, expiring and stale secrets in a NOTES column", "[expiry]") {
  Lockbox box;
  box.init();
  box.set("OLD", "a", {"--expires", "2d"});
  box.set("SOON", "b", {"--expires", "10d"});
  box.set("FRESH", "c");

  ProcessResult r = box.run({"secrets", "list"}, at(5 * kDay + kHour));
  INFO(r.out << r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(line_of(r.out, "NAME").find("NOTES") != std::string::npos);
  CHECK(line_of(r.out, "OLD").find("expired 3d 1h ago") != std::string::npos);
  CHECK(line_of(r.out, "OLD").find("(expired)") != std::string::npos);
  CHECK(line_of(r.out, "SOON").find("expires in 4d 22h") != std::string::npos);
  CHECK(line_of(r.out, "FRESH").substr(line_of(r.out, "FRESH").size() - 2) == " -");
  CHECK(r.out.find(" \n") == std::string::npos);  // no trailing blanks

  r = box.run({"secrets", "list"}, at(200 * kDay + kHour));
  REQUIRE(r.exit_code == 0);
  CHECK(line_of(r.out, "FRESH").find("not rotated for 200d") != std::string::npos);
  CHECK(line_of(r.out, "OLD").find("expired 198d ago; not rotated for 200d") != std::string::npos);
}

TEST_CASE("a fresh secret far from its expiry has no note and no warning", "[expiry]") {
  Lockbox box;
  box.init();
  box.set("LATER", "x", {"--expires", "30d"});
  ProcessResult r = box.run({"secrets", "list"});
  REQUIRE(r.exit_code == 0);
  const std::string line = line_of(r.out, "LATER");
  CHECK(line.substr(line.size() - 2) == " -");
  r = box.run({"secrets", "get", "LATER"});
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.empty());
  CHECK(line_of(r.out, "expires").find("(in 29d") != std::string::npos);
}

TEST_CASE("list and get --json are byte for byte the same before and after expiry", "[expiry]") {
  Lockbox box;
  box.init();
  box.set("OLD", "a", {"--expires", "2d", "--tag", "t"});
  box.set("STALE", "b");
  box.set("GONE", "c");
  REQUIRE(box.run({"secrets", "delete", "GONE"}).exit_code == 0);
  for (const auto& args :
       std::vector<std::vector<std::string>>{{"secrets", "list", "--json"},
                                             {"secrets", "list", "--json", "--include-deleted"},
                                             {"secrets", "get", "OLD", "--json"},
                                             {"secrets", "get", "STALE", "--json"}}) {
    const ProcessResult before = box.run(args);
    const ProcessResult after = box.run(args, at(300 * kDay));
    INFO(args[1] << " " << args[2]);
    REQUIRE(before.exit_code == 0);
    REQUIRE(after.exit_code == 0);
    CHECK(after.out == before.out);
    (void)parse_json(after.out);
  }
}

TEST_CASE("get of an expired secret warns on stderr, also with --reveal", "[expiry]") {
  Lockbox box;
  box.init();
  box.set("API", kCanary, {"--expires", "2d"});
  const ProcessOptions later = at(5 * kDay + kHour);

  ProcessResult r = box.run({"secrets", "get", "API", "--reveal"}, later);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == kCanary);  // verbatim, nothing added
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.rfind("lockbox: warning: global/API expired at ", 0) == 0);
  CHECK(r.err.find("(3d 1h ago)") != std::string::npos);
  CHECK(r.err.find(kCanary) == std::string::npos);

  r = box.run({"secrets", "get", "API"}, later);
  REQUIRE(r.exit_code == 0);
  CHECK(line_of(r.out, "expires").find("(expired 3d 1h ago)") != std::string::npos);
  CHECK(r.err.find("expired at") != std::string::npos);
  CHECK(r.out.find(kCanary) == std::string::npos);

  r = box.run({"secrets", "get", "API", "--reveal", "--json"}, later);
  REQUIRE(r.exit_code == 0);
  CHECK(parse_json(r.out).as_object().at("value").as_string() == kCanary);
  CHECK(r.err.rfind("lockbox: warning: global/API expired at ", 0) == 0);
}

TEST_CASE("get reminds about a secret that expires soon or was not rotated", "[expiry]") {
  Lockbox box;
  box.init();
  box.set("SOON", "x", {"--expires", "2d"});
  box.set("OLD", "y");

  ProcessResult r = box.run({"secrets", "get", "SOON"}, at(kDay + kHour));
  REQUIRE(r.exit_code == 0);
  CHECK(r.err.rfind("lockbox: warning: global/SOON expires at ", 0) == 0);
  CHECK(r.err.find("(in 22h") != std::string::npos);
  CHECK(line_of(r.out, "expires").find("(in 22h") != std::string::npos);

  r = box.run({"secrets", "get", "OLD", "--reveal"}, at(200 * kDay + kHour));
  REQUIRE(r.exit_code == 0);
  CHECK(r.out == "y");
  CHECK(r.err ==
        "lockbox: warning: global/OLD not rotated for 200d (rotation.secret_max_age: 180d)\n");
}

TEST_CASE("the policy's rotation settings move the thresholds", "[expiry]") {
  Lockbox box;
  box.init();
  const std::filesystem::path policy = box.root() / "lockbox.yaml";
  write_file(policy, "version: 1\nrotation: { secret_max_age: 30d, notify_before: 1d }\n");
  box.set("KEY", "x", {"--expires", "3d"});
  const std::vector<std::string> list = {"secrets", "list", "--policy", policy.string()};

  ProcessResult r = box.run(list, at(kDay + kHour));  // expires in ~2d: beyond notify_before
  REQUIRE(r.exit_code == 0);
  std::string line = line_of(r.out, "KEY");
  CHECK(line.substr(line.size() - 2) == " -");

  r = box.run(list, at(2 * kDay + kHour));  // ~22h left: inside notify_before
  line = line_of(r.out, "KEY");
  CHECK(line.find("expires in 22h") != std::string::npos);

  r = box.run(list, at(31 * kDay));
  line = line_of(r.out, "KEY");
  CHECK(line.find("not rotated for 31d") != std::string::npos);
  r = box.run({"secrets", "list"}, at(31 * kDay));  // default policy: 180d
  CHECK(line_of(r.out, "KEY").find("not rotated") == std::string::npos);
}

}  // namespace
}  // namespace lockbox::testing
