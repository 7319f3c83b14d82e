#include "api/remote_source.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/address.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/json/value.hpp>
#include <cctype>
#include <cerrno>
#include <map>

#include "api/http.hpp"
#include "api/http_client.hpp"
#include "api/request.hpp"
#include "core/json_writer.hpp"
#include "core/log.hpp"
#include "core/time_format.hpp"

namespace lockbox::api {
namespace {

constexpr std::size_t kMaxTokenFile = 4096;

Result<SecretValue> read_token_file(const std::string& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) == 0 && (st.st_mode & S_IROTH) != 0) {
    log::warn("--token-file {} is readable by every user: chmod 600 it", path);
  }
  LOCKBOX_ASSIGN_OR_RETURN(const SecretValue content,
                           launcher::read_secret_file(path, "--token-file", kMaxTokenFile));
  std::string_view text = content.reveal();
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
    text.remove_prefix(1);
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
    text.remove_suffix(1);
  if (text.empty()) return bad_input("--token-file: " + path + " is empty");
  if (text.find_first_of(" \t\r\n") != std::string_view::npos) {
    return bad_input("--token-file: " + path + " does not hold one token");
  }
  return SecretValue(text);
}

// An IP literal of this host: 127.0.0.0/8, ::1, or ::ffff:127.x.y.z. A name that merely starts
// with "127." ("127.attacker.example") is not an address and does not pass.
bool is_loopback_literal(const std::string& host) {
  boost::system::error_code ec;
  const boost::asio::ip::address address = boost::asio::ip::make_address(host, ec);
  if (ec) return false;
  if (address.is_v6() && address.to_v6().is_v4_mapped()) {
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .is_loopback();
  }
  return address.is_loopback();
}

// "localhost" (any case) counts when every address it resolves to is a loopback address.
bool is_localhost_name(const std::string& host) {
  if (host.size() != 9) return false;
  for (std::size_t i = 0; i < host.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(host[i])) != "localhost"[i]) return false;
  }
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  const auto results = resolver.resolve("localhost", "", ec);
  if (ec || results.empty()) return false;
  for (const auto& entry : results) {
    if (!is_loopback_literal(entry.endpoint().address().to_string())) return false;
  }
  return true;
}

bool is_loopback(const std::string& host) {
  return is_loopback_literal(host) || is_localhost_name(host);
}

// The message of an API error body, or a generic one.
std::string api_message(const ClientResponse& response) {
  auto body = JsonBody::parse(response.body.reveal());
  if (body.is_ok()) {
    const auto& root = (*body)->root();
    if (const auto* error = root.if_contains("error"); error != nullptr && error->is_object()) {
      if (const auto* m = error->as_object().if_contains("message");
          m != nullptr && m->is_string()) {
        return printable(std::string_view(m->get_string().data(), m->get_string().size()), 512);
      }
    }
  }
  return "no error message";
}

Status status_of(const ClientResponse& response) {
  const std::string message = api_message(response);
  switch (response.status) {
    case 400: return bad_input("server: " + message);
    case 401: return denied("server refused the token: " + message);
    case 403: return denied("server: denied by the token's role: " + message);
    case 429:
      return runtime_error("server: too many failed authentications from this address" +
                           (response.retry_after.empty()
                                ? std::string()
                                : "; retry after " + response.retry_after + "s"));
    default:
      return runtime_error("server answered " + std::to_string(response.status) + ": " + message);
  }
}

class RemoteSource final : public launcher::SecretSource {
 public:
  RemoteSource(std::unique_ptr<HttpClient> client, SecretValue token)
      : client_(std::move(client)), token_(std::move(token)) {}

  Status resolve(launcher::LaunchPlan& plan, const launcher::RunRequest& request,
                 const policies::Policy& policy, const std::vector<std::string_view>& host,
                 UnixMillis now, bool decrypt) override {
    LOCKBOX_TRY(fetch(plan.context));
    const launcher::StoredLayer stored{
        [this](const std::vector<Scope>& scopes) { return heads_in(scopes); },
        [this](const store::SecretAddress& address, std::int64_t version) -> Result<SecretValue> {
          auto it = values_.find({address.reference(), version});
          if (it == values_.end())
            return runtime_error("server: no value for " + address.reference());
          return it->second.clone();
        }};
    Status status = launcher::resolve_plan(plan, request, policy, stored, host, now, decrypt);
    values_.clear();  // the plan has its copies; none stays here for the run (SECURITY.md)
    return status;
  }

  Status audit(const store::AuditEvent&) override { return Status::ok(); }
  std::optional<std::int64_t> change_counter() override { return std::nullopt; }

