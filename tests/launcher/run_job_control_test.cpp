// Signals beyond SPEC §4's first seven (issue 13 item 7): every catchable terminating signal sent
// to lockbox reaches the child once (before, ALRM and the like killed lockbox and the child got
// SIGTERM instead), and job control works outside a terminal: TSTP/TTIN/TTOU stop the child and
// lockbox, SIGCONT resumes both. Synchronised on the child's pid file, its signal records and the
// kernel's process states; the only fixed wait is the settle that proves "no second copy".

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "tests/launcher/run_test_support.hpp"
#include "tests/support/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace lockbox::testing;

namespace {

// The state letter of /proc/PID/stat ('S', 'T', ...), or '?' when gone.
char state_of(pid_t pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto close = text.rfind(')');
  return close == std::string::npos || close + 2 >= text.size() ? '?' : text[close + 2];
}

// Consumes a stop (WSTOPPED) or continue (WCONTINUED) report of the child `pid` if one is there.
bool reported(pid_t pid, int which) {
  siginfo_t info{};
  return ::waitid(P_PID, static_cast<id_t>(pid), &info, which | WNOHANG) == 0 && info.si_pid == pid;
}

// lockbox in a process group of its own (not orphaned: its parent, this test, is in another
// group of the same session), as a shell with job control starts a job.
SpawnOptions own_group() {
  SpawnOptions options;
  options.pre_exec = [] { ::setpgid(0, 0); };
  return options;
}

}  // namespace

TEST_CASE("run forwards ALRM, VTALRM, PROF, XCPU, XFSZ, PWR, STKFLT, IO and real-time signals once",
          "[run][signals]") {
  RunBox box;
  const fs::path records = box.path("signals.txt");
  auto lockbox = box.spawn_launch({}, {"record-more-signals", records.string(), "write-pid",
                                       box.path("child.pid").string(), "sleep", "60000"});
  const KillOnExit child{wait_for_pid_file(box.path("child.pid"))};
  const std::pair<int, const char*> sent[] = {
      {SIGALRM, "SIGALRM"},     {SIGVTALRM, "SIGVTALRM"}, {SIGPROF, "SIGPROF"},
      {SIGXCPU, "SIGXCPU"},     {SIGXFSZ, "SIGXFSZ"},     {SIGPWR, "SIGPWR"},
      {SIGSTKFLT, "SIGSTKFLT"}, {SIGIO, "SIGIO"},         {SIGRTMIN + 2, "SIGRTMIN+2"}};
  for (const auto& [sig, name] : sent) {
    INFO(name);
    REQUIRE(::kill(lockbox->pid(), sig) == 0);
    CHECK(wait_until(
        [&, line = std::string(name)] { return count_lines(read_file(records), line) >= 1; }));
  }
  // The sentinel, a real-time signal read after every standard one pending with it: once the
  // child has it, a duplicate forward would be recorded too.
  REQUIRE(::kill(lockbox->pid(), SIGRTMIN + 3) == 0);
  CHECK(wait_until([&] { return count_lines(read_file(records), "SIGRTMIN+3") >= 1; }));
  const std::string text = read_file(records);
  for (const auto& [sig, name] : sent) {
    INFO(name);
    CHECK(count_lines(text, name) == 1);
  }
  CHECK(count_lines(text, "SIGTERM") == 0);  // lockbox never died (the death signal is SIGTERM)
  ::kill(child.pid, SIGKILL);
  CHECK(lockbox->wait() == 128 + SIGKILL);
}

TEST_CASE("kill -TSTP/-TTIN/-TTOU stops lockbox and its child, and SIGCONT resumes both",
          "[run][signals][jobcontrol]") {
  const int sig = GENERATE(SIGTSTP, SIGTTIN, SIGTTOU);
  RunBox box;
  auto lockbox = box.spawn_launch(
      {}, {"write-pid", box.path("child.pid").string(), "sleep", "60000"}, own_group());
  const KillOnExit child{wait_for_pid_file(box.path("child.pid"))};
  REQUIRE(::kill(lockbox->pid(), sig) == 0);
  CHECK(wait_until([&] { return reported(lockbox->pid(), WSTOPPED); }));
  CHECK(wait_until([&] { return state_of(child.pid) == 'T'; }));
  REQUIRE(::kill(lockbox->pid(), SIGCONT) == 0);  // to lockbox alone: it passes it on
  CHECK(wait_until([&] { return reported(lockbox->pid(), WCONTINUED); }));
  CHECK(wait_until([&] { return state_of(child.pid) != 'T'; }));
  ::kill(child.pid, SIGKILL);
  CHECK(lockbox->wait() == 128 + SIGKILL);
}

TEST_CASE("a child that handles TSTP gets it once and lockbox forwards TSTP and CONT",
          "[run][signals][jobcontrol]") {
  RunBox box;
  const fs::path records = box.path("signals.txt");
  auto lockbox = box.spawn_launch({},
                                  {"record-more-signals", records.string(), "write-pid",
                                   box.path("child.pid").string(), "sleep", "60000"},
                                  own_group());
  const KillOnExit child{wait_for_pid_file(box.path("child.pid"))};
  REQUIRE(::kill(lockbox->pid(), SIGTSTP) == 0);
  CHECK(wait_until([&] { return count_lines(read_file(records), "SIGTSTP") == 1; }));
  CHECK(wait_until([&] { return reported(lockbox->pid(), WSTOPPED); }));
  REQUIRE(::kill(lockbox->pid(), SIGCONT) == 0);
  CHECK(wait_until([&] { return count_lines(read_file(records), "SIGCONT") == 1; }));
  ::kill(child.pid, SIGKILL);
  CHECK(lockbox->wait() == 128 + SIGKILL);
}
