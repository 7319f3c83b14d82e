#pragma once
// Terminal checks and unbuffered output for the CLI.
// Everything the CLI prints goes through write(2) here, never through stdio or iostream buffers:
// revealed values (get --reveal, export) must not linger in a libc buffer, and one path for all
// output keeps stdout and stderr ordered. write_stdout() is the one place a value is printed.
// Thread-safety: each call is one or more write(2) calls; not meant for concurrent use.

#include <string>
#include <string_view>

namespace lockbox::cli {

[[nodiscard]] bool stdin_is_terminal();
[[nodiscard]] bool stdout_is_terminal();
[[nodiscard]] bool stderr_is_terminal();

// Writes every byte to stdout (retrying on EINTR and short writes). Errors are ignored: a closed
// pipe ends the process by SIGPIPE as for any Unix filter.
void write_stdout(std::string_view bytes);
// Writes every byte to stderr.
void write_stderr(std::string_view bytes);
// Writes `line` and a newline to stderr (confirmations and notes for people).
void print_note(std::string_view line);

// `text` with every control character replaced by a space, so that it prints as one line.
[[nodiscard]] std::string single_line(std::string_view text);

}  // namespace lockbox::cli
