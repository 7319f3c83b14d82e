// Unit tests of supervise() itself (launcher/supervisor.cpp): what it leaves behind on its error
// paths. The child is the launcher's test child (tests/launcher/helper_child.cpp).
#include "launcher/supervisor.hpp"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <string>
#include <vector>

#include "launcher/child_env.hpp"
#include "launcher/signal_gate.hpp"

using namespace lockbox;
using namespace lockbox::launcher;

namespace {

int highest_open_fd() {
  int highest = 2;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    highest = std::max(highest, std::stoi(e.path().filename().string()));
  }
  return highest;
}

// Lowers RLIMIT_NOFILE and fills every free descriptor below it but `left`; undone on destruction.
class FewDescriptors {
 public:
  explicit FewDescriptors(int left) {
    REQUIRE(::getrlimit(RLIMIT_NOFILE, &saved_) == 0);
    rlimit low = saved_;
    low.rlim_cur = static_cast<rlim_t>(highest_open_fd() + 64);
    REQUIRE(::setrlimit(RLIMIT_NOFILE, &low) == 0);
    while (true) {
      const int fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
      if (fd < 0) break;
      fillers_.push_back(fd);
    }
    REQUIRE(errno == EMFILE);
    for (int i = 0; i < left; ++i) {
      ::close(fillers_.back());
      fillers_.pop_back();
    }
  }
  ~FewDescriptors() {
    for (int fd : fillers_) ::close(fd);
    ::setrlimit(RLIMIT_NOFILE, &saved_);
  }
  FewDescriptors(const FewDescriptors&) = delete;
  FewDescriptors& operator=(const FewDescriptors&) = delete;

  // How many descriptors can be opened now (each one kept until destruction).
  int free_now() {
    int n = 0;
    for (int fd; (fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC)) >= 0; ++n) fillers_.push_back(fd);
    return n;
  }

 private:
  rlimit saved_{};
  std::vector<int> fillers_;
};

}  // namespace

TEST_CASE("supervise closes the pipes it already opened when a later one cannot be created",
          "[launcher][supervisor][fd]") {
  auto gate = SignalGate::open();
  REQUIRE(gate.is_ok());
  auto env = ChildEnvironment::from_host({}, {}, false);
  ChildSpec spec;
  spec.executable = LOCKBOX_TEST_CHILD;
  spec.argv = {LOCKBOX_TEST_CHILD, "exit", "0"};
  spec.env = &env;
  spec.stdin_payload = "payload";  // one pipe
  spec.redact = true;              // two more
  bool spawned = false;
  spec.on_spawned = [&spawned](pid_t) { spawned = true; };
  FewDescriptors few(4);  // room for two pipes, not three
  const auto result = supervise(spec, *gate.value());
  REQUIRE_FALSE(result.is_ok());
  CHECK(result.status().message().find("pipe") != std::string::npos);
  CHECK_FALSE(spawned);
  CHECK(few.free_now() == 4);  // nothing left open behind the error
}
