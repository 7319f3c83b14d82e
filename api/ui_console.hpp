#pragma once
// ConsoleFront: the web console of `lockbox serve` (SPEC §14) in front of the API handler.
// - /ui/...: the embedded files (api/ui_routes.hpp), with the console's security headers;
// - POST /api/v1/session {"token"}: checks the token through the API (GET /api/v1/whoami, so a
//   bad token is audited as auth.failure and counted by the same rate limits), then opens a
//   session (api/session.hpp): a cookie `lockbox_session` (`__Host-lockbox_session` under TLS, so
//   a sibling origin cannot plant one; HttpOnly; SameSite=Strict; Path=/; Secure under TLS) and a
//   CSRF token in the answer. A session cookie sent along with the sign-in is closed first;
// - GET /api/v1/session: who the session is; DELETE /api/v1/session: sign out;
// - any other request without Authorization but with the session cookie.
//   Every session request, GET and HEAD included, needs the header X-Lockbox-CSRF (403 otherwise):
//   browsers send cookies to every port of a host, so another service on the same host name must
//   not be able to read values with the cookie alone. The request then goes to the API with the
//   session's token, which is authenticated again each time: a 401 (token revoked or expired)
//   closes the session.
// Requests with an Authorization header go to the API untouched.
// Thread-safety: handle() may be called from any number of threads at once.

#include <cstdint>

#include "api/http.hpp"
#include "api/session.hpp"
#include "core/clock.hpp"

namespace lockbox::api {

inline constexpr std::string_view kSessionCookie = "lockbox_session";
inline constexpr std::string_view kTlsSessionCookie = "__Host-lockbox_session";
inline constexpr std::string_view kCsrfHeader = "X-Lockbox-CSRF";

struct ConsoleOptions {
  bool tls = false;  // the cookie gets Secure
  std::int64_t session_idle_ms = kDefaultSessionIdleMs;
  std::size_t max_sessions = kDefaultMaxSessions;
  const Clock* clock = nullptr;  // defaults to the process clock
};

class ConsoleFront {
 public:
  ConsoleFront(ConsoleOptions options, Handler api);
  HttpResponse handle(HttpRequest& request);
  [[nodiscard]] const SessionStore& sessions() const { return sessions_; }

 private:
  HttpResponse sign_in(HttpRequest& request, const std::string& old_id);
  HttpResponse sign_out(const HttpRequest& request, const std::string& id);
  HttpResponse through_session(HttpRequest& request, const std::string& id);
  [[nodiscard]] std::string cookie(std::string_view value, bool expire) const;
  [[nodiscard]] std::string_view cookie_name() const {
    return options_.tls ? kTlsSessionCookie : kSessionCookie;
  }

  ConsoleOptions options_;
  Handler api_;
  SessionStore sessions_;
};

// The value of cookie `name` in a Cookie header ("a=1; lockbox_session=…"), "" when absent.
std::string cookie_value(std::string_view header, std::string_view name);

}  // namespace lockbox::api
