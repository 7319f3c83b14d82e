#include "agent/client.hpp"

#include <fmt/format.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

#include "agent/protocol.hpp"
#include "core/fd.hpp"
#include "core/timing.hpp"

namespace lockbox::agent {
namespace {

Status send_all(int fd, std::string_view bytes) {
  while (!bytes.empty()) {
    const ssize_t n = ::send(fd, bytes.data(), bytes.size(), MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return runtime_error("the agent connection broke");
    bytes.remove_prefix(static_cast<std::size_t>(n));
  }
  return Status::ok();
}

// Reads exactly n bytes; false on EOF, error or timeout.
bool read_exact(int fd, std::uint8_t* out, std::size_t n) {
  while (n > 0) {
    const ssize_t got = ::recv(fd, out, n, 0);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) return false;
    out += got;
    n -= static_cast<std::size_t>(got);
  }
  return true;
}

class AgentSource final : public launcher::SecretSource {
 public:
  AgentSource(Fd fd, std::string path) : fd_(std::move(fd)), path_(std::move(path)) {}

  // One request, one answer. The answer's payload is kept in `answer_` (wiped) and viewed by the
  // returned message.
  Result<Message> call(const SecretValue& frame) {
    if (!fd_.valid())
      return runtime_error(fmt::format("the agent at {} closed the connection", path_));
    if (Status st = send_all(fd_.get(), frame.reveal()); !st.is_ok()) return broken();
    std::uint8_t head[4];
    if (!read_exact(fd_.get(), head, 4)) return broken();
    const std::size_t n = (std::size_t{head[0]} << 24) | (std::size_t{head[1]} << 16) |
                          (std::size_t{head[2]} << 8) | std::size_t{head[3]};
    if (n > kMaxAnswerBytes) return broken();
    std::uint8_t* body = answer_.resize_for_write(n);
    if (n > 0 && !read_exact(fd_.get(), body, n)) return broken();
    auto message = decode(answer_.reveal());
    if (!message.is_ok()) return broken();
    if (message->kind == Kind::kError) {
      std::int64_t code = 0;
      if (message->fields.size() == 2 && message->fields[0])
        code = parse_int(*message->fields[0]).value_or(0);
      const std::string why = message->fields.size() == 2 ? text(message->fields[1]) : "error";
      const bool known = code > 0 && code <= static_cast<int>(StatusCode::kDenied);
      return Status(known ? static_cast<StatusCode>(code) : StatusCode::kRuntime, "agent: " + why);
    }
    return message;
  }

  Status resolve(launcher::LaunchPlan& plan, const launcher::RunRequest& request,
                 const policies::Policy& policy, const std::vector<std::string_view>& host,
                 UnixMillis now, bool decrypt) override {
    // Two round trips: the heads (no values), then, once the plan has applied the function's
    // globs, expiry and the client's own overrides, the values of exactly what it injects.
    LOCKBOX_TRY(fetch(plan.context, resolver::scope_chain(policy, plan.context)));
    timing::mark("agent-fetch");
    const launcher::StoredLayer stored{
        [this](const std::vector<Scope>& scopes) { return heads_in(scopes); },
        [](const store::SecretAddress& address, std::int64_t) -> Result<SecretValue> {
          return runtime_error("agent: no value for " + address.reference());
        }};
    Status status = launcher::resolve_plan(plan, request, policy, stored, host, now, false);
    answer_.clear();
    if (!status.is_ok() || !decrypt) return status;
    return fetch_values(plan);
  }

  Status audit(const store::AuditEvent& event) override {
    MessageWriter w(Kind::kAudit);
    w.field(event.action).field(event.target).field(event.outcome).field(event.detail);
    LOCKBOX_ASSIGN_OR_RETURN(const Message m, call(w.finish()));
    if (m.kind != Kind::kOk) return broken();
    return Status::ok();
  }

  std::optional<std::int64_t> change_counter() override {
    auto m = call(MessageWriter(Kind::kCounter).finish());
    if (!m.is_ok() || m->kind != Kind::kOk || m->fields.size() != 1 || !m->fields[0])
      return std::nullopt;
    return parse_int(*m->fields[0]);
  }

 private:
  Status broken() {
    fd_.reset();
    answer_.clear();
    return runtime_error(
        fmt::format("the agent at {} closed the connection or answered nonsense", path_));
  }

