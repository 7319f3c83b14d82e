#include "tests/api/serve_fixture.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <regex>

extern char** environ;

namespace lockbox::testing {
namespace {

int decode_wait(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Server::Server(const Lockbox& box, std::vector<std::string> extra,
               std::map<std::string, std::string> env) {
  std::vector<std::string> argv = {LOCKBOX_BIN, "serve", "--listen", "127.0.0.1:0"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  argv.push_back("--data-dir");
  argv.push_back(box.data_dir().string());
  std::vector<std::string> envs;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("LOCKBOX_", 0) == 0 || entry.rfind("SSL_CERT_", 0) == 0) continue;
    envs.push_back(entry);
  }
  for (const auto& [k, v] : env) envs.push_back(k + "=" + v);
  // The [pg] pass: the box's database, unless the test names a store itself.
  const bool own_store = env.count("LOCKBOX_STORE") != 0 ||
                         std::find(extra.begin(), extra.end(), "--store") != extra.end();
  if (!box.store_url().empty() && !own_store) envs.push_back("LOCKBOX_STORE=" + box.store_url());
  int fds[2];
  REQUIRE(::pipe2(fds, O_CLOEXEC) == 0);
  std::vector<char*> cargv, cenv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);
  for (auto& e : envs) cenv.push_back(e.data());
  cenv.push_back(nullptr);
  pid_ = ::fork();
  REQUIRE(pid_ >= 0);
  if (pid_ == 0) {
    ::dup2(fds[1], 2);
    const int null = ::open("/dev/null", O_RDWR);
    ::dup2(null, 0);
    ::dup2(null, 1);
    ::execve(cargv[0], cargv.data(), cenv.data());
    ::_exit(127);
  }
  ::close(fds[1]);
  err_fd_ = fds[0];
  reader_ = std::thread([this] {
    char buf[4096];
    ssize_t n;
    while ((n = ::read(err_fd_, buf, sizeof buf)) > 0) {
      {
        std::lock_guard lock(mu_);
        log_.append(buf, static_cast<std::size_t>(n));
      }
      grew_.notify_all();
    }
  });
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  const std::regex listening(R"(listening on (https?://127\.0\.0\.1:(\d+)))");
  while (std::chrono::steady_clock::now() < deadline) {
    std::smatch m;
    const std::string text = log();
    if (std::regex_search(text, m, listening)) {
      url_ = m[1];
      port_ = static_cast<std::uint16_t>(std::stoi(m[2]));
      return;
    }
    int status = 0;
    if (::waitpid(pid_, &status, WNOHANG) == pid_) {
      exit_code_ = decode_wait(status);
      pid_ = -1;
      INFO(text);
      FAIL("lockbox serve exited with " << exit_code_ << " before listening");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  INFO(log());
  FAIL("lockbox serve did not listen within 20 s");
}

int Server::stop() {
  if (pid_ > 0) {
    ::kill(pid_, SIGTERM);
    int status = 0;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (true) {
      const pid_t r = ::waitpid(pid_, &status, WNOHANG);
      if (r == pid_) break;
      if (std::chrono::steady_clock::now() > deadline) {
        ::kill(pid_, SIGKILL);
        ::waitpid(pid_, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    exit_code_ = decode_wait(status);
    pid_ = -1;
  }
  if (reader_.joinable()) reader_.join();
  if (err_fd_ >= 0) {
    ::close(err_fd_);
    err_fd_ = -1;
  }
  return exit_code_;
}

Server::~Server() {
  stop();
}

std::string Server::log() const {
  std::lock_guard lock(mu_);
  return log_;
}

bool Server::wait_for_log(const std::string& needle, std::chrono::milliseconds limit) const {
  std::unique_lock lock(mu_);
  return grew_.wait_for(lock, limit, [&] { return log_.find(needle) != std::string::npos; });
}

std::unique_ptr<api::HttpClient> client_of(const Server& server) {
  auto client = api::HttpClient::create(server.url());
  REQUIRE(client.is_ok());
  return std::move(client).value();
}

std::string make_token(const Lockbox& box, const std::string& name, const std::string& role,
                       const std::vector<std::string>& extra, ProcessOptions options) {
  std::vector<std::string> args = {"tokens", "create", "--name", name, "--role", role, "--json"};
  args.insert(args.end(), extra.begin(), extra.end());
  const ProcessResult r = box.run(args, std::move(options));
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return std::string(parse_json(r.out).as_object().at("token").as_string().c_str());
}

Reply call(api::HttpClient& client, const std::string& method, const std::string& target,
           const std::string& token, const std::string& body, const std::string& content_type) {
  auto r = client.request(method, target, token, body, content_type);
  INFO(method << " " << target);
  if (!r.is_ok()) INFO(r.status().message());
  REQUIRE(r.is_ok());
  Reply reply;
  reply.status = r->status;
  reply.body = std::string(r->body.reveal());
  reply.content_type = r->content_type;
  reply.retry_after = r->retry_after;
  boost::system::error_code ec;
  reply.json = boost::json::parse(reply.body, ec);
  if (ec) reply.json = nullptr;
  return reply;
}

std::string error_code(const Reply& reply) {
  if (!reply.json.is_object()) return "";
  const auto* error = reply.json.as_object().if_contains("error");
  if (error == nullptr || !error->is_object()) return "";
  const auto* code = error->as_object().if_contains("code");
  return code != nullptr && code->is_string() ? std::string(code->as_string().c_str()) : "";
}

}  // namespace lockbox::testing
