// Signals under `lockbox run` (SPEC §4): INT TERM HUP QUIT USR1 USR2 WINCH sent to lockbox reach
// the child exactly once, also at a terminal (which signals the whole foreground group, child
// included); lockbox's death, even by SIGKILL, gives the child SIGTERM; no child is left behind.
//
// The child records every signal it gets (`record-signals FILE`), then writes its pid. "Exactly
// once" is checked after a sentinel signal (RecordingLaunch::settle), not after a fixed wait.

#include <signal.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "tests/launcher/run_test_support.hpp"

namespace fs = std::filesystem;
using namespace lockbox::testing;

namespace {

struct NamedSignal {
  int number;
  const char* record;  // the line record-signals writes
};

constexpr NamedSignal kForwarded[] = {
    {SIGUSR1, "SIGUSR1"}, {SIGUSR2, "SIGUSR2"}, {SIGWINCH, "SIGWINCH"}, {SIGHUP, "SIGHUP"},
    {SIGQUIT, "SIGQUIT"}, {SIGINT, "SIGINT"},   {SIGTERM, "SIGTERM"}};

// A lockbox whose child records signals, with the child's pid known.
struct RecordingLaunch {
  RecordingLaunch(const RunBox& box, SpawnOptions options = {})
      : records(box.path("signals.txt")),
        lockbox(box.spawn_launch({},
                                 {"record-signals", records.string(), "write-pid",
                                  box.path("child.pid").string(), "sleep", "60000"},
                                 std::move(options))),
        child{wait_for_pid_file(box.path("child.pid"))} {}

  [[nodiscard]] int count(const std::string& line) const {
    return count_lines(read_file(records), line);
  }
  // Waits until `line` was recorded at least once.
  [[nodiscard]] bool wait_for(const std::string& line, int timeout_ms = 20000) const {
    return wait_until([&] { return count(line) >= 1; }, timeout_ms);
  }
  // The sentinel: SIGRTMIN+3 sent to `to` (lockbox, which forwards it, or the child), waited for.
  // A real-time signal is delivered and read after every standard signal pending with it, so
  // once the child has recorded it, a duplicate forward of an earlier signal would be recorded
  // too: no fixed wait.
  void settle(pid_t to) {
    const int before = count("SIGRTMIN+3");
    REQUIRE(::kill(to, SIGRTMIN + 3) == 0);
    REQUIRE(wait_until([&] { return count("SIGRTMIN+3") > before; }));
  }
  void settle() { settle(lockbox->pid()); }
  // Ends the child (which survives every recorded signal); lockbox reports 137.
  void finish() {
    ::kill(child.pid, SIGKILL);
    CHECK(lockbox->wait() == 128 + SIGKILL);
  }

  fs::path records;
  std::unique_ptr<Spawned> lockbox;
  KillOnExit child;
};

}  // namespace

TEST_CASE("run forwards each signal sent to lockbox to the child exactly once", "[run][signals]") {
  RunBox box;
  RecordingLaunch launch(box);
  for (const auto& sig : kForwarded) {
    INFO(sig.record);
    REQUIRE(::kill(launch.lockbox->pid(), sig.number) == 0);
    CHECK(launch.wait_for(sig.record));
  }
  launch.settle();
  for (const auto& sig : kForwarded) {
    INFO(sig.record);
    CHECK(launch.count(sig.record) == 1);
  }
  launch.finish();
}

TEST_CASE("run forwards a signal sent twice twice", "[run][signals]") {
  RunBox box;
  RecordingLaunch launch(box);
  REQUIRE(::kill(launch.lockbox->pid(), SIGUSR1) == 0);
  REQUIRE(launch.wait_for("SIGUSR1"));
  REQUIRE(::kill(launch.lockbox->pid(), SIGUSR1) == 0);
  CHECK(wait_until([&] { return launch.count("SIGUSR1") >= 2; }));
  launch.settle();
  CHECK(launch.count("SIGUSR1") == 2);
  launch.finish();
}

TEST_CASE("run exits 128+N when a signal it forwards kills the child", "[run][signals]") {
  const int sig = GENERATE(SIGTERM, SIGINT, SIGHUP, SIGUSR1);
  RunBox box;
  const fs::path pid_file = box.path("child.pid");
  auto lockbox = box.spawn_launch({}, {"write-pid", pid_file.string(), "sleep", "60000"});
  const KillOnExit child{wait_for_pid_file(pid_file)};
  REQUIRE(::kill(lockbox->pid(), sig) == 0);
  CHECK(lockbox->wait() == 128 + sig);
  CHECK(wait_until([&] { return process_gone(child.pid); }));
}

TEST_CASE("run exits with the child's code when the child handles a forwarded signal",
          "[run][signals]") {
  RunBox box;
  const fs::path pid_file = box.path("child.pid");
  auto lockbox =
      box.spawn_launch({}, {"trap-term", "write-pid", pid_file.string(), "sleep", "60000"});
  const KillOnExit child{wait_for_pid_file(pid_file)};
  REQUIRE(::kill(lockbox->pid(), SIGTERM) == 0);
  CHECK(lockbox->wait() == 0);
  CHECK(lockbox->out() == "got SIGTERM\n");
}

