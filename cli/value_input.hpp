#pragma once
// Reading secret values into SecretValue (SPEC §5 `secrets set`, `secrets import`):
//   - VALUE on the command line: copied, then the argument string is wiped;
//   - --from-file F: every byte of F, verbatim;
//   - stdin at a terminal: a prompt on stderr, one line read with echo off (the newline is not
//     part of the value);
//   - stdin otherwise: every byte to EOF, verbatim (a trailing newline is kept).
// Reads are bounded: at most max_bytes + 1 bytes are read before "too large" (kBadInput).
// Errors never contain the value. Thread-safety: not thread-safe (the terminal is shared).

#include <cstddef>
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

#include "core/secret_value.hpp"
#include "core/status.hpp"

namespace lockbox::cli {

// kBadInput when `value` is longer than max_bytes, contains a NUL byte or is not UTF-8 (SPEC §1,
// §10). `what` names the value in the message ("value", "value of API_KEY at line 3").
Status check_value(const SecretValue& value, std::size_t max_bytes, std::string_view what);

// Every byte of `fd` to EOF. kBadInput "<what> is larger than N bytes" past max_bytes, kRuntime on
// a read error.
Result<SecretValue> read_all(int fd, std::size_t max_bytes, std::string_view what);

// Every byte of the file at `path` (not following a symlink is not required: it is the user's own
// input). kBadInput when it cannot be opened or is too large.
Result<SecretValue> read_file_bytes(const std::filesystem::path& path, std::size_t max_bytes,
                                    std::string_view what);

// Writes `prompt` to stderr and reads one line from the terminal on stdin with echo turned off.
// The terminal settings are restored afterwards, also on SIGINT/SIGTERM/SIGHUP.
// REQUIRES: stdin is a terminal.
Result<SecretValue> read_terminal_line(std::string_view prompt, std::size_t max_bytes);

// The value of `secrets set`: VALUE (then wiped in place and reset), --from-file, or stdin as
// described above. kBadInput when VALUE and --from-file are both given.
Result<SecretValue> read_secret_value(std::optional<std::string>& argv_value,
                                      const std::optional<std::string>& from_file,
                                      std::string_view prompt, std::size_t max_bytes);

// Wipes the bytes of `text` and clears it.
void wipe_string(std::string& text);

// Wipes an optional argument string (e.g. VALUE from argv) when it goes out of scope, whatever
// path the command takes.
class ScopedWipe {
 public:
  explicit ScopedWipe(std::optional<std::string>& text) : text_(text) {}
  ~ScopedWipe() {
    if (text_) wipe_string(*text_);
  }
  ScopedWipe(const ScopedWipe&) = delete;
  ScopedWipe& operator=(const ScopedWipe&) = delete;

 private:
  std::optional<std::string>& text_;
};

}  // namespace lockbox::cli
