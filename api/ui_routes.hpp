#pragma once
// The console's static files under /ui/ (SPEC §14), served from the embedded copies
// (api/ui_assets.hpp). Every answer under /ui/ — files, 404s and 405s alike — carries the
// security headers of SPEC §14 (ui_security_headers).
// Thread-safety: pure.

#include <string_view>

#include "api/http.hpp"

namespace lockbox::api {

// The Content-Security-Policy of every /ui/ answer: same origin only, no inline script or style,
// no eval, never framed.
inline constexpr std::string_view kUiContentSecurityPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
    "frame-ancestors 'none'";

// Adds CSP, X-Content-Type-Options, Referrer-Policy, X-Frame-Options and Cache-Control: no-store.
void add_ui_security_headers(HttpResponse& response);

// True for "/ui" and everything under "/ui/" (the path part of a request target).
bool is_ui_path(std::string_view target);

// GET (and HEAD, which arrives as GET) of a /ui/ path: the file, "/ui/" → index.html, "/ui" → a
// redirect to "/ui/"; an unknown file is 404, another method 405.
HttpResponse serve_ui(const HttpRequest& request);

// The Content-Type of an embedded file, from its extension.
std::string_view ui_content_type(std::string_view path);

}  // namespace lockbox::api
