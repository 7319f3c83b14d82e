// libFuzzer harness for the server's request reading (not part of the default build). Build, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -o http_request_fuzz
//     tests/api/fuzz/http_request_fuzz.cpp api/internal/framing.cpp api/request.cpp api/http.cpp
//     core/json_writer.cpp core/secret_value.cpp core/status.cpp -lboost_json -lfmt -lcrypto
// (one command, from the repository root), then ./http_request_fuzz -max_len=4096.
// scripts/fuzz.sh runs exactly this command, then the fuzzer on the seed
// corpus in tests/api/fuzz/http_request_corpus.
// The input is a byte stream on one connection, read as api/http_server.cpp reads it: Beast's
// request parser with the server's body limit, one request after another (pipelining), each
// header checked by the framing rules, its target brought to origin form and split. It checks:
// no crash or overread; a target that parses starts with '/', has no empty and no NUL-bearing
// segment, and a query key given twice is always refused; framing refuses two Host fields.

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/internal/framing.hpp"
#include "api/request.hpp"

namespace {

namespace http = boost::beast::http;
namespace internal = lockbox::api::internal;

void require(bool ok) {
  if (!ok) std::abort();
}

void check_target(std::string_view raw) {
  const std::string target = internal::origin_form(raw);
  auto parsed = lockbox::api::parse_target(target);
  if (!parsed.is_ok()) return;
  require(!parsed->path.empty() && parsed->path.front() == '/');
  for (const auto& segment : parsed->segments) {
    require(!segment.empty());
    require(segment.find('\0') == std::string::npos);
  }
}

// One request from the front of `bytes`; how many bytes it used (0: stop reading).
std::size_t read_one(std::string_view bytes) {
  http::request_parser<http::string_body> parser;
  parser.body_limit(1024 * 1024);
  parser.eager(true);
  boost::beast::error_code ec;
  const std::size_t used = parser.put(boost::asio::buffer(bytes.data(), bytes.size()), ec);
  if (ec && ec != http::error::need_more) return 0;
  if (!parser.is_header_done()) return 0;
  const auto& message = parser.get();
  const internal::HeaderFacts facts{message.version(), message.count(http::field::host),
                                    message.count(http::field::authorization),
                                    message.count(http::field::transfer_encoding),
                                    std::string(message[http::field::transfer_encoding])};
  const auto problem = internal::framing_problem(facts);
  if (facts.host > 1) require(problem.has_value());
  if (problem) return 0;  // the server answers 400 and closes
  check_target(std::string_view(message.target().data(), message.target().size()));
  if (!parser.is_done()) return 0;
  if (parser.need_eof()) return 0;
  return used;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  check_target(bytes);  // the raw bytes as a target of their own
  for (int requests = 0; requests < 16 && !bytes.empty(); ++requests) {
    const std::size_t used = read_one(bytes);
    if (used == 0 || used > bytes.size()) break;
    bytes.remove_prefix(used);
  }
  // Duplicate query keys are refused, whatever else the target holds.
  require(!lockbox::api::parse_target("/a?k=1&k=2").is_ok());
  return 0;
}
