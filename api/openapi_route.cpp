// GET /api/v1/openapi.json (SPEC §16): the OpenAPI 3.1 document of this API, docs/openapi.yaml
// turned into JSON at build time (scripts/openapi-to-cpp.py). Served without a token, like
// /api/v1/health: it describes the routes and holds no secret.
#include "api/routes.hpp"

namespace lockbox::api {

std::string_view openapi_document();  // generated: openapi_document.cpp

HttpResponse openapi_route(const std::string& method) {
  if (method != "GET") {
    HttpResponse r = error_response(405, "bad_request", "method not allowed");
    r.headers.emplace_back("Allow", "GET, HEAD");
    return r;
  }
  HttpResponse r;
  r.body = SecretValue(openapi_document());
  return r;
}

}  // namespace lockbox::api
