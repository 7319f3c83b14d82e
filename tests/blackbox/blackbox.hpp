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

// The backend this run tests (SPEC §11: both backends pass the same suite). ctest registers the
// suite twice; the [pg] pass sets LOCKBOX_TEST_BACKEND=postgresql, and every Lockbox then gets a
// fresh database on the cluster LOCKBOX_TEST_PG_URL names (scripts/pg-cluster.sh). Tests that look
// at SQLite files are tagged [sqlite] and left out of that pass. Without LOCKBOX_TEST_PG_URL the
// [pg] pass exits 77 at start-up, which ctest reports as skipped.
bool pg_backend();
// The cluster's base URL (postgresql://user:password@127.0.0.1:PORT), "" on SQLite.
std::string pg_base_url();
// Runs `sql` on database `db` of the test cluster (REQUIREs success); returns the first cell of
// the first row ("" when none).
std::string pg_sql(const std::string& db, const std::string& sql);

// Every LOCKBOX_* variable of this test process's environment.
std::vector<std::string> inherited_lockbox_vars();

class Lockbox {
 public:
  Lockbox();
  ~Lockbox();
  Lockbox(const Lockbox&) = delete;
  Lockbox& operator=(const Lockbox&) = delete;

  // The --store URL this box uses ("" on SQLite: the data dir's lockbox.db); passed to lockbox
  // as LOCKBOX_STORE unless the test sets one itself.
  [[nodiscard]] const std::string& store_url() const { return store_url_; }
  // PostgreSQL: the box's database name ("" on SQLite).
  [[nodiscard]] const std::string& pg_db() const { return pg_db_; }

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
  std::string pg_db_;
  std::string store_url_;
};

inline constexpr std::int64_t kHour = 3'600'000;
inline constexpr std::int64_t kDay = 24 * kHour;

// Options that run lockbox as if it were `offset_ms` (plus half an hour) from now, through the
// LOCKBOX_TEST_NOW seam of test builds. The half hour keeps the duration labels, which round down,
// away from unit boundaries: the seam has second precision and secrets were written just before.
ProcessOptions at(std::int64_t offset_ms);

// Flips one byte in the middle of the envelope of NAME's newest version (sqlite3 C API, or on
// PostgreSQL the database of the Lockbox whose db_path() this is).
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
