#include "api/ui_routes.hpp"

#include <algorithm>
#include <array>
#include <utility>

#include "api/ui_assets.hpp"

namespace lockbox::api {
namespace {

constexpr std::array<std::pair<std::string_view, std::string_view>, 7> kTypes{{
    {".html", "text/html; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".mjs", "text/javascript; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".json", "application/json"},
}};

std::string_view path_of(std::string_view target) { return target.substr(0, target.find_first_of("?#")); }

const UiAsset* find_asset(std::string_view relative) {
  const auto& assets = ui_assets();
  const auto it = std::find_if(assets.begin(), assets.end(),
                               [&](const UiAsset& a) { return a.path == relative; });
  return it == assets.end() ? nullptr : &*it;
}

}  // namespace

void add_ui_security_headers(HttpResponse& response) {
  response.headers.emplace_back("Content-Security-Policy", std::string(kUiContentSecurityPolicy));
  response.headers.emplace_back("X-Content-Type-Options", "nosniff");
  response.headers.emplace_back("Referrer-Policy", "no-referrer");
  response.headers.emplace_back("X-Frame-Options", "DENY");
  response.headers.emplace_back("Cache-Control", "no-store");
}

bool is_ui_path(std::string_view target) {
  const std::string_view path = path_of(target);
  return path == "/ui" || path.substr(0, 4) == "/ui/";
}

std::string_view ui_content_type(std::string_view path) {
  for (const auto& [ext, type] : kTypes) {
    if (path.size() >= ext.size() && path.substr(path.size() - ext.size()) == ext) return type;
  }
  return "application/octet-stream";
}

HttpResponse serve_ui(const HttpRequest& request) {
  const std::string_view path = path_of(request.target);
  HttpResponse response;
  if (request.method != "GET") {
    response = error_response(405, "bad_request", "method not allowed");
    response.headers.emplace_back("Allow", "GET, HEAD");
  } else if (path == "/ui") {
    response.status = 308;
    response.content_type = "";
    response.headers.emplace_back("Location", "/ui/");
  } else {
    std::string_view relative = path.substr(4);
    if (relative.empty()) relative = "index.html";
    // Only the embedded names match: "..", "%2e" and the like are simply unknown files.
    if (const UiAsset* asset = find_asset(relative)) {
      response.content_type = std::string(ui_content_type(asset->path));
      response.body = SecretValue(std::string_view(reinterpret_cast<const char*>(asset->data), asset->size));
    } else {
      response = error_response(404, "not_found", "no such file in the console");
    }
  }
  response.route = "/ui/";
  add_ui_security_headers(response);
  return response;
}

}  // namespace lockbox::api
