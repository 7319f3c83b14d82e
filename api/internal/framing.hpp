#pragma once
// Internal to the api module: the HTTP/1.1 framing rules of SPEC §8/§15 that do not need Beast,
// so they are unit-testable and http_server.cpp stays the transport only.
// Thread-safety: pure functions.

#include <cstddef>
#include <cstdint>
#include <ctime>
#include <optional>
#include <string>
#include <string_view>

namespace lockbox::api::internal {

// What the transport saw of a request's header, counted field by field.
struct HeaderFacts {
  unsigned version = 11;                // 10 or 11
  std::size_t host = 0;                 // Host fields
  std::size_t authorization = 0;        // Authorization fields
  std::size_t transfer_encoding = 0;    // Transfer-Encoding fields
  std::string transfer_encoding_value;  // the (first) Transfer-Encoding value
};

// Why the request must be refused with 400 (and the connection closed), or nullopt:
// an HTTP/1.1 request without Host, any request with two Host fields (RFC 9112 §3.2), two
// Authorization fields, or a Transfer-Encoding other than exactly "chunked" (any case).
std::optional<std::string> framing_problem(const HeaderFacts& facts);

// The origin form of a request target: an absolute-form target ("http://host:port/path?q",
// scheme in any case) loses its scheme and authority ("/path?q", "/" when it has no path);
// anything else is returned as it is.
std::string origin_form(std::string_view target);

// An IMF-fixdate for the Date header: "Sun, 06 Nov 1994 08:49:37 GMT".
std::string http_date(std::time_t when);
// The Date header for now, formatted once a second per thread.
const std::string& http_date_now();

// "1 MiB", "8 KiB" or "100 bytes", for limit messages.
std::string describe_size(std::size_t bytes);

// "address:port", IPv6 in brackets ("[::1]:8790"), for messages.
std::string endpoint_text(const std::string& address, std::uint16_t port);

}  // namespace lockbox::api::internal
