#pragma once
// TempDir: a fresh private directory under $TMPDIR (or /tmp), removed recursively on destruction.

#include <filesystem>
#include <string>

namespace lockbox::testing {

class TempDir {
 public:
  TempDir();
  ~TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }
  [[nodiscard]] std::filesystem::path operator/(const std::string& child) const { return path_ / child; }

 private:
  std::filesystem::path path_;
};

// Reads a whole file (binary); empty string when it cannot be read.
std::string read_file(const std::filesystem::path& path);
// Writes a whole file (binary) with the given mode.
void write_file(const std::filesystem::path& path, const std::string& content, unsigned mode = 0600);

}  // namespace lockbox::testing
