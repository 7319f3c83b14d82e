// `lockbox doctor`: the checks of files on disk (data dir, database, key file) and of where the
// master key comes from. Findings name paths and modes, never key material.
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "cli/doctor.hpp"

namespace lockbox::cli::doctor {
namespace {

namespace fs = std::filesystem;

std::string mode_text(mode_t mode) {
  return fmt::format("{:04o}", mode & 07777);
}

// ---- files ----

// Owner and group/other bits of a file lockbox keeps private. `chmod_mode` is the fix's mode.
void check_private(const fs::path& path, const struct stat& st, std::string_view what,
                   std::string_view chmod_mode, const std::string& check, Report& report) {
  if (st.st_uid != ::geteuid()) {
    report.action(check,
                  fmt::format("{} {} is owned by uid {}, not by uid {}", what, path.string(),
                              st.st_uid, ::geteuid()),
                  fmt::format("chown {} {}", current_actor(), path.string()));
  }
  if ((st.st_mode & 077) != 0) {
    report.action(check,
                  fmt::format("{} {} is accessible by group or others (mode {})", what,
                              path.string(), mode_text(st.st_mode)),
                  fmt::format("chmod {} {}", chmod_mode, path.string()));
  }
}

}  // namespace

void check_data_dir(const Context& ctx, Report& report) {
  const fs::path& dir = ctx.data_dir();
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    // With --store sqlite:PATH elsewhere, the data dir may legitimately not exist.
    if (err == ENOENT && !ctx.store_options().url.empty()) return;
    report.action("data_dir",
                  fmt::format("cannot inspect data dir {}: {}", dir.string(), std::strerror(err)),
                  "run lockbox init, or pass the right --data-dir");
    return;
  }
  if (!S_ISDIR(st.st_mode)) {
    report.action("data_dir", fmt::format("data dir {} is not a directory", dir.string()),
                  "pass the right --data-dir, or move the file aside and run lockbox init");
    return;
  }
  check_private(dir, st, "data dir", "700", "data_dir", report);
  std::error_code ec;
  if (!fs::exists(dir / ".gitignore", ec)) {
    report.warning("data_dir", fmt::format("data dir {} has no .gitignore", dir.string()),
                   fmt::format("create one holding '*' ({}), so the store and key are never "
                               "committed by accident",
                               (dir / ".gitignore").string()));
  }
}

// The database and its WAL companions. Missing files are not findings here: the -wal and -shm
// files come and go, and a missing database is reported by the store check with its reason.
void check_database_files(const Context& ctx, Report& report) {
  const fs::path db = store::Store::database_path(ctx.store_options());
  if (db.empty()) return;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    const fs::path path = db.string() + suffix;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) continue;
    check_private(path, st, "database file", "600", "database", report);
  }
}

namespace {

// ---- master key ----

// Findings for a key file the loader would refuse; true when there is one. lstat: the loader
// opens with O_NOFOLLOW, so a link is refused whatever it points at.
bool check_key_file(const fs::path& path, Report& report) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return false;  // the loader names a missing file
  if (S_ISLNK(st.st_mode) || !S_ISREG(st.st_mode)) {
    report.action("master_key",
                  fmt::format("master key file {} is {}; lockbox refuses it", path.string(),
                              S_ISLNK(st.st_mode) ? "a symbolic link" : "not a regular file"),
                  "name the regular file itself (--master-key-file or LOCKBOX_MASTER_KEY_FILE)");
    return true;
  }
  bool refused = false;
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    report.action("master_key",
                  fmt::format("master key file {} is owned by uid {}, neither yours ({}) nor "
                              "root's; lockbox refuses it",
                              path.string(), st.st_uid, ::geteuid()),
                  fmt::format("chown {} {}", current_actor(), path.string()));
    refused = true;
  }
  if ((st.st_mode & 077) != 0) {
    report.action("master_key",
                  fmt::format("master key file {} is accessible by group or others (mode {}); "
                              "lockbox refuses it",
                              path.string(), mode_text(st.st_mode)),
                  fmt::format("chmod 600 {}", path.string()));
    refused = true;
  }
  return refused;
}

bool same_dir(const fs::path& a, const fs::path& b) {
  std::error_code ec1, ec2;
  const fs::path ca = fs::weakly_canonical(a, ec1);
  const fs::path cb = fs::weakly_canonical(b, ec2);
  return !ec1 && !ec2 && ca == cb;
}

// A key beside the database travels with every copy of it (backups, disk images, rsync).
void check_key_placement(const fs::path& key_file, const Context& ctx, Report& report) {
  const fs::path db = store::Store::database_path(ctx.store_options());
  const auto dir_of = [](const fs::path& p) {
    return p.parent_path().empty() ? fs::path(".") : p.parent_path();
  };
  if (db.empty() || !same_dir(dir_of(key_file), dir_of(db))) return;
  report.warning(
      "master_key",
      fmt::format("master key file {} is stored next to the database", key_file.string()),
      std::string(kKeyPlacementFix));
}

}  // namespace

// Loads the master key once: main() scrubbed LOCKBOX_MASTER_* into a one-shot capture, so a
// second load (Context::open_store) would no longer see an environment key.
std::optional<store::MasterKey> check_master_key(const Context& ctx, const GlobalOptions& globals,
                                                 Report& report) {
  if (!globals.master_key_file.empty() && check_key_file(globals.master_key_file, report)) {
    return std::nullopt;
  }
  auto loaded = ctx.load_master_key();
  if (!loaded.is_ok()) {
    report.action("master_key", loaded.status().message(),
                  "correct the key source named here, or point lockbox at the right key "
                  "(--master-key-file F, LOCKBOX_MASTER_KEY, LOCKBOX_MASTER_KEY_FILE)");
    return std::nullopt;
  }
  if (!loaded.value()) {
    report.action("master_key", "no master key is configured, so the store cannot be checked",
                  "set LOCKBOX_MASTER_KEY or LOCKBOX_MASTER_KEY_FILE, pass --master-key-file, or "
                  "run lockbox init to create a store");
    return std::nullopt;
  }
  store::MasterKey key = std::move(*loaded.value());
  if (key.file) {
    if (globals.master_key_file.empty()) (void)check_key_file(*key.file, report);
    check_key_placement(*key.file, ctx, report);
  }
  return key;
}

}  // namespace lockbox::cli::doctor