TEST_CASE("run at a terminal: a signal from the terminal reaches the child exactly once",
          "[run][signals][tty]") {
  struct TerminalSignal {
    const char* record;
    std::string input;  // written to the terminal; empty: a window size change
  };
  const TerminalSignal sig =
      GENERATE(TerminalSignal{"SIGINT", "\x03"}, TerminalSignal{"SIGQUIT", "\x1c"},
               TerminalSignal{"SIGWINCH", ""});
  INFO(sig.record);
  RunBox box;
  Pty pty;
  SpawnOptions options;
  options.pre_exec = pty.controlling_terminal_hook();
  RecordingLaunch launch(box, options);
  // The terminal's foreground group is lockbox's, and the child is in it.
  const std::string stat = read_file("/proc/" + std::to_string(launch.child.pid) + "/stat");
  const std::string tail = stat.substr(stat.rfind(')') + 2);  // "S ppid pgrp session tty ..."
  std::istringstream fields(tail);
  std::string state, ppid, pgrp;
  fields >> state >> ppid >> pgrp;
  CHECK(ppid == std::to_string(launch.lockbox->pid()));
  CHECK(pgrp == std::to_string(launch.lockbox->pid()));
  if (sig.input.empty()) {
    winsize size{};
    size.ws_row = 40;
    size.ws_col = 132;
    REQUIRE(::ioctl(pty.master, TIOCSWINSZ, &size) == 0);
  } else {
    REQUIRE(::write(pty.master, sig.input.data(), sig.input.size()) ==
            static_cast<ssize_t>(sig.input.size()));
  }
  CHECK(launch.wait_for(sig.record));
  launch.settle();
  CHECK(launch.count(sig.record) == 1);
  // lockbox got it too (a terminal signals the whole group) and kept running.
  CHECK_FALSE(launch.lockbox->wait(0).has_value());
  launch.finish();
}

// lockbox is the session leader here (as when sshd's shell execs it): a hangup signals the
// session leader only (SI_KERNEL), so the child hears of it only if lockbox passes it on.
// Known lockbox bug: it takes every SI_KERNEL signal for one the terminal sent to the whole
// foreground group, so this SIGHUP is never forwarded.
TEST_CASE("run at a terminal: a hangup reaches the child exactly once", "[run][signals][tty]") {
  RunBox box;
  Pty pty;
  SpawnOptions options;
  options.pre_exec = pty.controlling_terminal_hook();
  RecordingLaunch launch(box, options);
  ::close(pty.master);  // the terminal goes away
  pty.master = -1;
  CHECK(launch.wait_for("SIGHUP", 5000));
  launch.settle();
  CHECK(launch.count("SIGHUP") == 1);
  launch.finish();
}

TEST_CASE("run: a child of a lockbox killed with SIGKILL gets SIGTERM", "[run][signals]") {
  RunBox box;
  const fs::path pid_file = box.path("child.pid");
  auto lockbox =
      box.spawn_launch({}, {"trap-term", "write-pid", pid_file.string(), "sleep", "60000"});
  const KillOnExit child{wait_for_pid_file(pid_file)};
  REQUIRE(::kill(lockbox->pid(), SIGKILL) == 0);
  CHECK(lockbox->wait() == 128 + SIGKILL);
  // The child shares lockbox's stdout: its SIGTERM handler says so there, then exits.
  CHECK(wait_until([&] { return lockbox->out() == "got SIGTERM\n"; }));
  CHECK(wait_until([&] { return process_gone(child.pid); }));
}

TEST_CASE("run: a child that records signals learns of lockbox's SIGKILL", "[run][signals]") {
  RunBox box;
  RecordingLaunch launch(box);
  REQUIRE(::kill(launch.lockbox->pid(), SIGKILL) == 0);
  CHECK(launch.lockbox->wait() == 128 + SIGKILL);
  CHECK(launch.wait_for("SIGTERM"));
  launch.settle(launch.child.pid);  // lockbox is gone: straight to the child
  CHECK(launch.count("SIGTERM") == 1);
  ::kill(launch.child.pid, SIGKILL);
}

TEST_CASE("run leaves no child process behind", "[run][signals][zombie]") {
  const std::vector<std::string> ending =
      GENERATE(std::vector<std::string>{"exit", "0"}, std::vector<std::string>{"exit", "9"},
               std::vector<std::string>{"kill-self", "KILL"});
  RunBox box;
  const fs::path pid_file = box.path("child.pid");
  std::vector<std::string> steps = {"write-pid", pid_file.string()};
  steps.insert(steps.end(), ending.begin(), ending.end());
  const ProcessResult r = box.launch({}, steps);
  INFO(r.err);
  CHECK(r.exit_code != 125);
  const pid_t child = wait_for_pid_file(pid_file, 0);
  // lockbox reaped it before exiting: not even a zombie is left.
  CHECK(wait_until([&] { return !fs::exists("/proc/" + std::to_string(child)); }, 5000));
}
