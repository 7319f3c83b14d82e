#pragma once
// Support for the black-box tests of `lockbox run` and `lockbox job run`: the real lockbox binary
// launches the test child (tests/launcher/helper_child.cpp). Every RunBox is a private world: its
// own data dir, policy file, scratch dir and XDG_RUNTIME_DIR on tmpfs (so --deliver file and the
// stale-directory sweep never touch another test's directories). Inherited LOCKBOX_* and
// FLUXBASE_* variables never reach lockbox.
//
// Spawned covers what run_process cannot: signalling lockbox while it runs, a pseudo-terminal as
// its controlling terminal, and a process state (mask, dispositions, umask, limits) set up before
// exec.

#include <sys/types.h>

#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tests/support/process.hpp"
#include "tests/support/temp_dir.hpp"

namespace lockbox::testing {

// The test child built by CMake.
inline constexpr const char* kChild = LOCKBOX_TEST_CHILD;

// Values that must never show up in lockbox's own output, one per origin.
inline constexpr const char* kStoreCanary = "canary-store-Zq8vXk3RwT9p";
inline constexpr const char* kFileCanary = "canary-envfile-Hc4nLp7WqY2m";
inline constexpr const char* kHostCanary = "canary-host-Rt6bNs1VxE5k";
// A master key (64 hex chars) given as LOCKBOX_MASTER_KEY, and another one.
inline constexpr const char* kMasterKey =
    "5eed5eed0c0ffee05eed5eed0c0ffee05eed5eed0c0ffee05eed5eed0c0ffee0";
inline constexpr const char* kOtherKey =
    "a1b2c3d4e5f60718a1b2c3d4e5f60718a1b2c3d4e5f60718a1b2c3d4e5f60719";

// A directory on tmpfs (/dev/shm), removed recursively on destruction.
class ShmDir {
 public:
  ShmDir();
  ~ShmDir();
  ShmDir(const ShmDir&) = delete;
  ShmDir& operator=(const ShmDir&) = delete;
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

struct SpawnOptions {
  std::map<std::string, std::string> env;  // added to (or replacing) the inherited environment
  std::vector<std::string> raw_env;        // "NAME=VALUE" entries appended as given (duplicates)
  // Runs in the forked process just before exec: async-signal-safe calls only. Dispositions and
  // the signal mask are reset to the defaults before it runs.
  std::function<void()> pre_exec;
  std::string stdin_file;  // empty: /dev/null
  std::string cwd;         // empty: inherit
};

// A process started in the background; stdout and stderr go to files. Killed (SIGKILL) and reaped
// on destruction if still running.
class Spawned {
 public:
  Spawned(const std::vector<std::string>& argv, const std::vector<std::string>& env,
          const SpawnOptions& options, const std::filesystem::path& out_file,
          const std::filesystem::path& err_file);
  ~Spawned();
  Spawned(const Spawned&) = delete;
  Spawned& operator=(const Spawned&) = delete;

  [[nodiscard]] pid_t pid() const { return pid_; }
  // Waits up to `timeout_ms` for the exit: its code (128+N for signal N), or nullopt.
  std::optional<int> wait(int timeout_ms = 60000);
  [[nodiscard]] std::string out() const;
  [[nodiscard]] std::string err() const;

 private:
  pid_t pid_ = -1;
  std::optional<int> code_;
  std::filesystem::path out_file_, err_file_;
};

class RunBox {
 public:
  // Creates the scratch dirs and, with `init`, runs `lockbox init` (master.key in the data dir).
  explicit RunBox(bool init = true);

  [[nodiscard]] const std::filesystem::path& root() const { return dir_.path(); }
  [[nodiscard]] std::filesystem::path path(const std::string& name) const { return dir_ / name; }
  [[nodiscard]] std::filesystem::path data_dir() const { return dir_ / "data"; }
  [[nodiscard]] std::filesystem::path db_path() const { return data_dir() / "lockbox.db"; }
  // XDG_RUNTIME_DIR of every lockbox this box runs; deliveries go to <it>/lockbox/run-*.
  [[nodiscard]] const std::filesystem::path& runtime_dir() const { return shm_.path(); }
  [[nodiscard]] std::filesystem::path delivery_base() const { return runtime_dir() / "lockbox"; }

