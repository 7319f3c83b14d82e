// `lockbox run --server URL --watch`: the watch's resolve is a network call that may take the HTTP
// client's whole timeout (30 s). It runs off the supervisor's reactor, so a signal is forwarded
// and the child's exit reaped while a fetch hangs. The server here is a tiny HTTP stub on
// 127.0.0.1 (a port the kernel picked): it answers the first resolve, then accepts the next one
// and never answers it, and tells the test when that request has arrived (the sentinel).
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include "core/fd.hpp"
#include "tests/launcher/run_test_support.hpp"

using namespace lockbox;
using namespace lockbox::testing;

namespace {

// The resolve answer with TOKEN at `version` = `value`.
std::string token_body(int version, const std::string& value) {
  return R"({"secrets":[{"name":"TOKEN","scope":"global","version":)" + std::to_string(version) +
         R"(,"value":")" + value + R"("}],"warnings":[]})";
}

// Answers the i-th request with bodies[i], holds every later one unanswered until destroyed.
class StallingServer {
 public:
  explicit StallingServer(std::vector<std::string> bodies) : bodies_(std::move(bodies)) {
    listener_.reset(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
    REQUIRE(listener_.valid());
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::bind(listener_.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
    REQUIRE(::listen(listener_.get(), 8) == 0);
    socklen_t len = sizeof addr;
    REQUIRE(::getsockname(listener_.get(), reinterpret_cast<sockaddr*>(&addr), &len) == 0);
    port_ = ntohs(addr.sin_port);
    int fds[2];
    REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
    stop_read_.reset(fds[0]);
    stop_write_.reset(fds[1]);
    thread_ = std::thread([this] { serve(); });
  }
  ~StallingServer() {
    (void)!::write(stop_write_.get(), "x", 1);
    thread_.join();
  }
  StallingServer(const StallingServer&) = delete;
  StallingServer& operator=(const StallingServer&) = delete;

  [[nodiscard]] std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  // Waits (bounded) until a request has arrived that will never be answered.
  bool wait_for_stalled_request(int timeout_ms) {
    std::unique_lock<std::mutex> lock(mutex_);
    return cv_.wait_for(lock, std::chrono::milliseconds(timeout_ms), [this] { return stalled_; });
  }

 private:
  // Waits for `fd` to be readable; false when the test stops the server (or after 60 s).
  bool readable(int fd) const {
    pollfd p[2] = {{fd, POLLIN, 0}, {stop_read_.get(), POLLIN, 0}};
    return ::poll(p, 2, 60000) > 0 && (p[1].revents & POLLIN) == 0 && (p[0].revents & POLLIN) != 0;
  }
  // Reads one request (headers and a Content-Length body); false on EOF or stop.
  bool read_request(int fd) const {
    std::string data;
    char buf[4096];
    while (true) {
      const auto end = data.find("\r\n\r\n");
      if (end != std::string::npos) {
        const auto at = data.find("Content-Length: ");
        const std::size_t body = at == std::string::npos ? 0 : std::stoul(data.substr(at + 16));
        if (data.size() >= end + 4 + body) return true;
      }
      if (!readable(fd)) return false;
      const ssize_t n = ::read(fd, buf, sizeof buf);
      if (n <= 0) return false;
      data.append(buf, static_cast<std::size_t>(n));
    }
  }
  void serve() {
    std::size_t answered = 0;
    std::vector<Fd> held;  // connections whose request is never answered
    while (readable(listener_.get())) {
      Fd conn(::accept4(listener_.get(), nullptr, nullptr, SOCK_CLOEXEC));
      if (!conn.valid() || !read_request(conn.get())) continue;
      if (answered < bodies_.size()) {
        const std::string& body = bodies_[answered++];
        const std::string answer =
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
            std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" + body;
        (void)!::write(conn.get(), answer.data(), answer.size());
        continue;  // closed: Connection: close
      }
      held.push_back(std::move(conn));
      const std::lock_guard<std::mutex> lock(mutex_);
      stalled_ = true;
      cv_.notify_all();
    }
  }

  std::vector<std::string> bodies_;
  Fd listener_, stop_read_, stop_write_;
  int port_ = 0;
  std::thread thread_;
  std::mutex mutex_;
  std::condition_variable cv_;
  bool stalled_ = false;
};

}  // namespace

TEST_CASE("run --server --watch forwards SIGTERM and reaps the child while a watch fetch hangs",
          "[run][watch][remote]") {
  StallingServer server({token_body(1, "first-value")});
  RunBox box(false);  // a launcher host: no store, no master key
  const auto token = box.path("token");
  write_file(token, "lbx_test_secret\n");
  const auto pid_file = box.path("child.pid");
  auto lockbox = box.spawn_launch(
      {"--server", server.url(), "--token-file", token.string(), "--watch=1s", "--kill-grace",
       "20s"},
      {"print-env", "FLUXBASE_SECRET_TOKEN", "write-pid", pid_file.string(), "sleep", "60000"});
  const pid_t child = wait_for_pid_file(pid_file);
  KillOnExit cleanup{child};
  // The first watch poll (after a second) asks again; the stub never answers it.
  REQUIRE(server.wait_for_stalled_request(20000));
  const auto sent = std::chrono::steady_clock::now();
  REQUIRE(::kill(lockbox->pid(), SIGTERM) == 0);
  // Forwarded at once: the child dies by SIGTERM, lockbox reaps it and ends with 128+15, long
  // before the hanging fetch's 30 s timeout.
  const auto code = lockbox->wait(10000);
  REQUIRE(code.has_value());
  CHECK(*code == 128 + SIGTERM);
  CHECK(std::chrono::steady_clock::now() - sent < std::chrono::seconds(10));
  CHECK(process_gone(child));
  CHECK(lockbox->out().find("FLUXBASE_SECRET_TOKEN=first-value") != std::string::npos);
}

TEST_CASE("run --server --watch restarts the child when the server answers a new version",
          "[run][watch][remote]") {
  // The launch, the poll that sees version 2, the restart's resolve; later polls hang.
  StallingServer server(
      {token_body(1, "first-value"), token_body(2, "second-value"), token_body(2, "second-value")});
  RunBox box(false);
  const auto token = box.path("token");
  write_file(token, "lbx_test_secret\n");
  auto lockbox = box.spawn_launch({"--server", server.url(), "--token-file", token.string(),
                                   "--watch=1s", "--kill-grace", "20s"},
                                  {"print-env", "FLUXBASE_SECRET_TOKEN", "sleep", "60000"});
  // The restarted child prints the new value; the poll after the restart is left hanging.
  REQUIRE(server.wait_for_stalled_request(20000));
  REQUIRE(wait_until([&] { return lockbox->out().find("second-value") != std::string::npos; }));
  REQUIRE(::kill(lockbox->pid(), SIGTERM) == 0);
  const auto code = lockbox->wait(10000);
  REQUIRE(code.has_value());
  CHECK(*code == 128 + SIGTERM);
  const std::string out = lockbox->out();
  CHECK(out.find("FLUXBASE_SECRET_TOKEN=first-value") <
        out.find("FLUXBASE_SECRET_TOKEN=second-value"));
}
