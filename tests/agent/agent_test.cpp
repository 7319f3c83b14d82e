// Black-box tests of `lockbox agent` and of launches through it (SPEC §12): the real binary, an
// agent on a socket in the box's temp dir, launches compared with the direct path.
#include <grp.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <thread>

#include "tests/agent/agent_fixture.hpp"

using namespace lockbox::testing;

namespace {

const char* kShow =
    "printf '%s|%s|%s' \"$FLUXBASE_SECRET_FOO\" \"$FLUXBASE_SECRET_BAR\" "
    "\"$FLUXBASE_SECRET_LOCAL\"";

// A box with FOO and BAR stored and an agent serving it.
struct AgentBox {
  Lockbox box;
  std::filesystem::path socket;
  std::unique_ptr<AgentProcess> agent;

  explicit AgentBox(std::vector<std::string> extra = {},
                    std::map<std::string, std::string> env = {}) {
    box.init();
    box.set("FOO", "foo-one");
    box.set("BAR", kCanary);
    socket = socket_dir(box) / "agent.sock";
    agent = std::make_unique<AgentProcess>(box, socket, std::move(extra), std::move(env));
    INFO(agent->err());
    REQUIRE(agent->wait_ready());
  }

  [[nodiscard]] ProcessResult direct(std::vector<std::string> args,
                                     ProcessOptions options = {}) const {
    return launch(box, std::move(args), std::move(options));
  }
  [[nodiscard]] ProcessResult via_agent(std::vector<std::string> args,
                                        ProcessOptions options = {}) const {
    return launch(box, std::move(args), std::move(options), socket.string());
  }
};

int count(const std::string& text, const std::string& needle) {
  int n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// Sends raw bytes on a fresh connection; true when the agent then closes it without an answer.
bool agent_drops(const std::filesystem::path& socket, const std::string& bytes) {
  const int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, socket.c_str(), socket.native().size());
  REQUIRE(::connect(fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0);
  const timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
  char buf[16];
  const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
  ::close(fd);
  return n <= 0;
}

}  // namespace

TEST_CASE(
    "a launch through the agent injects, overrides, redacts and delivers exactly as a direct "
    "launch",
    "[agent]") {
  AgentBox a;
  write_file(a.box.root() / "local.env", "LOCAL=from-file\nFOO=foo-file\n");
  const std::string env_file = (a.box.root() / "local.env").string();
  const std::vector<std::vector<std::string>> cases = {
      {"run", "--", "sh", "-c", kShow},
      {"run", "--env-file", env_file, "--", "sh", "-c", kShow},
      {"run", "--redact", "--", "sh", "-c", kShow},
      {"run", "--deliver", "file", "--", "sh", "-c", "cat \"$FLUXBASE_SECRETS_DIR/FOO\""},
      {"run", "--", "sh", "-c", "echo out; echo err >&2; exit 7"},
      {"run", "--dry-run", "--", "true"},
      {"resolve", "--env-file", env_file},
  };
  ProcessOptions host;
  host.env["FLUXBASE_SECRET_BAR"] = "bar-host";
  for (const auto& args : cases) {
    for (const ProcessOptions& options : {ProcessOptions{}, host}) {
      const ProcessResult direct = a.direct(args, options);
      const ProcessResult agent = a.via_agent(args, options);
      INFO(args.back() << "\ndirect: " << direct.err << "\nagent: " << agent.err);
      CHECK(agent.exit_code == direct.exit_code);
      CHECK(agent.out == direct.out);
      CHECK(agent.err == direct.err);
    }
  }
  CHECK(a.via_agent({"run", "--", "sh", "-c", "exit 7"}).exit_code == 7);
  CHECK(a.agent->stop() == 0);
  CHECK(a.agent->err().find(kCanary) == std::string::npos);
}

TEST_CASE("the agent decrypts and sends only the values a launch injects", "[agent]") {
  Lockbox box;
  box.init();
  box.set("FOO", "foo-one");
  box.set("BAR", kCanary);       // the function's secrets: globs leave it out
  box.set("BAZ", "baz-stored");  // the env file overrides it
  write_file(box.root() / "p.yaml",
             "version: 1\nfunctions:\n  f:\n    command: [sh, -c, 'echo $FLUXBASE_SECRET_FOO']\n"
             "    secrets: [FOO, BAZ]\n");
  write_file(box.root() / "local.env", "BAZ=baz-file\n");
  const std::string policy = (box.root() / "p.yaml").string();
  const auto socket = socket_dir(box) / "agent.sock";
  AgentProcess agent(box, socket, {"--policy", policy}, {{"LOCKBOX_LOG", "debug"}});
  REQUIRE(agent.wait_ready());
  // `--env-file FILE FUNCTION`: the function is not taken for a second env file.
  const std::vector<std::string> args = {
      "run", "--policy", policy, "--env-file", (box.root() / "local.env").string(), "f"};
  const ProcessResult r = launch(box, args, {}, socket.string());
  INFO(r.err);
  CHECK(r.exit_code == 0);
  CHECK(r.out == "foo-one\n");
  CHECK(launch(box, args).out == "foo-one\n");  // the direct path agrees
  CHECK(agent.stop() == 0);
  INFO(agent.err());
  CHECK(count(agent.err(), "agent: sent 1 values") == 1);  // FOO only: not BAR, not BAZ
  CHECK(agent.err().find(kCanary) == std::string::npos);
}

TEST_CASE("a launch through the agent writes the started and exit records, and resolve its record",
          "[agent]") {
  AgentBox a;
  const auto before = parse_json(a.box.run({"audit", "list", "--json"}).out).as_array().size();
  REQUIRE(a.via_agent({"run", "--", "sh", "-c", "exit 3"}).exit_code == 3);
  REQUIRE(a.via_agent({"resolve"}).exit_code == 0);
  const auto records = parse_json(a.box.run({"audit", "list", "--json"}).out).as_array();
  REQUIRE(records.size() == before + 3);
  CHECK(records[before].at("action") == "launch");
  CHECK(records[before].at("outcome") == "started");
  CHECK(records[before + 1].at("outcome") == "exit 3");
  CHECK(records[before + 2].at("action") == "resolve");
  CHECK(std::string(records[before].at("detail").as_string()).find("FOO@global#v1") !=
        std::string::npos);
}

TEST_CASE("a write committed before a launch is seen through the agent (never stale)", "[agent]") {
  AgentBox a;
  const std::vector<std::string> show{"run", "--", "sh", "-c", kShow};
  CHECK(a.via_agent(show).out == std::string("foo-one|") + kCanary + "|");
  a.box.set("FOO", "foo-two");
  const ProcessResult warm = a.via_agent(show);
  CHECK(warm.out == std::string("foo-two|") + kCanary + "|");
  CHECK(warm.err.empty());  // served by the agent, not a fallback
  REQUIRE(a.box.run({"secrets", "delete", "BAR"}).exit_code == 0);
  CHECK(a.via_agent(show).out == "foo-two||");
  a.box.set("FOO", "ns-foo", {"--namespace", "prod"});
  CHECK(a.via_agent({"run", "--namespace", "prod", "--", "sh", "-c", kShow}).out == "ns-foo||");
}

TEST_CASE("job run goes through the agent with the policy's retries and exit code", "[agent]") {
  AgentBox a;
  write_file(a.box.root() / "p.yaml",
             "jobs:\n  nightly:\n    command: [sh, -c, 'test \"$FLUXBASE_SECRET_FOO\" = foo-one && "
             "exit 4']\n"
             "    retries: 0\n");
  const std::string policy = (a.box.root() / "p.yaml").string();
  const ProcessResult direct = a.direct({"job", "run", "nightly", "--policy", policy});
  const ProcessResult agent = a.via_agent({"job", "run", "nightly", "--policy", policy});
  INFO(direct.err << agent.err);
  CHECK(direct.exit_code == 4);
  CHECK(agent.exit_code == 4);
  CHECK(agent.err == direct.err);
}

TEST_CASE("an agent that is gone falls back to the direct path with exactly one warning",
          "[agent]") {
  AgentBox a;
  REQUIRE(a.agent->stop() == 0);
  CHECK(!std::filesystem::exists(a.socket));  // removed on SIGTERM
  const ProcessResult r = a.via_agent({"run", "--", "sh", "-c", kShow});
  CHECK(r.exit_code == 0);
  CHECK(r.out == std::string("foo-one|") + kCanary + "|");
  CHECK(count(r.err, "warning") == 1);
  CHECK(count(r.err, "\n") == 1);
  CHECK(r.err.find(a.socket.string()) != std::string::npos);
  // LOCKBOX_AGENT_SOCKET names it too; --no-agent skips it without a word.
  ProcessOptions env;
  env.env["LOCKBOX_AGENT_SOCKET"] = a.socket.string();
  CHECK(count(a.direct({"run", "--", "true"}, env).err, "warning") == 1);
  const ProcessResult skipped = a.direct({"run", "--no-agent", "--", "true"}, env);
  CHECK(skipped.exit_code == 0);
  CHECK(skipped.err.empty());
}

TEST_CASE("an agent that is gone and no store configured is exit 125 with one line", "[agent]") {
  Lockbox empty;  // never initialised: no master key
  const auto socket = socket_dir(empty) / "none.sock";
  const ProcessResult r = launch(empty, {"run", "--", "true"}, {}, socket.string());
  CHECK(r.exit_code == 125);
  CHECK(line_count(r.err) == 1);
}

TEST_CASE("a peer the agent refuses gets exit 125 and nothing is launched", "[agent]") {
  // The seam makes the agent treat this test's uid as another user's (SO_PEERCRED mismatch).
  AgentBox a({}, {{"LOCKBOX_AGENT_TEST_REFUSE", "1"}});
  const auto marker = a.box.root() / "ran";
  const ProcessResult r = a.via_agent({"run", "--", "touch", marker.string()});
  CHECK(r.exit_code == 125);
  CHECK(line_count(r.err) == 1);
  CHECK(r.err.find("refused") != std::string::npos);
  CHECK(!std::filesystem::exists(marker));
  CHECK(a.agent->stop() == 0);
  CHECK(a.agent->err().find("refused a peer of uid") != std::string::npos);
}

TEST_CASE("the agent socket is 0600 and a socket directory open to others or a link is refused",
          "[agent]") {
  AgentBox a;
  struct stat st {};
  REQUIRE(::lstat(a.socket.c_str(), &st) == 0);
  CHECK((st.st_mode & 0777) == 0600);
  // A second agent on a live socket is refused; the first serves on.
  AgentProcess twice(a.box, a.socket);
  CHECK(twice.wait_exit() == 2);
  CHECK(a.via_agent({"run", "--", "true"}).exit_code == 0);

  const auto open_dir = a.box.root() / "open";
  std::filesystem::create_directories(open_dir);
  ::chmod(open_dir.c_str(), 0755);
  AgentProcess open_agent(a.box, open_dir / "agent.sock");
  CHECK(open_agent.wait_exit() == 2);
  CHECK(open_agent.err().find("open to other users") != std::string::npos);

  const auto link = a.box.root() / "link";
  std::filesystem::create_directory_symlink(socket_dir(a.box), link);
  AgentProcess linked(a.box, link / "other.sock");
  CHECK(linked.wait_exit() == 2);
  CHECK(linked.err().find("symbolic link") != std::string::npos);
}

TEST_CASE("a malformed or oversized message drops that connection and the agent serves on",
          "[agent]") {
  AgentBox a;
  CHECK(agent_drops(a.socket, std::string("\xff\xff\xff\xff", 4)));    // over the limit
  CHECK(agent_drops(a.socket, std::string("\0\0\0\x02\x02\x07", 6)));  // bad field marker
  CHECK(agent_drops(a.socket, std::string("\0\0\0\x01\x82", 5)));      // an answer kind
  CHECK(agent_drops(a.socket, std::string("\0\0\0\x06\x02\x01\0\0\0\x09", 10)));  // truncated field
  CHECK(agent_drops(a.socket, std::string("\0\0\0\x02\x01\x00", 6)));  // hello with a field
  CHECK(a.via_agent({"run", "--", "sh", "-c", kShow}).out ==
        std::string("foo-one|") + kCanary + "|");
  CHECK(a.agent->stop() == 0);
}

TEST_CASE("the agent reloads its policy when the policy file changes", "[agent]") {
  Lockbox box;
  box.init();
  write_file(box.root() / "p.yaml", "functions: {}\n");
  const auto socket = socket_dir(box) / "agent.sock";
  AgentProcess agent(box, socket, {"--policy", (box.root() / "p.yaml").string()});
  REQUIRE(agent.wait_ready());
  REQUIRE(launch(box, {"run", "--", "true"}, {}, socket.string()).exit_code == 0);
  write_file(box.root() / "p.yaml", "functions:\n  f:\n    command: [true]\n");
  REQUIRE(launch(box, {"run", "--", "true"}, {}, socket.string()).exit_code == 0);
  CHECK(agent.stop() == 0);
  CHECK(agent.err().find("policy reloaded") != std::string::npos);
}

TEST_CASE("run --watch through the agent restarts the child when a secret changes",
          "[agent][watch]") {
  AgentBox a;
  const auto out = a.box.root() / "watch.out";
  const std::string script = "echo \"$FLUXBASE_SECRET_FOO\" >> '" + out.string() +
                             "'; [ \"$FLUXBASE_SECRET_FOO\" = foo-two ] && exit 5; exec sleep 30";
  ProcessResult result;
  std::thread launch_thread([&] {
    ProcessOptions options;
    options.timeout_ms = 40000;
    result =
        a.via_agent({"run", "--watch=1s", "--kill-grace", "2s", "--", "sh", "-c", script}, options);
  });
  const auto seen = [&](const std::string& needle) {
    for (int i = 0; i < 200; ++i) {  // bounded: ~20 s
      if (std::filesystem::exists(out) && read_file(out).find(needle) != std::string::npos)
        return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
  };
  const bool first = seen("foo-one");
  a.box.set("FOO", "foo-two");
  const bool second = seen("foo-two");
  launch_thread.join();
  CHECK(first);
  CHECK(second);
  CHECK(result.exit_code == 5);
  CHECK(result.err.find("restarting") != std::string::npos);
  CHECK(result.err.find("warning: no agent") == std::string::npos);
}

TEST_CASE("as root: a launch by another uid is refused by SO_PEERCRED with exit 125",
          "[agent][root]") {
  if (::geteuid() != 0) {
    WARN("not root: another uid cannot be tested here (the seam test covers the client side)");
    return;
  }
  AgentBox a;
  // Open the path to the socket (the agent checked its directory at start; this only lets the
  // other uid reach the socket, so that the agent's own peer check is what refuses it).
  for (auto dir = a.socket.parent_path(); dir != a.box.root().parent_path();
       dir = dir.parent_path()) {
    ::chmod(dir.c_str(), 0711);
  }
  ::chmod(a.socket.c_str(), 0666);
  const auto marker = a.box.root() / "ran-as-nobody";
  const pid_t pid = ::fork();
  REQUIRE(pid >= 0);
  if (pid == 0) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) ::_exit(90);
    if (::chdir("/") != 0) ::_exit(91);
    const std::string agent = a.socket.string();
    const std::string touch = marker.string();
    const char* argv[] = {LOCKBOX_BIN,      "run",         "--agent", agent.c_str(), "--",
                          "/usr/bin/touch", touch.c_str(), nullptr};
    const char* envp[] = {"PATH=/usr/bin:/bin", nullptr};
    ::execve(argv[0], const_cast<char* const*>(argv), const_cast<char* const*>(envp));
    ::_exit(92);
  }
  int status = 0;
  REQUIRE(::waitpid(pid, &status, 0) == pid);
  REQUIRE(WIFEXITED(status));
  CHECK(WEXITSTATUS(status) == 125);
  CHECK(!std::filesystem::exists(marker));
  CHECK(a.agent->stop() == 0);
  CHECK(a.agent->err().find("refused a peer of uid 65534") != std::string::npos);
}
