// `lockbox run --watch`: a changed secret restarts the child with the new value; a child that
// exits on its own ends lockbox with its code.
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <string>
#include <thread>

#include "tests/launcher/run_test_support.hpp"

using namespace lockbox::testing;

namespace {

// Polls `read` until it contains `needle` or ~15 s pass.
bool eventually_contains(const std::function<std::string()>& read, const std::string& needle) {
  for (int i = 0; i < 150; ++i) {
    if (read().find(needle) != std::string::npos) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return false;
}

}  // namespace

TEST_CASE("run --watch restarts the child with a changed secret", "[run][watch]") {
  RunBox box;
  box.set("TOKEN", "first-value");
  auto lockbox = box.spawn_launch({"--watch=1s", "--kill-grace", "2s"},
                                  {"print-env", "FLUXBASE_SECRET_TOKEN", "sleep", "30000"});
  auto out = [&] { return lockbox->out(); };
  REQUIRE(eventually_contains(out, "FLUXBASE_SECRET_TOKEN=first-value"));
  box.set("TOKEN", "second-value");
  REQUIRE(eventually_contains(out, "FLUXBASE_SECRET_TOKEN=second-value"));
  ::kill(lockbox->pid(), SIGTERM);
  const auto code = lockbox->wait(15000);
  REQUIRE(code.has_value());
  CHECK(*code == 128 + SIGTERM);
  const std::string text = lockbox->out();
  CHECK(text.find("first-value") < text.find("second-value"));
}

TEST_CASE("run --watch ends with the child's own exit code", "[run][watch]") {
  RunBox box;
  box.set("TOKEN", "v");
  const auto result = box.launch({"--watch=1s"}, {"exit", "4"});
  CHECK(result.exit_code == 4);
}

TEST_CASE("run --watch below one second is refused before anything runs", "[run][watch][125]") {
  RunBox box;
  const auto marker = box.path("ran");
  const auto result = box.launch({"--watch=0s"}, {"write-pid", marker.string(), "exit", "0"});
  CHECK(result.exit_code == 125);
  CHECK_FALSE(std::filesystem::exists(marker));
}

TEST_CASE("run --watch with a long interval still restarts within a few seconds of a store write",
          "[run][watch]") {
  RunBox box;
  box.set("TOKEN", "first-value");
  auto lockbox = box.spawn_launch({"--watch=60s", "--kill-grace", "2s"},
                                  {"print-env", "FLUXBASE_SECRET_TOKEN", "sleep", "30000"});
  auto out = [&] { return lockbox->out(); };
  REQUIRE(eventually_contains(out, "FLUXBASE_SECRET_TOKEN=first-value"));
  const auto written = std::chrono::steady_clock::now();
  box.set("TOKEN", "second-value");
  REQUIRE(eventually_contains(out, "FLUXBASE_SECRET_TOKEN=second-value"));
  // The store's counter is polled every second whatever the interval (kill grace not reached:
  // the test child exits on SIGTERM).
  CHECK(std::chrono::steady_clock::now() - written < std::chrono::seconds(10));
  ::kill(lockbox->pid(), SIGTERM);
  REQUIRE(lockbox->wait(15000).has_value());
}
