#include "api/ui_console.hpp"

#include <fmt/format.h>

#include "api/request.hpp"
#include "api/ui_routes.hpp"
#include "core/json_writer.hpp"

namespace lockbox::api {
namespace {

constexpr std::string_view kSessionRoute = "/api/v1/session";

std::string_view path_of(std::string_view target) {
  return target.substr(0, target.find_first_of("?#"));
}

HttpResponse no_store(HttpResponse response) {
  bool has = false;
  for (const auto& [name, value] : response.headers) has = has || name == "Cache-Control";
  if (!has) response.headers.emplace_back("Cache-Control", "no-store");
  return response;
}

HttpResponse session_error(int status, std::string_view message) {
  HttpResponse r = error_response(status, error_code_for(status), message);
  r.route = std::string(kSessionRoute);
  return no_store(std::move(r));
}

bool is_json(std::string_view type) {
  type = type.substr(0, type.find(';'));
  while (!type.empty() && type.back() == ' ') type.remove_suffix(1);
  return type.size() == 16 &&
         std::equal(type.begin(), type.end(), "application/json", [](char a, char b) {
           return std::tolower(static_cast<unsigned char>(a)) == b;
         });
}

}  // namespace

std::string cookie_value(std::string_view header, std::string_view name) {
  while (!header.empty()) {
    const std::size_t semi = header.find(';');
    std::string_view pair = header.substr(0, semi);
    header = semi == std::string_view::npos ? std::string_view() : header.substr(semi + 1);
    while (!pair.empty() && pair.front() == ' ') pair.remove_prefix(1);
    const std::size_t eq = pair.find('=');
    if (eq != std::string_view::npos && pair.substr(0, eq) == name)
      return std::string(pair.substr(eq + 1));
  }
  return {};
}

ConsoleFront::ConsoleFront(ConsoleOptions options, Handler api)
    : options_(options),
      api_(std::move(api)),
      sessions_(options.clock != nullptr ? *options.clock : process_clock(),
                options.session_idle_ms, options.max_sessions) {}

std::string ConsoleFront::cookie(std::string_view value, bool expire) const {
  return fmt::format("{}={}; HttpOnly; SameSite=Strict; Path=/{}{}", cookie_name(), value,
                     options_.tls ? "; Secure" : "", expire ? "; Max-Age=0" : "");
}

HttpResponse ConsoleFront::handle(HttpRequest& request) {
  if (is_ui_path(request.target)) return serve_ui(request);
  const std::string id = cookie_value(request.cookie, cookie_name());
  if (path_of(request.target) == kSessionRoute) {
    if (request.method == "POST") return sign_in(request, id);
    if (request.method == "DELETE") return sign_out(request, id);
    if (request.method != "GET") {
      HttpResponse r = session_error(405, "method not allowed");
      r.headers.emplace_back("Allow", "GET, HEAD, POST, DELETE");
      return r;
    }
    if (id.empty()) return session_error(401, "not signed in");
    request.target = "/api/v1/whoami";
    HttpResponse r = through_session(request, id);
    r.route = std::string(kSessionRoute);
    return r;
  }
  if (request.authorization.empty() && !id.empty()) return through_session(request, id);
  return api_(request);
}

HttpResponse ConsoleFront::sign_in(HttpRequest& request, const std::string& old_id) {
  if (!is_json(request.content_type))
    return session_error(415, "the body must be application/json");
  auto body = JsonBody::parse(request.body.reveal());
  if (!body.is_ok()) return session_error(400, body.status().message());
  if (Status st = (*body)->check_fields({"token"}); !st.is_ok())
    return session_error(400, st.message());
  auto token = (*body)->secret("token");
  if (!token.is_ok()) return session_error(400, token.status().message());
  if (!token->has_value() || (*token)->empty()) return session_error(400, "token is required");
  // The ordinary authentication path: auth.failure in the audit, the same rate limits.
  HttpRequest probe;
  probe.method = "GET";
  probe.target = "/api/v1/whoami";
  probe.authorization = fmt::format("Bearer {}", (*token)->reveal());
  probe.peer = request.peer;
  HttpResponse who = api_(probe);
  std::fill(probe.authorization.begin(), probe.authorization.end(), '\0');
  if (who.status != 200) {
    who.route = std::string(kSessionRoute);
    return no_store(std::move(who));
  }
  if (!old_id.empty()) sessions_.close(old_id);  // a reload lost its CSRF token: no orphan
  const SessionStore::Issued issued = sessions_.open(**token);
  JsonWriter json;
  json.begin_object();
  json.key("csrf_token");
  json.string(issued.csrf);
  json.key("csrf_header");
  json.string(kCsrfHeader);
  json.end_object();
  // {"csrf_token", "csrf_header", "identity": <whoami>}
  std::string text(json.view().substr(0, json.view().size() - 1));
  text += ",\"identity\":";
  text += who.body.reveal();
  text += "}";
  HttpResponse r;
  r.body = SecretValue(text);
  r.route = std::string(kSessionRoute);
  r.authenticated = true;
  r.headers.emplace_back("Set-Cookie", cookie(issued.id, false));
  return no_store(std::move(r));
}

HttpResponse ConsoleFront::sign_out(const HttpRequest& request, const std::string& id) {
  if (id.empty()) return session_error(401, "not signed in");
  SecretValue token;
  const auto check = sessions_.use(id, request.csrf, token);
  if (check == SessionStore::Check::kNoSession)
    return session_error(401, "the session has expired or was signed out");
  if (check == SessionStore::Check::kBadCsrf)
    return session_error(403, "missing or wrong CSRF token");
  sessions_.close(id);
  HttpResponse r;
  r.body = SecretValue(R"({"signed_out":true})");
  r.route = std::string(kSessionRoute);
  r.headers.emplace_back("Set-Cookie", cookie("", true));
  return no_store(std::move(r));
}

HttpResponse ConsoleFront::through_session(HttpRequest& request, const std::string& id) {
  // Every method, GET and HEAD too, needs the CSRF header (see the header comment).
  SecretValue token;
  const auto check = sessions_.use(id, request.csrf, token);
  if (check == SessionStore::Check::kNoSession) {
    HttpResponse r = session_error(401, "the session has expired or was signed out; sign in again");
    r.route.clear();
    r.headers.emplace_back("Set-Cookie", cookie("", true));
    return r;
  }
  if (check == SessionStore::Check::kBadCsrf) {
    HttpResponse r = session_error(403, "missing or wrong CSRF token");
    r.route.clear();
    return r;
  }
  request.authorization = fmt::format("Bearer {}", token.reveal());
  HttpResponse response = api_(request);
  std::fill(request.authorization.begin(), request.authorization.end(), '\0');
  if (response.status == 401) {  // the token was revoked or has expired: so has the session
    sessions_.close(id);
    response.headers.emplace_back("Set-Cookie", cookie("", true));
  }
  return no_store(std::move(response));
}

}  // namespace lockbox::api
