#pragma once
// Plain HTTP request and response types shared by the transport (http_server.cpp, the only TU
// that includes Beast on the server side), the handlers and the tests. Nothing here includes
// Boost, so handlers compile fast and are testable without a socket.
//
// Bodies that may carry values are SecretValue (wiped when dropped). Header and target strings
// never carry a value (names, scopes and tokens only; the token is compared, never logged).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/secret_value.hpp"

namespace lockbox::api {

struct HttpRequest {
  std::string method;         // "GET", "POST", ... (upper case, as received)
  std::string target;         // the raw request target: "/api/v1/admin/secrets?scope=global"
  std::string authorization;  // the Authorization header's value, "" when absent
  std::string content_type;   // the Content-Type header's value, "" when absent
  std::string cookie;         // the Cookie header's value (console sessions), "" when absent
  std::string csrf;           // the X-Lockbox-CSRF header's value (console sessions)
  SecretValue body;           // the request body (at most the body limit)
  std::string peer;           // the client's IP address ("127.0.0.1"), never its port
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  SecretValue body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers (Cache-Control ...)
  // The route template for metrics and the access log ("/api/v1/admin/secrets/{name}"); set by
  // the router, "" for requests no route matched.
  std::string route;
  // Set by the handler when the request carried a valid token: the transport then counts the
  // connection as authenticated (its share of slots, no shortened idle timeout).
  bool authenticated = false;
  // Set by a handler whose answer may leave only once work elsewhere has finished (a resolve's
  // audit record, group-committed: "no record, no value", SPEC §7). The response that carries it
  // is then a placeholder (a 500 without a value): the transport calls `deferred` once, off the
  // handler's thread's critical path, and sends what it is given through the callback instead,
  // with the placeholder's route and authenticated. finish_deferred() waits for it in place.
  std::function<void(std::function<void(HttpResponse)> send)> deferred;
};

// The final response of `response`: itself when nothing is deferred, else what its `deferred`
// gives (waited for on this thread). For callers without a transport (tests, in-process fronts).
HttpResponse finish_deferred(HttpResponse response);

// Handles one request; called on a server thread, concurrently from several threads.
using Handler = std::function<HttpResponse(HttpRequest&)>;

// The error body of SPEC §8: {"error": {"code": CODE, "message": MESSAGE}} with `status`.
// `code` is one of bad_request unauthorized forbidden not_found conflict payload_too_large
// unsupported_media_type too_many_requests internal unavailable. MESSAGE never carries a value.
HttpResponse error_response(int status, std::string_view code, std::string_view message);

// Text from the other side (a client's field name, a server's message) made safe for one line of
// a log or terminal: control characters become '?', at most `max_bytes` bytes.
std::string printable(std::string_view text, std::size_t max_bytes);

// The error code of SPEC §8 for an HTTP status (400 → "bad_request", ...; other 5xx → "internal").
std::string_view error_code_for(int status);

}  // namespace lockbox::api
