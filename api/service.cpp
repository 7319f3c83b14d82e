#include "api/service.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <vector>

#include "api/routes.hpp"
#include "core/log.hpp"
#include "core/scope.hpp"

namespace lockbox::api {
namespace {

constexpr std::string_view kBearer = "Bearer ";

std::atomic<std::uint64_t> next_service_id{1};

enum class RouteId {
  kHealth,
  kMetrics,
  kSecrets,
  kSecret,
  kValue,
  kHistory,
  kRollback,
  kResolve,
  kWhoami,
  kAudit,
  kKeys,
  kRotate,
  kTokens,
  kToken,
  kPreview,
  kOpenApi
};

struct Route {
  RouteId id;
  const char* templ;  // for metrics and logs
  std::string name;   // {name}
};

// Routes on the decoded segments (parse_target): "%2F" inside a name cannot reach another route.
std::optional<Route> match_route(const std::vector<std::string>& p) {
  if (p.size() == 1 && p[0] == "metrics") return Route{RouteId::kMetrics, "/metrics", {}};
  if (p.size() < 3 || p[0] != "api" || p[1] != "v1") return std::nullopt;
  if (p.size() == 3 && p[2] == "health") return Route{RouteId::kHealth, "/api/v1/health", {}};
  if (p.size() == 3 && p[2] == "openapi.json")
    return Route{RouteId::kOpenApi, "/api/v1/openapi.json", {}};
  if (p.size() == 3 && p[2] == "resolve") return Route{RouteId::kResolve, "/api/v1/resolve", {}};
  if (p.size() == 4 && p[2] == "resolve" && p[3] == "preview") {
    return Route{RouteId::kPreview, "/api/v1/resolve/preview", {}};
  }
  if (p.size() == 3 && p[2] == "whoami") return Route{RouteId::kWhoami, "/api/v1/whoami", {}};
  if (p.size() == 4 && p[2] == "admin" && p[3] == "audit")
    return Route{RouteId::kAudit, "/api/v1/admin/audit", {}};
  if (p.size() == 4 && p[2] == "admin" && p[3] == "keys")
    return Route{RouteId::kKeys, "/api/v1/admin/keys", {}};
  if (p.size() == 5 && p[2] == "admin" && p[3] == "keys" && p[4] == "rotate") {
    return Route{RouteId::kRotate, "/api/v1/admin/keys/rotate", {}};
  }
  if (p.size() == 4 && p[2] == "admin" && p[3] == "tokens")
    return Route{RouteId::kTokens, "/api/v1/admin/tokens", {}};
  if (p.size() == 5 && p[2] == "admin" && p[3] == "tokens") {
    return Route{RouteId::kToken, "/api/v1/admin/tokens/{name}", p[4]};
  }
  if (p.size() < 4 || p[2] != "admin" || p[3] != "secrets") return std::nullopt;
  if (p.size() == 4) return Route{RouteId::kSecrets, "/api/v1/admin/secrets", {}};
  const std::string name(p[4]);
  if (p.size() == 5) return Route{RouteId::kSecret, "/api/v1/admin/secrets/{name}", name};
  if (p.size() != 6) return std::nullopt;
  if (p[5] == "value") return Route{RouteId::kValue, "/api/v1/admin/secrets/{name}/value", name};
  if (p[5] == "history")
    return Route{RouteId::kHistory, "/api/v1/admin/secrets/{name}/history", name};
  if (p[5] == "rollback")
    return Route{RouteId::kRollback, "/api/v1/admin/secrets/{name}/rollback", name};
  return std::nullopt;
}

// The handler of (route, method), or nullptr for a method the route does not have.
using RouteHandler = HttpResponse (*)(Call&);
RouteHandler handler_for(RouteId id, std::string_view method) {
  switch (id) {
    case RouteId::kSecrets:
      if (method == "GET") return list_secrets;
      if (method == "POST") return create_secret;
      if (method == "DELETE") return delete_secrets;
      return nullptr;
    case RouteId::kSecret:
      if (method == "GET") return get_secret;
      if (method == "PUT") return update_secret;
      if (method == "DELETE") return delete_secret;
      return nullptr;
    case RouteId::kValue: return method == "GET" ? reveal_secret : nullptr;
    case RouteId::kHistory: return method == "GET" ? secret_history : nullptr;
    case RouteId::kRollback: return method == "POST" ? rollback_secret : nullptr;
    case RouteId::kResolve: return method == "POST" ? resolve : nullptr;
    case RouteId::kWhoami: return method == "GET" ? whoami : nullptr;
    case RouteId::kAudit: return method == "GET" ? audit_route : nullptr;
    case RouteId::kPreview: return method == "POST" ? resolve_preview : nullptr;
    case RouteId::kKeys: return method == "GET" ? keys_route : nullptr;
    case RouteId::kRotate: return method == "POST" ? rotate_key_route : nullptr;
    case RouteId::kTokens: return method == "GET" || method == "POST" ? tokens_route : nullptr;
    case RouteId::kToken: return method == "DELETE" ? revoke_token_route : nullptr;
    default: return nullptr;
  }
}

const char* allowed_methods(RouteId id) {
  switch (id) {
    case RouteId::kSecrets: return "GET, HEAD, POST, DELETE";
    case RouteId::kSecret: return "GET, HEAD, PUT, DELETE";
    case RouteId::kRollback:
    case RouteId::kRotate:
    case RouteId::kPreview:
    case RouteId::kResolve: return "POST";
    case RouteId::kTokens: return "GET, HEAD, POST";
    case RouteId::kToken: return "DELETE";
    default: return "GET, HEAD";  // HEAD reaches the handler as GET (HttpServer)
  }
}

// "Bearer <credentials>", the scheme in any case (RFC 9110 §11.1: "bearer" as "Bearer").
bool is_bearer(std::string_view presented) {
  return presented.size() > kBearer.size() &&
         std::equal(kBearer.begin(), kBearer.end(), presented.begin(), [](char x, char y) {
           return std::tolower(static_cast<unsigned char>(x)) ==
                  std::tolower(static_cast<unsigned char>(y));
         });
}

bool is_json_content_type(std::string_view type) {
  const std::size_t semi = type.find(';');
  std::string_view base = type.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string lower(base);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json";
}

}  // namespace

struct ApiService::Impl {
  ServiceConfig config;
  std::uint64_t id = next_service_id.fetch_add(1);
  AuthLimiter limiter;
  ResolveCache resolve_cache;