  // Fills the value of every stored variable of the plan with one kValues round trip.
  Status fetch_values(launcher::LaunchPlan& plan) {
    MessageWriter w(Kind::kValues);
    std::vector<resolver::ResolvedVariable*> wanted;
    for (auto& v : plan.resolution.variables) {
      if (v.origin.kind != resolver::Origin::Kind::kStore) continue;
      w.field(v.origin.scope.address()).field(v.name).field(std::to_string(v.origin.version));
      wanted.push_back(&v);
    }
    if (wanted.empty()) return Status::ok();
    LOCKBOX_ASSIGN_OR_RETURN(const Message m, call(w.finish()));
    if (m.kind != Kind::kOk || m.fields.size() != wanted.size()) return broken();
    for (std::size_t i = 0; i < wanted.size(); ++i) {
      if (!m.fields[i]) return broken();
      wanted[i]->value = SecretValue(*m.fields[i]);
    }
    answer_.clear();
    timing::mark("decrypt");
    return Status::ok();
  }

  Status fetch(const resolver::LaunchContext& context, const std::vector<Scope>& chain) {
    MessageWriter w(Kind::kResolve);
    w.field(context.ns);
    for (const auto* id : {&context.function, &context.group, &context.apikey}) {
      w.optional_field(*id ? std::optional<std::string_view>(**id) : std::nullopt);
    }
    w.field("0");  // no values here: fetch_values asks for the injected ones
    for (const auto& scope : chain) w.field(scope.address());
    LOCKBOX_ASSIGN_OR_RETURN(const Message m, call(w.finish()));
    if (m.kind != Kind::kHeads || m.fields.empty() || (m.fields.size() - 1) % kHeadFields != 0)
      return broken();
    heads_.clear();
    for (std::size_t i = 1; i < m.fields.size(); i += kHeadFields)
      LOCKBOX_TRY(add_head(&m.fields[i]));
    return Status::ok();
  }

  Status add_head(const std::optional<std::string_view>* f) {
    if (!f[0] || !f[1] || !f[2] || !f[4]) return broken();
    store::SecretMeta meta;
    auto scope = Scope::parse(*f[0]);
    const auto version = parse_int(*f[2]);
    if (!scope.is_ok() || !version) return broken();
    meta.scope = std::move(scope).value();
    meta.name = std::string(*f[1]);
    meta.version = *version;
    if (f[3]) {
      const auto at = parse_int(*f[3]);
      if (!at) return broken();
      meta.expires_at = *at;
    }
    meta.tombstone = *f[4] == "1";
    if (f[5]) return broken();  // asked without values
    heads_.push_back(std::move(meta));
    return Status::ok();
  }

  // The agent already chose one winner per name; offered as the heads of their scopes (the local
  // resolver keeps them and applies this host's layers on top).
  Result<std::vector<store::SecretMeta>> heads_in(const std::vector<Scope>& scopes) const {
    return launcher::winners_in(heads_, scopes);
  }

  Fd fd_;
  std::string path_;
  SecretValue answer_;
  std::vector<store::SecretMeta> heads_;
};

}  // namespace

Opened open_agent(const std::string& socket_path, int timeout_ms) {
  Opened out;
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof addr.sun_path) {
    out.reach = Reach::kRefused;
    out.status = bad_input("the agent socket path is empty or too long");
    return out;
  }
  std::memcpy(addr.sun_path, socket_path.data(), socket_path.size());
  Fd fd(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  if (!fd.valid()) {
    out.status = runtime_error("cannot create a unix socket");
    return out;
  }
  const timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  (void)::setsockopt(fd.get(), SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  int rc = 0;
  do {
    rc = ::connect(fd.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr);
  } while (rc != 0 && errno == EINTR);
  if (rc != 0) {
    const int err = errno;
    // A socket this user may not open is another user's agent: refused, never the direct path.
    if (err == EACCES || err == EPERM) out.reach = Reach::kRefused;
    out.status =
        out.reach == Reach::kRefused
            ? denied(fmt::format("the agent at {} is not this user's ({})", socket_path,
                                 std::strerror(err)))
            : runtime_error(fmt::format("no agent at {} ({})", socket_path, std::strerror(err)));
    return out;
  }
  auto source = std::make_unique<AgentSource>(std::move(fd), socket_path);
  auto hello = source->call(MessageWriter(Kind::kHello).finish());
  if (!hello.is_ok() || hello->kind != Kind::kOk) {
    out.reach = Reach::kRefused;
    out.status = denied(fmt::format(
        "the agent at {} refused this connection (it serves only its own user)", socket_path));
    return out;
  }
  timing::mark("agent-hello");
  out.reach = Reach::kServed;
  out.source = std::move(source);
  return out;
}

}  // namespace lockbox::agent
