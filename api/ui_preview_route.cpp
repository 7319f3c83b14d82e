// POST /api/v1/resolve/preview: the console's resolve preview (SPEC §14): a launch context in, the
// winning origin of each name out (name, env, scope, version), never a value: nothing is
// decrypted. Scopes the token may not resolve are left out exactly as POST /api/v1/resolve does
// (and named in the answer); 403 when it may resolve none. Not audited: it shows what a list
// shows (names, scopes, versions), no value.
#include "api/routes.hpp"
#include "resolver/resolver.hpp"

namespace lockbox::api {
namespace {

void string_list(JsonWriter& json, std::string_view key, const std::vector<std::string>& items) {
  json.key(key);
  json.begin_array();
  for (const auto& s : items) json.string(s);
  json.end_array();
}

}  // namespace

HttpResponse resolve_preview(Call& call) {
  auto body = JsonBody::parse(call.request.body.reveal());
  if (!body.is_ok()) return from_status(body.status());
  const policies::FunctionPolicy* function = nullptr;
  auto context = read_launch_context(**body, call.policy, function);
  if (!context.is_ok()) return from_status(context.status());
  std::vector<Scope> permitted;
  std::vector<std::string> chain, left_out;
  for (auto& scope : resolver::scope_chain(call.policy, *context)) {
    chain.push_back(scope.address());
    if (allowed(call.who, Permission::kResolve, scope))
      permitted.push_back(std::move(scope));
    else
      left_out.push_back(scope.address());
  }
  if (permitted.empty()) {
    return error_response(403, "forbidden",
                          "the token's role grants resolve on none of the context's scopes");
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
    json.end_object();
  }
  json.end_array();
  string_list(json, "chain", chain);
  string_list(json, "left_out", left_out);
  string_list(json, "warnings", resolution->warnings);
  json.end_object();
  return json_response(200, json);
}

}  // namespace lockbox::api
