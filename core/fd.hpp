#pragma once
// Fd: owns one file descriptor and closes it when it goes out of scope, so every error path
// closes what it opened (modelled on ccache's util/Fd). Move-only; -1 means "none".
// release() hands the number to a new owner (an Asio descriptor, fdopendir) without closing it;
// close() closes now and reports whether close(2) succeeded (a written file's last error).
// Thread-safety: none; like an int, one owner at a time.

#include <unistd.h>

#include <utility>

namespace lockbox {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  ~Fd() { close(); }
  Fd(Fd&& other) noexcept : fd_(other.release()) {}
  Fd& operator=(Fd&& other) noexcept {
    if (this != &other) reset(other.release());
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;

  [[nodiscard]] int get() const { return fd_; }
  [[nodiscard]] bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }

  // Gives up ownership: the caller closes the returned descriptor.
  [[nodiscard]] int release() { return std::exchange(fd_, -1); }
  // Closes the current descriptor (if any) and owns `fd` instead.
  void reset(int fd = -1) {
    close();
    fd_ = fd;
  }
  // Closes now; true when there was nothing to close or close(2) succeeded.
  bool close() {
    if (fd_ < 0) return true;
    return ::close(std::exchange(fd_, -1)) == 0;
  }

 private:
  int fd_ = -1;
};

}  // namespace lockbox
