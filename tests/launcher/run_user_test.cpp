// `lockbox run --user USER`: when lockbox is root, the child runs as USER with USER's groups.
#include <pwd.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <string>

#include "tests/launcher/run_test_support.hpp"

using namespace lockbox::testing;

TEST_CASE("run --user switches the child to the user and its groups", "[run][user]") {
  const passwd* nobody = getpwnam("nobody");
  if (::geteuid() != 0 || nobody == nullptr) {
    WARN("needs root and a 'nobody' user; skipped");
    return;
  }
  RunBox box;
  box.set("TOKEN", "v");
  const auto result = box.launch({"--user", "nobody"}, {"print-uid", "print-env", "FLUXBASE_SECRET_TOKEN"});
  INFO(result.err);
  REQUIRE(result.exit_code == 0);
  const std::string uid = std::to_string(nobody->pw_uid);
  const std::string gid = std::to_string(nobody->pw_gid);
  CHECK(result.out.find("uid=" + uid + " euid=" + uid + " gid=" + gid + " egid=" + gid) != std::string::npos);
  CHECK(result.out.find("groups=" + gid) != std::string::npos);
  CHECK(result.out.find("FLUXBASE_SECRET_TOKEN=v") != std::string::npos);
}

TEST_CASE("run --user with an unknown user is refused before anything runs", "[run][user][125]") {
  RunBox box;
  const auto marker = box.path("ran");
  const auto result = box.launch({"--user", "no-such-user-lbx"}, {"write-pid", marker.string()});
  CHECK(result.exit_code == 125);
  CHECK_FALSE(std::filesystem::exists(marker));
}
