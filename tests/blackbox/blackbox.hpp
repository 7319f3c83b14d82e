#pragma once
// Helpers for the black-box tests: each test gets its own Lockbox (a fresh TempDir used as the
// data dir), runs the real binary with --data-dir and without any inherited LOCKBOX_* variable,
// and checks outputs as a script would.

#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lockbox::testing {

// A value that must never show up in any output, message or file.
inline constexpr const char* kCanary = "canary-Zq8vXk3RwT9p-DO-NOT-LEAK";

// Two valid master keys (64 hex chars).
inline constexpr const char* kKeyA =
    "1f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a79881f2e3d4c5b6a7988";
inline constexpr const char* kKeyB =
    "a1b2c3d4e5f60718a1b2c3d4e5f60718a1b2c3d4e5f60718a1b2c3d4e5f60719";

// Every LOCKBOX_* variable of this test process's environment.
std::vector<std::string> inherited_lockbox_vars();

class Lockbox {
 public:
  Lockbox();

  [[nodiscard]] const std::filesystem::path& root() const { return dir_.path(); }
  [[nodiscard]] std::filesystem::path data_dir() const { return dir_ / "data"; }
  [[nodiscard]] std::filesystem::path db_path() const { return data_dir() / "lockbox.db"; }

  // Runs lockbox with `args` followed by --data-dir; LOCKBOX_* are unset, `env` added.
  ProcessResult run(const std::vector<std::string>& args, ProcessOptions options = {}) const;
  // The same with `stdin_data` on stdin.
  ProcessResult run_stdin(const std::vector<std::string>& args, const std::string& stdin_data,
                          ProcessOptions options = {}) const;

  // `init` (which writes <data>/master.key); REQUIREs success.
  void init() const;
  // `secrets set NAME` with the value on stdin plus extra args; REQUIREs success.
  void set(const std::string& name, const std::string& value,
           const std::vector<std::string>& extra = {}) const;
  // `get NAME --reveal` output; REQUIREs success.
  std::string reveal(const std::string& name, const std::vector<std::string>& extra = {}) const;
  // `secrets list --json --include-deleted` stdout: a snapshot to compare before/after.
  std::string snapshot() const;

 private:
  TempDir dir_;
};

inline constexpr std::int64_t kHour = 3'600'000;
inline constexpr std::int64_t kDay = 24 * kHour;

// Options that run lockbox as if it were `offset_ms` (plus half an hour) from now, through the
// LOCKBOX_TEST_NOW seam of test builds. The half hour keeps the duration labels, which round down,
// away from unit boundaries: the seam has second precision and secrets were written just before.
ProcessOptions at(std::int64_t offset_ms);

// Flips one byte in the middle of the envelope of NAME's newest version (sqlite3 C API).
void tamper_envelope(const std::filesystem::path& db_path, const std::string& name);

// Number of lines in `text` (a final line without '\n' counts).
int line_count(const std::string& text);

// Parses JSON or fails the test.
boost::json::value parse_json(const std::string& text);

// The keys of a JSON object, sorted.
std::vector<std::string> keys_of(const boost::json::object& object);

// Every regular file under `dir` (recursively) with its bytes.
std::map<std::string, std::string> read_all_files(const std::filesystem::path& dir);

}  // namespace lockbox::testing
