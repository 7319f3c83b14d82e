#pragma once
// `--deliver file` (SPEC §3): each secret is written to its own file in a fresh private directory
// on tmpfs or ramfs, never on a disk, removed when the child ends, and swept at the next lockbox
// start when lockbox itself was killed.
//
// Layout:
//   <base>/                 $XDG_RUNTIME_DIR/lockbox (when XDG_RUNTIME_DIR is set and on tmpfs or
//                           ramfs), else /dev/shm/lockbox-<euid>; created 0700 if missing; refused
//                           if it is a symlink, not a directory, not owned by the euid, or has any
//                           group/other permission bit.
//   <base>/run-XXXXXX/      mkdtemp, mode 0700: the delivery directory (FLUXBASE_SECRETS_DIR).
//     .lock                 flock(LOCK_EX) by the owning lockbox for the directory's lifetime;
//                           O_CLOEXEC, so the child does not inherit it. It is created under a
//                           temporary name and renamed once locked, so a sweeper never sees an
//                           unlocked .lock of a live directory.
//     <NAME>                one file per secret: raw bytes, no newline added, mode 0400, created
//                           O_CREAT|O_EXCL|O_NOFOLLOW.
//
// The child runs as the same user here; with `run --user` the caller must hand the directory to
// that user (this module does not chown).

#include <cstddef>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/fd.hpp"
#include "core/secret_value.hpp"
#include "core/status.hpp"

namespace lockbox::launcher {

struct DeliveryOptions {
  // Tests only: use this directory as <base> instead of the default ones (same checks apply).
  std::optional<std::filesystem::path> base_override;
  // Tests only: accept a base that is not on tmpfs/ramfs.
  bool skip_fs_check = false;
};

// An owned delivery directory. Not copyable or movable (hold it by unique_ptr).
// Thread-safety: none needed; one owner.
class DeliveryDir {
 public:
  // Creates the directory and writes `files` (name, bytes) into it.
  // Names must match [A-Za-z0-9_-]{1,256} (the final variable name without the prefix); anything
  // else (".", "..", "/", ".lock", empty) is refused.
  // Errors: kBadInput "no tmpfs for --deliver file: ..." when the base is not on tmpfs/ramfs;
  // kBadInput for a refused name, a duplicate name, or an unsafe base directory; kRuntime for an
  // I/O failure. Nothing is left behind on error. Messages name paths and files, never values.
  static Result<std::unique_ptr<DeliveryDir>> create(
      std::vector<std::pair<std::string, SecretValue>> files, const DeliveryOptions& options = {});

  // Deletes the files (and anything else found inside, never following a symlink), the
  // directory, then releases the lock. Idempotent. Errors: kRuntime naming the path.
  Status remove();
  // Calls remove(); a failure is logged as a warning.
  ~DeliveryDir();

  DeliveryDir(const DeliveryDir&) = delete;
  DeliveryDir& operator=(const DeliveryDir&) = delete;

  // The directory (absolute), for FLUXBASE_SECRETS_DIR.
  [[nodiscard]] const std::filesystem::path& path() const { return path_; }

 private:
  DeliveryDir() = default;
  // Creates .lock under a temporary name, locks it, then renames it into place.
  Status lock();
  Status write_file(const std::string& name, const SecretValue& value);

  std::filesystem::path path_;
  std::string leaf_;  // "run-XXXXXX"
  Fd base_fd_;        // <base>, for unlinkat of the directory itself
  Fd dir_fd_;         // the delivery directory
  Fd lock_fd_;        // .lock, flock(LOCK_EX) held
};

// Removes this euid's delivery directories under the base directories (options.base_override, or
// every default base that exists) whose .lock is not held: their lockbox was killed. Never
// follows a symlink (openat with O_NOFOLLOW, unlinkat; a symlink is unlinked, not followed).
// A directory with no .lock at all is removed only once it is older than a minute (its lockbox
// died between mkdtemp and locking). Bases that fail the ownership/mode checks are left alone.
// Cheap when there is nothing to sweep: one failed open or one readdir per base.
// Returns how many delivery directories it removed. Errors are not reported (best effort).
std::size_t sweep_stale_delivery_dirs(const DeliveryOptions& options = {});

}  // namespace lockbox::launcher