  // Writes the policy file; every later command passes `--policy` with it.
  void write_policy(const std::string& yaml);
  [[nodiscard]] const std::optional<std::filesystem::path>& policy() const { return policy_; }

  // `lockbox --data-dir D [--policy P] ARGS...`; LOCKBOX_*/FLUXBASE_* unset, XDG_RUNTIME_DIR set.
  ProcessResult run(const std::vector<std::string>& args, ProcessOptions options = {}) const;
  // `secrets set NAME` with the value on stdin; REQUIREs success.
  void set(const std::string& name, const std::string& value,
           const std::vector<std::string>& extra = {}, ProcessOptions options = {}) const;
  // `lockbox run RUN_ARGS... -- CHILD STEPS...`.
  ProcessResult launch(const std::vector<std::string>& run_args,
                       const std::vector<std::string>& steps, ProcessOptions options = {}) const;
  // The same in the background.
  std::unique_ptr<Spawned> spawn(const std::vector<std::string>& args,
                                 SpawnOptions options = {}) const;
  std::unique_ptr<Spawned> spawn_launch(const std::vector<std::string>& run_args,
                                        const std::vector<std::string>& steps,
                                        SpawnOptions options = {}) const;
  // The full lockbox argv for `args`.
  [[nodiscard]] std::vector<std::string> argv(const std::vector<std::string>& args) const;

 private:
  TempDir dir_;
  ShmDir shm_;
  std::optional<std::filesystem::path> policy_;
  mutable int spawned_ = 0;
};

// `run RUN_ARGS... -- CHILD STEPS...` as arguments.
std::vector<std::string> run_args(const std::vector<std::string>& run_args,
                                  const std::vector<std::string>& steps);

// Polls `done` every few milliseconds for up to `timeout_ms`; true once it holds.
bool wait_until(const std::function<bool()>& done, int timeout_ms = 20000);
// The pid a child wrote with `write-pid FILE` (waits for the file); REQUIREs it.
pid_t wait_for_pid_file(const std::filesystem::path& file, int timeout_ms = 20000);
// True when `pid` no longer runs (no /proc entry, or a zombie).
bool process_gone(pid_t pid);
// Lines of `text` equal to `line`.
int count_lines(const std::string& text, const std::string& line);
// Lines of `text` that contain `part`.
int count_containing(const std::string& text, const std::string& part);
// The lines of `text`, without their '\n' (e.g. the names printed by `print-env-names`).
std::vector<std::string> lines_of(const std::string& text);
// Entries of a directory (names), sorted; empty when it does not exist.
std::vector<std::string> dir_entries(const std::filesystem::path& dir);
// The permission bits of a path (lstat).
unsigned mode_of(const std::filesystem::path& path);
// True when `path` is on tmpfs or ramfs.
bool on_memory_fs(const std::filesystem::path& path);

struct AuditRow {
  std::string action, target, outcome, detail;
};
// Every audit record of the store at `db`, in sequence order (read with sqlite3, read-only).
std::vector<AuditRow> audit_rows(const std::filesystem::path& db);

// SIGKILLs `pid` on destruction unless it is gone: for a grandchild a test may leave behind.
struct KillOnExit {
  pid_t pid = -1;
  ~KillOnExit();
};

// A pseudo-terminal: the master side stays with the test; slave_path names the other side.
struct Pty {
  int master = -1;
  std::string slave_path;
  Pty();
  ~Pty();
  Pty(const Pty&) = delete;
  Pty& operator=(const Pty&) = delete;
  // A pre_exec hook: new session, the slave as controlling terminal and stdin.
  [[nodiscard]] std::function<void()> controlling_terminal_hook() const;
};

}  // namespace lockbox::testing
