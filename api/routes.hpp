#pragma once
// Internal to the api module: what the route handlers share (service.cpp routes, secret_routes.cpp
// and resolve_route.cpp answer).

#include <string>

#include "api/access.hpp"
#include "api/audit_batcher.hpp"
#include "api/http.hpp"
#include "api/metrics.hpp"
#include "api/request.hpp"
#include "api/resolve_cache.hpp"
#include "core/clock.hpp"
#include "core/json_writer.hpp"
#include "policies/policy.hpp"
#include "resolver/resolver.hpp"
#include "store/store.hpp"

namespace lockbox::api {

// One authenticated request on its way to a route handler.
struct Call {
  HttpRequest& request;
  const Target& target;
  const Principal& who;
  store::Store& store;
  const policies::Policy& policy;
  const Clock& clock;
  Metrics* metrics;
  AuditBatcher& batcher;
  ResolveCache* resolve_cache;  // null: no caching
  std::string name;             // the {name} of /api/v1/admin/secrets/{name}, "" elsewhere
};

// The response of a failed operation: kBadInput 400 ("version conflict" 409), kNotFound 404,
// kDenied 403, kRuntime 503 (busy, I/O), kKey and kIntegrity 500. Store messages never carry
// values, so they are passed on, except for key and integrity failures, which stay in the log.
HttpResponse from_status(const Status& status);
// 403 "the token's role does not grant PERMISSION on SCOPE".
HttpResponse forbidden(Permission permission, const Scope& scope);
// A JSON document as the response.
HttpResponse json_response(int status, const JsonWriter& json);

// The {name} routes' scope: query `scope`, default global. kBadInput for a bad address.
Result<Scope> scope_param(const Call& call);

HttpResponse list_secrets(Call& call);
HttpResponse create_secret(Call& call);  // one secret, or {secrets: [...]} (bulk_routes.cpp)
HttpResponse delete_secrets(
    Call& call);  // DELETE /api/v1/admin/secrets {secrets: [...]} (bulk_routes.cpp)
// One create item (the body of a single POST, or one element of a bulk one) as a SetRequest:
// kBadInput for a bad or missing field, kDenied when the token may not write its scope.
Result<store::SetRequest> read_create_item(const Call& call, const JsonBody& body);
// The bulk forms of POST and DELETE /api/v1/admin/secrets (bulk_routes.cpp).
HttpResponse create_secrets_bulk(Call& call, const JsonBody& body);
HttpResponse get_secret(Call& call);
HttpResponse reveal_secret(Call& call);
HttpResponse update_secret(Call& call);
HttpResponse delete_secret(Call& call);
HttpResponse secret_history(Call& call);
HttpResponse rollback_secret(Call& call);
HttpResponse resolve(Call& call);
// The launch context of a resolve body {namespace, function, group, apikey}, as `run` reads it:
// the namespace given, else the policy function's, else default; `function` is set to the
// policy's entry for the function, or null. Shared by /resolve and /resolve/preview.
Result<resolver::LaunchContext> read_launch_context(const JsonBody& body,
                                                    const policies::Policy& policy,
                                                    const policies::FunctionPolicy*& function);
HttpResponse whoami(Call& call);  // GET /api/v1/whoami (session_whoami.cpp)
// The console's admin pages (ui_admin_routes.cpp).
HttpResponse audit_route(Call& call);         // GET /api/v1/admin/audit (admin)
HttpResponse keys_route(Call& call);          // GET /api/v1/admin/keys
HttpResponse rotate_key_route(Call& call);    // POST /api/v1/admin/keys/rotate (admin)
HttpResponse tokens_route(Call& call);        // GET, POST /api/v1/admin/tokens (admin)
HttpResponse revoke_token_route(Call& call);  // DELETE /api/v1/admin/tokens/{name} (admin)
HttpResponse resolve_preview(Call& call);     // POST /api/v1/resolve/preview (ui_preview_route.cpp)
HttpResponse openapi_route(
    const std::string& method);  // GET /api/v1/openapi.json, no token (openapi_route.cpp)

}  // namespace lockbox::api
