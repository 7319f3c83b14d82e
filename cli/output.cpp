#include "cli/output.hpp"

#include <unistd.h>

#include <cerrno>

namespace lockbox::cli {
namespace {

void write_all(int fd, std::string_view bytes) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return;
    p += n;
    left -= static_cast<std::size_t>(n);
  }
}

}  // namespace

bool stdin_is_terminal() {
  return ::isatty(STDIN_FILENO) == 1;
}
bool stdout_is_terminal() {
  return ::isatty(STDOUT_FILENO) == 1;
}
bool stderr_is_terminal() {
  return ::isatty(STDERR_FILENO) == 1;
}

void write_stdout(std::string_view bytes) {
  write_all(STDOUT_FILENO, bytes);
}
void write_stderr(std::string_view bytes) {
  write_all(STDERR_FILENO, bytes);
}

void print_note(std::string_view line) {
  std::string text(line);
  text += '\n';
  write_stderr(text);
}

std::string single_line(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = ' ';
  }
  return out;
}

}  // namespace lockbox::cli