  explicit Impl(ServiceConfig c)
      : config(std::move(c)), limiter(config.auth_failure_limit, config.auth_failure_window_ms) {}

  // This thread's store for this service, opened on first use.
  Result<store::Store*> thread_store() const {
    thread_local std::unique_ptr<store::Store> store;
    thread_local std::uint64_t owner = 0;
    if (!store || owner != id) {
      store.reset();
      LOCKBOX_ASSIGN_OR_RETURN(store, config.open_store());
      owner = id;
    }
    return store.get();
  }

  // /api/v1/health and /metrics: no token.
  HttpResponse open_route(RouteId route, const std::string& method) const {
    if (method != "GET") {
      HttpResponse r = error_response(405, "bad_request", "method not allowed");
      r.headers.emplace_back("Allow", "GET, HEAD");
      return r;
    }
    if (route == RouteId::kHealth) {
      HttpResponse r;
      r.body = SecretValue(R"({"status":"ok"})");
      return r;
    }
    std::optional<double> key_age;
    std::optional<std::int64_t> rotation_due;  // secrets whose reminder is due (SPEC §13)
    if (auto store = thread_store(); store.is_ok()) {
      const UnixMillis now = config.clock->now();
      if (auto keys = (*store)->key_status(); keys.is_ok()) {
        key_age = static_cast<double>(now - keys->active_created_at) / 1000.0;
      }
      if (auto heads = (*store)->list({}); heads.is_ok()) {
        rotation_due =
            std::count_if(heads->begin(), heads->end(),
                          [now](const store::SecretMeta& m) { return m.rotation_due(now); });
      }
    }
    HttpResponse r;
    r.content_type = "text/plain; version=0.0.4; charset=utf-8";
    r.body = SecretValue(config.metrics != nullptr ? config.metrics->render(key_age, rotation_due)
                                                   : "lockbox_up 1\n");
    return r;
  }

