// libFuzzer harness for resolver/dotenv (not part of the default build). Build, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -o dotenv_fuzz
//     tests/resolver/fuzz/dotenv_fuzz.cpp resolver/dotenv.cpp core/secret_value.cpp
//     core/scope.cpp core/status.cpp core/utf8.cpp -lcrypto
// (one command, from the repository root), then ./dotenv_fuzz -max_len=4096.
// scripts/fuzz.sh runs exactly this command, then the fuzzer on the seed corpus in
// tests/resolver/fuzz/dotenv_corpus.
// It checks the parser's contract on arbitrary bytes: no crash, every entry has a valid name, a
// value that is UTF-8 text without NUL and a line inside the file, lines never go backwards, and an
// error is one of the two documented messages.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "core/scope.hpp"
#include "resolver/dotenv.hpp"

namespace {

int count_lines(std::string_view s) {
  int lines = 1;
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\n' || (s[i] == '\r' && (i + 1 == s.size() || s[i + 1] != '\n'))) ++lines;
  }
  return lines;
}

bool is_documented_error(const std::string& message) {
  const std::string_view m = message;
  if (m.substr(0, 4) != "fuz:") return false;
  return m.ends_with(": invalid secret name") || m.ends_with(": value is not valid UTF-8 text") ||
         m.ends_with(": value contains a NUL byte");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view content(reinterpret_cast<const char*>(data), size);
  auto result = lockbox::resolver::parse_dotenv(content, "fuz");
  if (!result.is_ok()) {
    if (!is_documented_error(result.status().message())) std::abort();
    return 0;
  }
  const int lines = count_lines(content);
  int last_line = 1;
  for (const auto& entry : result.value()) {
    if (!lockbox::is_valid_name(entry.key)) std::abort();
    if (!lockbox::resolver::is_valid_value_text(entry.value.reveal())) std::abort();
    if (entry.line < last_line || entry.line > lines) std::abort();
    last_line = entry.line;
  }
  return 0;
}
