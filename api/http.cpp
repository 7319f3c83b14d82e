#include "api/http.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>

#include "core/json_writer.hpp"

namespace lockbox::api {

std::string_view error_code_for(int status) {
  switch (status) {
    case 400: return "bad_request";
    case 401: return "unauthorized";
    case 403: return "forbidden";
    case 404: return "not_found";
    case 405: return "bad_request";
    case 409: return "conflict";
    case 413: return "payload_too_large";
    case 415: return "unsupported_media_type";
    case 429: return "too_many_requests";
    case 503: return "unavailable";
    default: return status >= 400 && status < 500 ? "bad_request" : "internal";
  }
}

std::string printable(std::string_view text, std::size_t max_bytes) {
  std::string out;
  for (const char c : text.substr(0, max_bytes)) {
    const auto u = static_cast<unsigned char>(c);
    out.push_back(u < 0x20 || u == 0x7f ? '?' : c);
  }
  return out;
}

HttpResponse error_response(int status, std::string_view code, std::string_view message) {
  JsonWriter json;
  json.begin_object();
  json.key("error");
  json.begin_object();
  json.key("code");
  json.string(code);
  json.key("message");
  json.string(message);
  json.end_object();
  json.end_object();
  HttpResponse response;
  response.status = status;
  response.body = SecretValue(json.view());
  return response;
}

HttpResponse finish_deferred(HttpResponse response) {
  if (!response.deferred) return response;
  struct Wait {
    std::mutex mu;
    std::condition_variable cv;
    std::optional<HttpResponse> final;
  };
  auto wait = std::make_shared<Wait>();
  auto deferred = std::move(response.deferred);
  response.deferred = nullptr;
  deferred([wait](HttpResponse final) {
    std::lock_guard lock(wait->mu);
    wait->final = std::move(final);
    wait->cv.notify_one();
  });
  std::unique_lock lock(wait->mu);
  wait->cv.wait(lock, [&] { return wait->final.has_value(); });
  HttpResponse out = std::move(*wait->final);
  out.route = response.route;
  out.authenticated = response.authenticated;
  return out;
}

}  // namespace lockbox::api