  // A failed authentication: 429 past a limit (unaudited), else an audited 401.
  HttpResponse refuse(const HttpRequest& request, const char* route, bool has_bearer,
                      const std::string& known_name, AuditBatcher& batcher) {
    const UnixMillis now = config.clock->now();
    if (config.metrics != nullptr) config.metrics->add_auth_failure();
    if (const std::int64_t wait = limiter.blocked_for(request.peer, now); wait > 0) {
      HttpResponse r = error_response(429, "too_many_requests", "too many failed authentications");
      r.headers.emplace_back("Retry-After", std::to_string(wait));
      return r;
    }
    const AuthLimiter::Effect effect = limiter.record_failure(request.peer, now);
    const char* note = effect == AuthLimiter::Effect::kBlocksAddress ? "; address blocked"
                       : effect == AuthLimiter::Effect::kExhaustsBudget
                           ? "; failure budget exhausted, all addresses blocked"
                           : "";
    const std::string detail =
        fmt::format("from {} {} {}{}", request.peer, request.method, route, note);
    store::AuditEvent event{"auth.failure",
                            known_name.empty() ? "token:unknown" : "token:" + known_name,
                            has_bearer ? "denied" : "missing", detail, "anonymous"};
    if (Status st = batcher.append(std::move(event), true); !st.is_ok()) {
      log::error("api: cannot write an auth.failure record: {}", st.message());
    }
    HttpResponse r =
        error_response(401, "unauthorized",
                       has_bearer ? "invalid, expired or revoked token" : "missing bearer token");
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
};

ApiService::ApiService(ServiceConfig config) : impl_(std::make_unique<Impl>(std::move(config))) {}
ApiService::~ApiService() = default;

void ApiService::drop_cached_answers() {
  impl_->resolve_cache.clear();
}

std::size_t ApiService::cached_answers() const {
  return impl_->resolve_cache.size();
}

Result<std::unique_ptr<ApiService>> ApiService::create(ServiceConfig config) {
  if (config.policy == nullptr || !config.open_store)
    return bad_input("api service: no policy or store");
  if (config.clock == nullptr) config.clock = &process_clock();
  std::unique_ptr<ApiService> service(new ApiService(std::move(config)));
  LOCKBOX_ASSIGN_OR_RETURN(std::unique_ptr<store::Store> audit_store,
                           service->impl_->config.open_store());
  // The batcher owns its store; only its committer thread touches it.
  std::shared_ptr<store::Store> shared(std::move(audit_store));
  service->batcher_ = std::make_unique<AuditBatcher>(
      [shared](const std::vector<store::AuditEvent>& events, bool durable) {
        return shared->append_audit_batch(events, durable);
      });
  return service;
}

HttpResponse ApiService::handle(HttpRequest& request) {
  Impl& impl = *impl_;
  auto target = parse_target(request.target);
  if (!target.is_ok()) return from_status(target.status());
  const auto route = match_route(target->segments);
  if (!route) return error_response(404, "not_found", "no such route");
  auto finish = [&route](HttpResponse r) {
    r.route = route->templ;
    return r;
  };
  if (route->id == RouteId::kOpenApi) return finish(openapi_route(request.method));  // no token
  if (route->id == RouteId::kHealth || route->id == RouteId::kMetrics) {
    return finish(impl.open_route(route->id, request.method));
  }
  const RouteHandler handler = handler_for(route->id, request.method);
  if (handler == nullptr) {
    HttpResponse r = error_response(405, "bad_request", "method not allowed");
    r.headers.emplace_back("Allow", allowed_methods(route->id));
    return finish(std::move(r));
  }

  // Authentication, and the limits on failures (per address, and the global budget across all
  // addresses, AuthLimiter): an address past either gets 429
  // for every attempt that fails (unaudited, so a flood cannot grow the trail), while requests
  // with a valid token still pass, so a noisy neighbour behind the same address (a proxy,
  // localhost) cannot lock the runtimes out.
  auto store = impl.thread_store();
  if (!store.is_ok()) {
    log::error("api: cannot open the store: {}", store.status().message());
    return finish(error_response(503, "unavailable", "the store is unavailable"));
  }
  std::string_view presented = request.authorization;
  const bool has_bearer = is_bearer(presented);
  std::string known_name;
  auto token = has_bearer
                   ? (*store)->authenticate_token(presented.substr(kBearer.size()), &known_name)
                   : Result<store::TokenInfo>(denied("missing bearer token"));
  if (!token.is_ok()) {
    if (token.status().code() != StatusCode::kDenied) return finish(from_status(token.status()));
    return finish(impl.refuse(request, route->templ, has_bearer, known_name, *batcher_));
  }
  // A DELETE with a body (the bulk delete of SPEC §13) takes JSON too.
  const bool has_body = request.method == "POST" || request.method == "PUT" ||
                        (request.method == "DELETE" && !request.body.reveal().empty());
  if (has_body && !is_json_content_type(request.content_type)) {
    return finish(
        error_response(415, "unsupported_media_type", "the body must be application/json"));
  }
  const Principal who = principal_for(token->name, token->role, *impl.config.policy);
  (*store)->set_actor(who.actor());
  Call call{request,
            *target,
            who,
            **store,
            *impl.config.policy,
            *impl.config.clock,
            impl.config.metrics,
            *batcher_,
            &impl.resolve_cache,
            route->name};
  if (!call.name.empty()) {
    if (Status st = validate_name(call.name, "secret name"); !st.is_ok())
      return finish(from_status(st));
  }
  HttpResponse response = handler(call);
  response.authenticated = true;
  return finish(std::move(response));
}

}  // namespace lockbox::api
