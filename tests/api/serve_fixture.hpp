#pragma once
// A real `lockbox serve` for black-box tests: started on 127.0.0.1 with an ephemeral port (it
// prints the port it bound), its stderr collected for the "no value in the log" checks, stopped
// with SIGTERM (its exit code is kept). Plus a client and token helpers.

#include <sys/types.h>

#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "api/http_client.hpp"
#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {

class Server {
 public:
  // Starts `lockbox serve --listen 127.0.0.1:0 <extra> --data-dir <box>` with `env` added, and
  // waits (REQUIRE, 20 s) for its listening line.
  Server(const Lockbox& box, std::vector<std::string> extra = {},
         std::map<std::string, std::string> env = {});
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  [[nodiscard]] std::uint16_t port() const { return port_; }
  [[nodiscard]] const std::string& url() const { return url_; }
  // SIGTERM, then waits (SIGKILL after 20 s). Returns the exit code (128+N for a signal).
  int stop();
  // Everything the server wrote to stderr so far.
  std::string log() const;
  // Waits until stderr contains `needle` (woken by each read of the server's stderr, no polling);
  // false after `limit`.
  bool wait_for_log(const std::string& needle, std::chrono::milliseconds limit) const;
  [[nodiscard]] pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int err_fd_ = -1;
  std::uint16_t port_ = 0;
  std::string url_;
  mutable std::mutex mu_;
  mutable std::condition_variable grew_;  // log_ grew
  std::string log_;
  std::thread reader_;
  int exit_code_ = -1;
};

// A plain-http client of `server` (REQUIRE on create).
std::unique_ptr<api::HttpClient> client_of(const Server& server);

// `tokens create --name NAME --role ROLE --json [extra]` → the token (REQUIRE success).
std::string make_token(const Lockbox& box, const std::string& name, const std::string& role,
                       const std::vector<std::string>& extra = {}, ProcessOptions options = {});

struct Reply {
  int status = 0;
  std::string body;
  boost::json::value json;  // null when the body is not JSON
  std::string content_type;
  std::string retry_after;
};

// One request (REQUIRE the transport succeeded).
Reply call(api::HttpClient& client, const std::string& method, const std::string& target,
           const std::string& token, const std::string& body = {},
           const std::string& content_type = "application/json");

// The error code of an error reply ("" when not an error body).
std::string error_code(const Reply& reply);

}  // namespace lockbox::testing
