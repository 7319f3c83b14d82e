// libFuzzer harness for JSON request bodies (api/request.hpp; not part of the default build).
// Build:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -o json_body_fuzz
//     tests/api/fuzz/json_body_fuzz.cpp api/request.cpp api/http.cpp core/json_writer.cpp
//     core/secret_value.cpp core/status.cpp -lboost_json -lfmt -lcrypto
// (one command, from the repository root), then ./json_body_fuzz -max_len=4096.
// scripts/fuzz.sh runs exactly this command, then the fuzzer on the seed
// corpus in tests/api/fuzz/json_body_corpus.
// Every body is parsed the way a route parses it: the object check, the field check, and each
// typed accessor on the fields routes read. It checks: no crash, overread or leak; a body that
// parses is an object; an accessor either answers with the documented type or refuses with
// kBadInput naming the field (never echoing the body).

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "api/request.hpp"

namespace {

void require(bool ok) {
  if (!ok) std::abort();
}

template <typename R>
void check_accessor(const R& result, std::string_view field, std::string_view body) {
  if (result.is_ok()) return;
  require(result.status().code() == lockbox::StatusCode::kBadInput);
  const std::string& message = result.status().message();
  require(message.find(field) != std::string::npos);
  // A refusal names the field; it never copies the body (a body of 16+ bytes is never inside it).
  if (body.size() >= 16) require(message.find(body) == std::string::npos);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view body(reinterpret_cast<const char*>(data), size);
  auto parsed = lockbox::api::JsonBody::parse(body);
  if (!parsed.is_ok()) {
    require(parsed.status().code() == lockbox::StatusCode::kBadInput);
    return 0;
  }
  const auto& json = **parsed;
  (void)json.check_fields({"value", "scope", "description", "tags", "metadata", "expires_at"});
  for (std::string_view field : {"value", "scope", "description", "name", "expires_at"}) {
    check_accessor(json.string(field), field, body);
    check_accessor(json.secret(field), field, body);
    check_accessor(json.integer(field), field, body);
    (void)json.has(field);
    (void)json.is_null(field);
  }
  check_accessor(json.string_list("tags"), "tags", body);
  check_accessor(json.string_map("metadata"), "metadata", body);
  return 0;
}
