#include "agent/server.hpp"

#include <fmt/format.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <list>

#include "agent/state.hpp"
#include "core/fd.hpp"
#include "core/log.hpp"

namespace lockbox::agent {
namespace {

constexpr std::size_t kMaxConnections = 512;
constexpr int kWriteTimeoutMs = 5000;

struct Connection {
  Fd fd;
  FrameReader reader{kMaxRequestBytes};
};

sockaddr_un address_of(const std::filesystem::path& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  std::memcpy(addr.sun_path, path.c_str(), path.native().size());
  return addr;
}

// A socket file already there: a live agent keeps it (refused), a stale one is removed.
Status clear_stale_socket(const std::filesystem::path& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return Status::ok();
  if (!S_ISSOCK(st.st_mode))
    return bad_input(fmt::format("{} exists and is not a socket", path.string()));
  const Fd probe(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  const sockaddr_un addr = address_of(path);
  if (probe.valid() &&
      ::connect(probe.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr) == 0) {
    return bad_input(fmt::format("an agent already listens on {}", path.string()));
  }
  if (::unlink(path.c_str()) != 0)
    return runtime_error(fmt::format("cannot remove the stale socket {}", path.string()));
  return Status::ok();
}

Result<Fd> listen_on(const std::filesystem::path& path) {
  if (path.native().size() >= sizeof(sockaddr_un::sun_path)) {
    return bad_input(fmt::format("the socket path {} is too long", path.string()));
  }
  LOCKBOX_TRY(clear_stale_socket(path));
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  if (!fd.valid()) return runtime_error("cannot create a unix socket");
  const sockaddr_un addr = address_of(path);
  // 0600 from the start: no moment where another user could connect.
  const mode_t old = ::umask(0177);
  const int rc = ::bind(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  ::umask(old);
  if (rc != 0)
    return runtime_error(fmt::format("cannot bind {}: {}", path.string(), std::strerror(errno)));
  if (::chmod(path.c_str(), 0600) != 0 || ::listen(fd.get(), 128) != 0) {
    ::unlink(path.c_str());
    return runtime_error(fmt::format("cannot listen on {}", path.string()));
  }
  return fd;
}

// SIGTERM and SIGINT as a descriptor of the poll loop; SIGPIPE ignored (a client that left).
Result<Fd> stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  if (::sigprocmask(SIG_BLOCK, &set, nullptr) != 0)
    return runtime_error("cannot block SIGTERM/SIGINT");
  ::signal(SIGPIPE, SIG_IGN);
  Fd fd(::signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!fd.valid()) return runtime_error("cannot open a signalfd");
  return fd;
}

bool write_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    if (n > 0) {
      bytes.remove_prefix(static_cast<std::size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd, POLLOUT, 0};
      if (::poll(&p, 1, kWriteTimeoutMs) <= 0) return false;  // a client that stopped reading
      continue;
    }
    return false;
  }
  return true;
}

// Serves what `c` sent; false when the connection is to be dropped (closed, malformed, oversized).
bool serve_readable(Connection& c, AgentState& state) {
  char buf[16384];
  const ssize_t n = ::recv(c.fd.get(), buf, sizeof buf, MSG_DONTWAIT);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) return true;
  if (n <= 0) return false;
  c.reader.append({buf, static_cast<std::size_t>(n)});
  wipe(buf, sizeof buf);
  while (true) {
    auto payload = c.reader.next();
    if (!payload.is_ok()) {
      log::info("agent: dropped a connection: {}", payload.status().message());
      return false;
    }
    if (!*payload) return true;
    auto message = decode((*payload)->reveal());
    std::optional<SecretValue> answer;
    if (message.is_ok()) answer = state.answer(*message);
    if (!answer) {
      log::info("agent: dropped a connection: malformed request");
      return false;
    }
    if (!write_all(c.fd.get(), answer->reveal())) return false;
  }
}

