#include "cli/value_input.hpp"

#include "core/utf8.hpp"

#include <fcntl.h>
#include <signal.h>
#include <termios.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "cli/output.hpp"
#include "resolver/dotenv.hpp"

namespace lockbox::cli {
namespace {

// The terminal state to restore when a signal arrives while echo is off.
struct termios g_saved_termios {};
volatile sig_atomic_t g_echo_off = 0;

void restore_and_reraise(int sig) {
  if (g_echo_off != 0) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
  (void)::signal(sig, SIG_DFL);
  (void)::raise(sig);
}

// Turns echo off for its lifetime; restores the terminal and the signal handlers afterwards.
class EchoOff {
 public:
  EchoOff() {
    if (::tcgetattr(STDIN_FILENO, &g_saved_termios) != 0) return;
    struct sigaction sa {};
    sa.sa_handler = restore_and_reraise;
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &sa, &old_[i]);
    struct termios quiet = g_saved_termios;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    quiet.c_lflag |= ECHONL;
    g_echo_off = ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet) == 0 ? 1 : 0;
    active_ = true;
  }
  ~EchoOff() {
    if (!active_) return;
    if (g_echo_off != 0) ::tcsetattr(STDIN_FILENO, TCSAFLUSH, &g_saved_termios);
    g_echo_off = 0;
    for (std::size_t i = 0; i < kSignals.size(); ++i) ::sigaction(kSignals[i], &old_[i], nullptr);
  }
  EchoOff(const EchoOff&) = delete;
  EchoOff& operator=(const EchoOff&) = delete;

 private:
  static constexpr std::array<int, 3> kSignals = {SIGINT, SIGTERM, SIGHUP};
  std::array<struct sigaction, 3> old_{};
  bool active_ = false;
};

Status too_large(std::string_view what, std::size_t max_bytes) {
  return bad_input(std::string(what) + " is larger than " + std::to_string(max_bytes) + " bytes");
}

}  // namespace

void wipe_string(std::string& text) {
  wipe(text.data(), text.size());
  text.clear();
}

Status check_value(const SecretValue& value, std::size_t max_bytes, std::string_view what) {
  if (value.size() > max_bytes) return too_large(what, max_bytes);
  const std::string_view bytes = value.reveal();
  if (bytes.find('\0') != std::string_view::npos) {
    return bad_input(std::string(what) + " contains a NUL byte");
  }
  if (!is_valid_utf8(bytes)) return bad_input(std::string(what) + " is not valid UTF-8");
  return Status::ok();
}

Result<SecretValue> read_all(int fd, std::size_t max_bytes, std::string_view what) {
  SecretValue out;
  out.append("");  // an empty read is an empty value, not "no value"
  std::array<char, 65536> chunk{};
  Status status;
  while (true) {
    const ssize_t n = ::read(fd, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      status = runtime_error(std::string("cannot read ") + std::string(what) + ": " +
                             std::strerror(errno));
      break;
    }
    if (n == 0) break;
    out.append(std::string_view(chunk.data(), static_cast<std::size_t>(n)));
    if (out.size() > max_bytes) {
      status = too_large(what, max_bytes);
      break;
    }
  }
  wipe(chunk.data(), chunk.size());
  if (!status.is_ok()) return status;
  return out;
}

Result<SecretValue> read_file_bytes(const std::filesystem::path& path, std::size_t max_bytes,
                                    std::string_view what) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    return bad_input("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  auto result = read_all(fd, max_bytes, what);
  ::close(fd);
  return result;
}

Result<SecretValue> read_terminal_line(std::string_view prompt, std::size_t max_bytes) {
  write_stderr(prompt);
  SecretValue out;
  out.append("");
  EchoOff echo_off;
  char c = 0;
  while (true) {
    const ssize_t n = ::read(STDIN_FILENO, &c, 1);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0 || c == '\n') break;
    out.append(std::string_view(&c, 1));
    if (out.size() > max_bytes) return too_large("value", max_bytes);
  }
  c = 0;
  // A terminal in CRLF mode may deliver "\r" before the newline; it is not part of the value.
  if (!out.empty() && out.reveal().back() == '\r') {
    SecretValue trimmed(out.reveal().substr(0, out.size() - 1));
    out = std::move(trimmed);
  }
  return out;
}

Result<SecretValue> read_secret_value(std::optional<std::string>& argv_value,
                                      const std::optional<std::string>& from_file,
                                      std::string_view prompt, std::size_t max_bytes) {
  if (argv_value && from_file) {
    wipe_string(*argv_value);
    return bad_input("give the value either as VALUE or with --from-file, not both");
  }
  if (argv_value) {
    SecretValue value(*argv_value);
    value.append("");
    wipe_string(*argv_value);
    argv_value.reset();
    return value;
  }
  if (from_file) return read_file_bytes(*from_file, max_bytes, "value");
  if (stdin_is_terminal()) return read_terminal_line(prompt, max_bytes);
  return read_all(STDIN_FILENO, max_bytes, "value");
}

}  // namespace lockbox::cli
