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

Result<resolver::LaunchContext> read_context(const JsonBody& body, const policies::Policy& policy,
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
  for (const auto* id : {&context.ns, context.function ? &*context.function : nullptr,
                         context.group ? &*context.group : nullptr, context.apikey ? &*context.apikey : nullptr}) {
    if (id != nullptr) LOCKBOX_TRY(validate_name(*id, "context identifier"));
  }
  return context;
}

std::string audit_detail(const resolver::Resolution& resolution, const std::vector<Scope>& left_out) {
  std::string out = "injected=";
  bool first = true;
  for (const auto& v : resolution.variables) {
    out += fmt::format("{}{}@{}#v{}", first ? "" : ",", v.name, v.origin.text(), v.origin.version);
    first = false;
  }
  if (!left_out.empty()) {
    out += " left_out=";
    first = true;
    for (const auto& s : left_out) {
      out += (first ? "" : ",") + s.address();
      first = false;
    }
  }
  return out + " via api";
}

}  // namespace

HttpResponse resolve(Call& call) {
  auto body = JsonBody::parse(call.request.body.reveal());
  if (!body.is_ok()) return from_status(body.status());
  const policies::FunctionPolicy* function = nullptr;
  auto context = read_context(**body, call.policy, function);
  if (!context.is_ok()) return from_status(context.status());
  std::vector<Scope> permitted, left_out;
  for (auto& scope : resolver::scope_chain(call.policy, *context)) {
    (allowed(call.who, Permission::kResolve, scope) ? permitted : left_out).push_back(std::move(scope));
  }
  if (permitted.empty()) {
    return error_response(403, "forbidden", "the token's role grants resolve on none of the context's scopes");
  }
  resolver::ResolveInput input;
  input.policy = &call.policy;
  input.context = *context;
  input.function = function;
  auto heads = call.store.heads_in_scopes(permitted);
  if (!heads.is_ok()) return from_status(heads.status());
  input.heads = std::move(heads).value();
  input.now = call.clock.now();
  auto resolution = resolver::resolve(input);
  if (!resolution.is_ok()) return from_status(resolution.status());
  for (auto& v : resolution->variables) {
    auto value = call.store.decrypt({v.origin.scope, v.name}, v.origin.version);
    if (!value.is_ok()) {
      if (value.status().code() == StatusCode::kIntegrity && call.metrics != nullptr) call.metrics->add_decrypt_failure();
      return from_status(value.status());
    }
    v.value = std::move(value).value();
  }
  const std::string target = context->function ? Scope::function(context->ns, *context->function).address()
                                               : Scope::ns(context->ns).address();
  // Resolve records may use synchronous=NORMAL (SPEC §6), as launch records do.
  if (Status st = call.batcher.append({"resolve", target, "ok", audit_detail(*resolution, left_out),
                                       call.who.actor()},
                                      false);
      !st.is_ok()) {
    log::error("api: cannot write the resolve record: {}", st.message());
    return error_response(503, "unavailable", "the audit record could not be written; nothing resolved");
  }
  if (call.metrics != nullptr) call.metrics->add_resolve(resolution->variables.size());
  JsonWriter json;
  json.begin_object();
  json.key("secrets");
  json.begin_array();
  for (const auto& v : resolution->variables) {
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
    if (v.expires_at) {
      json.string(format_rfc3339(*v.expires_at));
    } else {
      json.null();
    }
    json.key("value");
    json.string(v.value.reveal());
    json.end_object();
  }
  json.end_array();
  json.key("warnings");
  json.begin_array();
  for (const auto& w : resolution->warnings) json.string(w);
  json.end_array();
  json.end_object();
  HttpResponse response = json_response(200, json);
  response.headers.emplace_back("Cache-Control", "no-store");
  return response;
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
      return error_response(500, "internal", status.code() == StatusCode::kIntegrity
                                                 ? "a stored row failed its integrity check"
                                                 : "internal error");
  }
}

HttpResponse forbidden(Permission permission, const Scope& scope) {
  return error_response(403, "forbidden", fmt::format("the token's role does not grant {} on {}",
                                                      to_string(permission), scope.address()));
}

HttpResponse json_response(int status, const JsonWriter& json) {
  HttpResponse response;
  response.status = status;
  response.body = SecretValue(json.view());
  return response;
}

}  // namespace lockbox::api