// A new peer: kept when it runs as this uid, closed unanswered otherwise.
void accept_peers(int listener, std::list<Connection>& connections, const AgentOptions& options) {
  while (true) {
    Fd fd(::accept4(listener, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK));
    if (!fd.valid()) return;  // EAGAIN: no more for now (errors: the next poll tries again)
    ucred cred{};
    socklen_t len = sizeof cred;
    const bool known = ::getsockopt(fd.get(), SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0;
    if (!known || cred.uid != ::geteuid() || options.refuse_every_peer) {
      log::notice("agent: refused a peer of uid {} (only uid {} is served)",
                  known ? static_cast<long>(cred.uid) : -1L, static_cast<long>(::geteuid()));
      continue;
    }
    if (connections.size() >= kMaxConnections) {
      log::warn("agent: {} connections open; refusing one more", kMaxConnections);
      continue;
    }
    connections.push_back({std::move(fd), FrameReader(kMaxRequestBytes)});
  }
}

// LOCKBOX_AGENT_TEST_REFUSE=1 (test builds only): every peer is refused as another uid's would be.
bool seam_refuses_every_peer() {
#ifdef LOCKBOX_TEST_SEAMS
  const char* v = std::getenv("LOCKBOX_AGENT_TEST_REFUSE");
  return v != nullptr && std::string_view(v) == "1";
#else
  return false;
#endif
}

Status serve(int listener, int signals, AgentState& state, const AgentOptions& options) {
  std::list<Connection> connections;
  std::vector<pollfd> fds;
  while (true) {
    fds.assign({{listener, POLLIN, 0}, {signals, POLLIN, 0}});
    for (const auto& c : connections) fds.push_back({c.fd.get(), POLLIN, 0});
    if (::poll(fds.data(), fds.size(), -1) < 0) {
      if (errno == EINTR) continue;
      return runtime_error("agent: poll failed");
    }
    if (fds[1].revents != 0) return Status::ok();
    std::size_t i = 2;
    for (auto it = connections.begin(); it != connections.end(); ++i) {
      if (fds[i].revents != 0 && !serve_readable(*it, state)) {
        it = connections.erase(it);
      } else {
        ++it;
      }
    }
    if (fds[0].revents != 0) accept_peers(listener, connections, options);
  }
}

}  // namespace

std::filesystem::path default_socket_path() {
  const char* runtime = std::getenv("XDG_RUNTIME_DIR");
  if (runtime != nullptr && runtime[0] == '/')
    return std::filesystem::path(runtime) / "lockbox" / "agent.sock";
  return std::filesystem::path(fmt::format("/tmp/lockbox-{}", ::geteuid())) / "agent.sock";
}

Status check_socket_dir(const std::filesystem::path& dir) {
  struct stat st {};
  if (::lstat(dir.c_str(), &st) != 0) {
    if (errno != ENOENT)
      return bad_input(fmt::format("cannot inspect the socket directory {}", dir.string()));
    if (::mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST) {
      return runtime_error(fmt::format("cannot create the socket directory {}", dir.string()));
    }
    if (::lstat(dir.c_str(), &st) != 0)
      return runtime_error(fmt::format("cannot inspect {}", dir.string()));
  }
  if (S_ISLNK(st.st_mode))
    return bad_input(fmt::format("the socket directory {} is a symbolic link", dir.string()));
  if (!S_ISDIR(st.st_mode))
    return bad_input(fmt::format("the socket directory {} is not a directory", dir.string()));
  if (st.st_uid != ::geteuid()) {
    return bad_input(fmt::format("the socket directory {} is owned by uid {}, not {}", dir.string(),
                                 static_cast<long>(st.st_uid), static_cast<long>(::geteuid())));
  }
  if ((st.st_mode & 077) != 0) {
    return bad_input(
        fmt::format("the socket directory {} is open to other users (mode {:o}): chmod 700 it",
                    dir.string(), st.st_mode & 07777));
  }
  return Status::ok();
}

Status run_agent(const AgentOptions& options) {
  std::error_code ec;
  const std::filesystem::path path = std::filesystem::absolute(
      options.socket.empty() ? default_socket_path() : options.socket, ec);
  if (ec) return bad_input("cannot make the socket path absolute");
  LOCKBOX_TRY(check_socket_dir(path.parent_path().empty() ? "." : path.parent_path()));
  LOCKBOX_ASSIGN_OR_RETURN(policies::Policy policy, options.load_policy());
  LOCKBOX_ASSIGN_OR_RETURN(auto store, options.open_store());
  LOCKBOX_ASSIGN_OR_RETURN(Fd signals, stop_signals());
  LOCKBOX_ASSIGN_OR_RETURN(Fd listener, listen_on(path));
  AgentOptions effective = options;
  effective.refuse_every_peer = options.refuse_every_peer || seam_refuses_every_peer();
  AgentState state(effective, std::move(store), std::move(policy));
  if (options.on_listening) options.on_listening(path);
  Status status = serve(listener.get(), signals.get(), state, effective);
  ::unlink(path.c_str());
  log::notice("agent: stopped; {} removed", path.string());
  return status;
}

}  // namespace lockbox::agent
