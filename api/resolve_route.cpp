// POST /api/v1/resolve (SPEC §8): the launch view of a context with values, for remote launchers.
// The resolver of `run` is reused without its env-file and host layers; scopes the token may not
// resolve are left out of the chain (so a scope it may resolve can win instead), and a token that
// may resolve none of the context's scopes gets 403. One `resolve` record per request, through
// the group-commit batcher, committed before the values are sent.
#include <fmt/format.h>

#include "api/routes.hpp"
#include "core/log.hpp"
#include "core/time_format.hpp"
#include "resolver/resolver.hpp"

namespace lockbox::api {
namespace {

// The cacheable part of a resolve record: what was injected (names, scopes, versions; no values).
std::string injected_detail(const resolver::Resolution& resolution) {
  std::string out = "injected=";
  bool first = true;
  for (const auto& v : resolution.variables) {
    out += fmt::format("{}{}@{}#v{}", first ? "" : ",", v.name, v.origin.text(), v.origin.version);
    first = false;
  }
  return out;
}

// The per-request part: the scopes of this request's context that its token may not resolve.
// Never cached: two requests with the same permitted scopes can leave out different ones.
std::string request_detail(const std::vector<Scope>& left_out) {
  std::string out;
  if (!left_out.empty()) {
    out += " left_out=";
    bool first = true;
    for (const auto& s : left_out) {
      out += (first ? "" : ",") + s.address();
      first = false;
    }
  }
  return out + " via api";
}

}  // namespace

namespace {

// The cache key: what the answer depends on and nothing else (so identifiers of scopes the token
// may not resolve cannot multiply entries): the namespace (its policy), the policy function whose
// rules apply, and the exact scopes the token may resolve. Names cannot hold '\n'.
std::string cache_key(const resolver::LaunchContext& c, const policies::FunctionPolicy* function,
                      const std::vector<Scope>& permitted) {
  std::string key = c.ns + '\n' + (function != nullptr ? "f:" + function->name : std::string("-"));
  for (const auto& s : permitted) key += '\n' + s.address();
  return key;
}

// The answer {secrets: [{name, env, scope, version, expires_at, value}], warnings}.
SecretValue answer_body(const resolver::Resolution& resolution) {
  JsonWriter json;
  json.begin_object();
  json.key("secrets");
  json.begin_array();
  for (const auto& v : resolution.variables) {
    json.begin_object();
    json.key("name");
    json.string(v.name);
    json.key("env");
    json.string(v.env);
    json.key("scope");
    json.string(v.origin.scope.address());
    json.key("version");
    json.integer(v.origin.version);
    json.key("expires_at");
    json.optional_string(v.expires_at ? std::optional<std::string>(format_rfc3339(*v.expires_at))
                                      : std::nullopt);
    json.key("value");
    json.string(v.value.reveal());
    json.end_object();
  }
  json.end_array();
  json.key("warnings");
  json.begin_array();
  for (const auto& w : resolution.warnings) json.string(w);
  json.end_array();
  json.end_object();
  return SecretValue(json.view());
}

// Resolves from the store: heads of the permitted scopes, the resolver, the winners decrypted.
Result<ResolveCache::Entry> compute(Call& call, const resolver::LaunchContext& context,
                                    const policies::FunctionPolicy* function,
                                    const std::vector<Scope>& permitted) {
  resolver::ResolveInput input;
  input.policy = &call.policy;
  input.context = context;
  input.function = function;
  LOCKBOX_ASSIGN_OR_RETURN(input.heads, call.store.heads_in_scopes(permitted));
  input.now = call.clock.now();
  LOCKBOX_ASSIGN_OR_RETURN(resolver::Resolution resolution, resolver::resolve(input));
  ResolveCache::Entry entry;
  for (auto& v : resolution.variables) {
    auto value = call.store.decrypt({v.origin.scope, v.name}, v.origin.version);
    if (!value.is_ok()) {
      if (value.status().code() == StatusCode::kIntegrity && call.metrics != nullptr)
        call.metrics->add_decrypt_failure();
      return value.status();
    }
    v.value = std::move(value).value();
    if (v.expires_at && (!entry.valid_until || *v.expires_at < *entry.valid_until))
      entry.valid_until = v.expires_at;
  }
  entry.body = answer_body(resolution);
  entry.audit_detail = injected_detail(resolution);
  entry.secrets = resolution.variables.size();
  return entry;
}

}  // namespace

Result<resolver::LaunchContext> read_launch_context(const JsonBody& body,
                                                    const policies::Policy& policy,
                                                    const policies::FunctionPolicy*& function) {
  LOCKBOX_TRY(body.check_fields({"namespace", "function", "group", "apikey"}));
  resolver::LaunchContext context;
  LOCKBOX_ASSIGN_OR_RETURN(auto ns, body.string("namespace"));
  LOCKBOX_ASSIGN_OR_RETURN(context.function, body.string("function"));
  LOCKBOX_ASSIGN_OR_RETURN(context.group, body.string("group"));
  LOCKBOX_ASSIGN_OR_RETURN(context.apikey, body.string("apikey"));
  function = nullptr;
  if (context.function) {
    auto it = policy.functions.find(*context.function);
    if (it != policy.functions.end()) function = &it->second;
  }
  // As `run`: the namespace given, else the policy function's, else default.
  context.ns = ns ? *ns : (function != nullptr && function->ns ? *function->ns : "default");
  for (const auto* id :
       {&context.ns, context.function ? &*context.function : nullptr,
        context.group ? &*context.group : nullptr, context.apikey ? &*context.apikey : nullptr}) {
    if (id != nullptr) LOCKBOX_TRY(validate_name(*id, "context identifier"));
  }
  return context;
}

HttpResponse resolve(Call& call) {
  auto body = JsonBody::parse(call.request.body.reveal());
  if (!body.is_ok()) return from_status(body.status());
  const policies::FunctionPolicy* function = nullptr;
  auto context = read_launch_context(**body, call.policy, function);
  if (!context.is_ok()) return from_status(context.status());
  std::vector<Scope> permitted, left_out;
  for (auto& scope : resolver::scope_chain(call.policy, *context)) {
    (allowed(call.who, Permission::kResolve, scope) ? permitted : left_out)
        .push_back(std::move(scope));
  }
  if (permitted.empty()) {
    return error_response(403, "forbidden",
                          "the token's role grants resolve on none of the context's scopes");
  }
  // The counter is read before resolving: a write that lands meanwhile makes the entry stale.
  // One that fails authentication or went back (SPEC §17) means rows were rolled back outside
  // lockbox: fail closed rather than answer from them.
  const UnixMillis now = call.clock.now();
  const auto counter = call.store.change_counter();
  if (!counter.is_ok() && counter.status().code() == StatusCode::kIntegrity) {
    log::error("api: {}", counter.status().message());
    return from_status(counter.status());
  }
  const std::string key = cache_key(*context, function, permitted);
  std::optional<ResolveCache::Entry> entry;
  if (counter.is_ok() && call.resolve_cache != nullptr)
    entry = call.resolve_cache->find(key, *counter, now);
  if (!entry) {
    auto computed = compute(call, *context, function, permitted);
    if (!computed.is_ok()) return from_status(computed.status());
    entry = std::move(computed).value();
    if (counter.is_ok() && call.resolve_cache != nullptr) {
      entry->counter = *counter;
      call.resolve_cache->put(key,
                              ResolveCache::Entry{*counter, entry->valid_until, entry->body.clone(),
                                                  entry->audit_detail, entry->secrets, now});
    }
  }
  const std::string target = context->function
                                 ? Scope::function(context->ns, *context->function).address()
                                 : Scope::ns(context->ns).address();
  // Resolve records may use synchronous=NORMAL (SPEC §6), as launch records do. The answer
  // leaves only once its record is committed; meanwhile the io thread serves other connections.
  auto ready = std::make_shared<HttpResponse>();
  ready->body = std::move(entry->body);
  ready->headers.emplace_back("Cache-Control", "no-store");
  store::AuditEvent event{"resolve", target, "ok", entry->audit_detail + request_detail(left_out),
                          call.who.actor()};
  HttpResponse placeholder = error_response(500, "internal", "internal error");
  placeholder.deferred = [&batcher = call.batcher, metrics = call.metrics, secrets = entry->secrets,
                          event = std::move(event),
                          ready](std::function<void(HttpResponse)> send) mutable {
    batcher.append_async(
        std::move(event), false,
        [ready, metrics, secrets, send = std::move(send)](const Status& st) {
          if (!st.is_ok()) {
            log::error("api: cannot write the resolve record: {}", st.message());
            return send(error_response(503, "unavailable",
                                       "the audit record could not be written; nothing resolved"));
          }
          if (metrics != nullptr) metrics->add_resolve(secrets);
          send(std::move(*ready));
        });
  };
  return placeholder;
}

HttpResponse from_status(const Status& status) {
  switch (status.code()) {
    case StatusCode::kBadInput:
      if (status.message().rfind("version conflict", 0) == 0) {
        return error_response(409, "conflict", status.message());
      }
      return error_response(400, "bad_request", status.message());
    case StatusCode::kNotFound: return error_response(404, "not_found", status.message());
    case StatusCode::kDenied: return error_response(403, "forbidden", status.message());
    case StatusCode::kRuntime:
      log::error("api: {}", status.message());
      return error_response(503, "unavailable", "the store is busy or unavailable; retry");
    default:
      // Key and integrity failures are for the operator's log (with the secret named), not the
      // caller.
      log::error("api: {}", status.message());
      return error_response(500, "internal",
                            status.code() == StatusCode::kIntegrity
                                ? "a stored row failed its integrity check"
                                : "internal error");
  }
}

HttpResponse forbidden(Permission permission, const Scope& scope) {
  return error_response(403, "forbidden",
                        fmt::format("the token's role does not grant {} on {}",
                                    to_string(permission), scope.address()));
}

HttpResponse json_response(int status, const JsonWriter& json) {
  HttpResponse response;
  response.status = status;
  response.body = SecretValue(json.view());
  return response;
}

}  // namespace lockbox::api