 private:
  // POST /api/v1/resolve for the context; keeps the heads and values of the answer.
  Status fetch(const resolver::LaunchContext& context) {
    JsonWriter json;
    json.begin_object();
    json.key("namespace");
    json.string(context.ns);
    for (const auto& [key, value] :
         {std::pair{"function", &context.function}, std::pair{"group", &context.group},
          std::pair{"apikey", &context.apikey}}) {
      if (!*value) continue;
      json.key(key);
      json.string(**value);
    }
    json.end_object();
    LOCKBOX_ASSIGN_OR_RETURN(
        const ClientResponse response,
        client_->request("POST", "/api/v1/resolve", token_.reveal(), json.view()));
    if (response.status != 200) return status_of(response);
    LOCKBOX_ASSIGN_OR_RETURN(auto body, JsonBody::parse(response.body.reveal()));
    heads_.clear();
    values_.clear();
    const auto* secrets = body->root().if_contains("secrets");
    if (secrets == nullptr || !secrets->is_array())
      return runtime_error("server: malformed resolve response");
    for (const auto& item : secrets->get_array()) {
      LOCKBOX_TRY(add_secret(item));
    }
    if (const auto* warnings = body->root().if_contains("warnings");
        warnings != nullptr && warnings->is_array()) {
      for (const auto& w : warnings->get_array()) {
        if (w.is_string())
          log::warn("server: {}",
                    printable(std::string_view(w.get_string().data(), w.get_string().size()), 512));
      }
    }
    return Status::ok();
  }

  Status add_secret(const boost::json::value& item) {
    const auto* o = item.if_object();
    const auto* name = o != nullptr ? o->if_contains("name") : nullptr;
    const auto* scope = o != nullptr ? o->if_contains("scope") : nullptr;
    const auto* version = o != nullptr ? o->if_contains("version") : nullptr;
    const auto* value = o != nullptr ? o->if_contains("value") : nullptr;
    const auto* expires = o != nullptr ? o->if_contains("expires_at") : nullptr;
    if (name == nullptr || !name->is_string() || scope == nullptr || !scope->is_string() ||
        version == nullptr || !version->is_int64() || value == nullptr || !value->is_string()) {
      return runtime_error("server: malformed resolve response");
    }
    store::SecretMeta meta;
    LOCKBOX_ASSIGN_OR_RETURN(
        meta.scope,
        Scope::parse(std::string_view(scope->get_string().data(), scope->get_string().size())));
    meta.name.assign(name->get_string().data(), name->get_string().size());
    LOCKBOX_TRY(validate_name(meta.name, "secret name from the server"));
    meta.version = version->get_int64();
    const std::string_view text(value->get_string().data(), value->get_string().size());
    if (text.find('\0') != std::string_view::npos) {
      return runtime_error("server: the value of " + meta.name + " holds a NUL byte");
    }
    if (expires != nullptr && expires->is_string()) {
      auto at = parse_rfc3339(
          std::string_view(expires->get_string().data(), expires->get_string().size()));
      if (at.is_ok()) meta.expires_at = *at;
    }
    values_.emplace(
        std::make_pair(store::SecretAddress{meta.scope, meta.name}.reference(), meta.version),
        SecretValue(std::string_view(value->get_string().data(), value->get_string().size())));
    heads_.push_back(std::move(meta));
    return Status::ok();
  }

  // The server already chose one winner per name; offered as the heads of their scopes, the
  // local resolver keeps them and applies this host's layers on top.
  Result<std::vector<store::SecretMeta>> heads_in(const std::vector<Scope>& scopes) const {
    return launcher::winners_in(heads_, scopes);
  }

  std::unique_ptr<HttpClient> client_;
  SecretValue token_;
  std::vector<store::SecretMeta> heads_;
  std::map<std::pair<std::string, std::int64_t>, SecretValue> values_;
};

}  // namespace

Result<std::unique_ptr<launcher::SecretSource>> remote_source(const RemoteOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(const ParsedUrl url, parse_url(options.server_url));
  // The token and every value cross the wire: plain http only where the wire is this host.
  if (!url.tls && !is_loopback(url.host)) {
    return bad_input(
        "--server: plain http is allowed only to a loopback address of this host (127.0.0.0/8, "
        "::1, localhost); use https");
  }
  LOCKBOX_ASSIGN_OR_RETURN(SecretValue token, read_token_file(options.token_file));
  LOCKBOX_ASSIGN_OR_RETURN(auto client, HttpClient::create(options.server_url));
  return std::unique_ptr<launcher::SecretSource>(
      new RemoteSource(std::move(client), std::move(token)));
}

}  // namespace lockbox::api
