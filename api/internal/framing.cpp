#include "api/internal/framing.hpp"

#include <fmt/format.h>

#include <cctype>

namespace lockbox::api::internal {
namespace {

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i]))) {
      return false;
    }
  }
  return true;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<std::string> framing_problem(const HeaderFacts& facts) {
  if (facts.host > 1) return "more than one Host header";
  if (facts.host == 0 && facts.version >= 11) return "missing Host header";
  if (facts.authorization > 1) return "more than one Authorization header";
  // Beast frames only "chunked"; any other coding would leave the body to be read as the next
  // request (request smuggling), so it is refused, as is a list ("gzip, chunked").
  if (facts.transfer_encoding > 1 ||
      (facts.transfer_encoding == 1 && !iequals(trim(facts.transfer_encoding_value), "chunked"))) {
    return "unsupported Transfer-Encoding";
  }
  return std::nullopt;
}

std::string origin_form(std::string_view target) {
  std::size_t authority = 0;
  if (target.size() >= 7 && iequals(target.substr(0, 7), "http://")) authority = 7;
  if (target.size() >= 8 && iequals(target.substr(0, 8), "https://")) authority = 8;
  if (authority == 0) return std::string(target);
  const std::size_t path = target.find_first_of("/?", authority);
  if (path == std::string_view::npos) return "/";
  if (target[path] == '?') return "/" + std::string(target.substr(path));
  return std::string(target.substr(path));
}

std::string http_date(std::time_t when) {
  std::tm tm{};
  ::gmtime_r(&when, &tm);
  char text[64];
  const std::size_t n = std::strftime(text, sizeof text, "%a, %d %b %Y %H:%M:%S GMT", &tm);
  return std::string(text, n);
}

const std::string& http_date_now() {
  thread_local std::time_t cached_second = 0;
  thread_local std::string cached;
  const std::time_t now = std::time(nullptr);
  if (now != cached_second) {
    cached_second = now;
    cached = http_date(now);
  }
  return cached;
}

std::string describe_size(std::size_t bytes) {
  if (bytes > 0 && bytes % (1 << 20) == 0) return std::to_string(bytes >> 20) + " MiB";
  if (bytes > 0 && bytes % (1 << 10) == 0) return std::to_string(bytes >> 10) + " KiB";
  return std::to_string(bytes) + " bytes";
}

std::string endpoint_text(const std::string& address, std::uint16_t port) {
  return address.find(':') == std::string::npos ? fmt::format("{}:{}", address, port)
                                                : fmt::format("[{}]:{}", address, port);
}

}  // namespace lockbox::api::internal
