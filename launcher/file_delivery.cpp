#include "launcher/file_delivery.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <set>
#include <system_error>

#include "core/fd.hpp"
#include "core/log.hpp"

namespace lockbox::launcher {
namespace {

namespace fs = std::filesystem;

constexpr char kLeafPrefix[] = "run-";
constexpr char kLockName[] = ".lock";
constexpr char kLockTempName[] = ".lock.new";
constexpr std::size_t kMaxNameSize = 256;
constexpr int kMaxDepth = 8;  // we never create subdirectories; bound what we clean
constexpr std::time_t kOrphanAgeS =
    60;  // a lock-less directory younger than this may be mid-create

std::string errno_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

// REQUIRES: `err` was saved right after the failing call (building `what` may clobber errno).
Status os_error(int err, const std::string& what) {
  return runtime_error(what + ": " + errno_text(err));
}

bool valid_name(const std::string& name) {
  if (name.empty() || name.size() > kMaxNameSize) return false;
  for (const char c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

bool is_memory_fs(const struct statfs& s) {
  return static_cast<unsigned long>(s.f_type) == TMPFS_MAGIC ||
         static_cast<unsigned long>(s.f_type) == RAMFS_MAGIC;
}

fs::path absolute_path(const fs::path& p) {
  std::error_code ec;
  fs::path abs = fs::absolute(p, ec);
  return ec ? p : abs;
}

// $XDG_RUNTIME_DIR/lockbox when usable, then /dev/shm/lockbox-<euid>.
std::vector<fs::path> default_bases() {
  std::vector<fs::path> bases;
  const char* xdg = std::getenv("XDG_RUNTIME_DIR");
  struct statfs s {};
  if (xdg != nullptr && xdg[0] == '/' && ::statfs(xdg, &s) == 0 && is_memory_fs(s)) {
    bases.push_back(fs::path(xdg) / "lockbox");
  }
  bases.push_back(fs::path("/dev/shm") / ("lockbox-" + std::to_string(::geteuid())));
  return bases;
}

// Checks an open directory is ours and private. Returns an empty string when it is, else why not.
std::string private_dir_problem(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    const int err = errno;
    return errno_text(err);
  }
  if (!S_ISDIR(st.st_mode)) return "is not a directory";
  if (st.st_uid != ::geteuid()) return "is not owned by uid " + std::to_string(::geteuid());
  if ((st.st_mode & 077) != 0) return "is accessible to group or others";
  return {};
}

// Opens <base>, creating it 0700 when missing, and refuses it unless it is a private directory.
Result<Fd> open_base(const fs::path& base) {
  if (::mkdir(base.c_str(), 0700) == 0) {
    // mkdir's mode went through the umask; fix it before opening (a mode-0 directory cannot be
    // opened). Nobody else can replace the new entry: /dev/shm is sticky, XDG_RUNTIME_DIR ours.
    if (::chmod(base.c_str(), 0700) != 0) {
      const int err = errno;
      return os_error(err, "chmod delivery base " + base.string());
    }
  } else if (errno != EEXIST) {
    const int err = errno;
    if (err == ENOENT) {
      return bad_input("no tmpfs for --deliver file: cannot create " + base.string() + ": " +
                       errno_text(err));
    }
    return os_error(err, "create delivery base " + base.string());
  }
  Fd fd(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!fd.valid()) {
    const int err = errno;
    struct stat st {};
    if (::lstat(base.c_str(), &st) == 0 && S_ISLNK(st.st_mode)) {
      return bad_input("unsafe delivery base " + base.string() + ": is a symlink");
    }
    if (err == ENOTDIR) {
      return bad_input("unsafe delivery base " + base.string() + ": is not a directory");
    }
    return os_error(err, "open delivery base " + base.string());
  }
  const std::string problem = private_dir_problem(fd.get());
  if (!problem.empty()) return bad_input("unsafe delivery base " + base.string() + ": " + problem);
  return fd;
}

bool clear_dir(int dir_fd, int depth);

// Removes one entry of `dir_fd` without following it: a symlink is unlinked, a directory is
// emptied through O_NOFOLLOW opens and removed.
bool remove_entry_at(int dir_fd, const std::string& name, int depth) {
  if (::unlinkat(dir_fd, name.c_str(), 0) == 0 || errno == ENOENT) return true;
  if (errno != EISDIR && errno != EPERM) return false;
  if (depth >= kMaxDepth) return false;
  Fd sub(::openat(dir_fd, name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!sub.valid()) return errno == ENOENT;
  bool ok = clear_dir(sub.get(), depth + 1);
  if (::unlinkat(dir_fd, name.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) ok = false;
  return ok;
}

// Names in a directory (without "." and ".."); `prefix` filters.
std::vector<std::string> list_dir(int dir_fd, const std::string& prefix = {}) {
  std::vector<std::string> names;
  // fdopendir takes ownership of its descriptor: give it a duplicate.
  Fd dup_fd(::fcntl(dir_fd, F_DUPFD_CLOEXEC, 0));
  if (!dup_fd.valid()) return names;
  DIR* dir = ::fdopendir(dup_fd.get());
  if (dir == nullptr) return names;
  (void)dup_fd.release();  // the DIR owns it now; closedir closes it
  ::rewinddir(dir);        // the duplicate shares the offset of any earlier read
  while (const dirent* e = ::readdir(dir)) {
    const std::string name = e->d_name;
    if (name == "." || name == "..") continue;
    if (name.compare(0, prefix.size(), prefix) == 0) names.push_back(name);
  }
  ::closedir(dir);
  return names;
}

bool clear_dir(int dir_fd, int depth) {
  bool ok = true;
  for (const std::string& name : list_dir(dir_fd)) ok = remove_entry_at(dir_fd, name, depth) && ok;
  return ok;
}

// A delivery directory is stale when its .lock is not held, or, having no .lock, when it is old
// enough that its creator cannot still be between mkdtemp and locking. `lock` keeps the lock we
// took, so a concurrent sweeper skips the directory while we remove it.
bool is_stale(int dir_fd, const struct stat& dir_st, Fd& lock) {
  lock = Fd(::openat(dir_fd, kLockName, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
  if (lock.valid()) {
    // Our open file description is distinct from the owner's, so this fails while it lives.
    return ::flock(lock.get(), LOCK_EX | LOCK_NB) == 0;
  }
  if (errno != ENOENT && errno != ELOOP) return false;
  return std::time(nullptr) - dir_st.st_mtime > kOrphanAgeS;
}

std::size_t sweep_base(const fs::path& base) {
  Fd base_fd(::open(base.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (!base_fd.valid() || !private_dir_problem(base_fd.get()).empty()) return 0;
  std::size_t removed = 0;
  for (const std::string& name : list_dir(base_fd.get(), kLeafPrefix)) {
    Fd dir(::openat(base_fd.get(), name.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!dir.valid() || ::fstat(dir.get(), &st) != 0 || st.st_uid != ::geteuid()) continue;
    Fd lock;
    if (!is_stale(dir.get(), st, lock)) continue;
    const bool cleared = clear_dir(dir.get(), 0);
    if (cleared && ::unlinkat(base_fd.get(), name.c_str(), AT_REMOVEDIR) == 0) {
      log::info("removed stale delivery directory {}", (base / name).string());
      ++removed;
    } else {
      log::warn("cannot remove stale delivery directory {}", (base / name).string());
    }
  }
  return removed;
}

}  // namespace

Result<std::unique_ptr<DeliveryDir>> DeliveryDir::create(
    std::vector<std::pair<std::string, SecretValue>> files, const DeliveryOptions& options) {
  std::set<std::string> seen;
  for (const auto& file : files) {
    if (!valid_name(file.first)) {
      return bad_input("delivery file name is not a valid secret name: '" + file.first + "'");
    }
    if (!seen.insert(file.first).second) {
      return bad_input("two secrets deliver to the same file: " + file.first);
    }
  }
  const fs::path base =
      options.base_override ? absolute_path(*options.base_override) : default_bases().front();
  LOCKBOX_ASSIGN_OR_RETURN(Fd base_fd, open_base(base));
  struct statfs s {};
  if (!options.skip_fs_check && (::fstatfs(base_fd.get(), &s) != 0 || !is_memory_fs(s))) {
    return bad_input("no tmpfs for --deliver file: " + base.string() + " is not on tmpfs or ramfs");
  }

  std::string tmpl = (base / (std::string(kLeafPrefix) + "XXXXXX")).string();
  if (::mkdtemp(tmpl.data()) == nullptr) {
    const int err = errno;
    return os_error(err, "create delivery directory in " + base.string());
  }
  std::unique_ptr<DeliveryDir> dir(new DeliveryDir());  // from here on, its destructor cleans up
  dir->path_ = tmpl;
  dir->leaf_ = dir->path_.filename().string();
  dir->base_fd_ = std::move(base_fd);
  // mkdtemp's mode went through the umask: set it exactly, before opening (mode 0 would refuse
  // us). The base is private, so the new entry cannot have been replaced.
  if (::fchmodat(dir->base_fd_.get(), dir->leaf_.c_str(), 0700, 0) == 0) {
    dir->dir_fd_.reset(::openat(dir->base_fd_.get(), dir->leaf_.c_str(),
                                O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  }
  if (!dir->dir_fd_.valid()) {
    const int err = errno;
    return os_error(err, "open delivery directory " + tmpl);
  }
  LOCKBOX_TRY(dir->lock());
  for (auto& file : files) {
    LOCKBOX_TRY(dir->write_file(file.first, file.second));
    file.second.clear();  // the caller's copy is ours: wipe it as soon as it is on tmpfs
  }
  return dir;
}

Status DeliveryDir::lock() {
  const std::string where = (path_ / kLockName).string();
  Fd fd(::openat(dir_fd_.get(), kLockTempName, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                 0600));
  if (!fd.valid()) {
    const int err = errno;
    return os_error(err, "create " + where);
  }
  // Nobody else can know this fresh file yet, so a non-blocking lock cannot be refused. The mode
  // is set exactly: a sweeper must be able to open it whatever our umask was.
  if (::fchmod(fd.get(), 0600) != 0 || ::flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    return os_error(err, "lock " + where);
  }
  if (::renameat(dir_fd_.get(), kLockTempName, dir_fd_.get(), kLockName) != 0) {
    const int err = errno;
    return os_error(err, "rename into " + where);
  }
  lock_fd_ = std::move(fd);
  return Status::ok();
}

Status DeliveryDir::write_file(const std::string& name, const SecretValue& value) {
  const std::string where = (path_ / name).string();
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
  Fd fd(::openat(dir_fd_.get(), name.c_str(), flags, 0400));
  if (!fd.valid()) {
    const int err = errno;
    return os_error(err, "create delivery file " + where);
  }
  const std::string_view bytes = value.reveal();
  std::size_t done = 0;
  while (done < bytes.size()) {
    const ssize_t n = ::write(fd.get(), bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = n < 0 ? errno : EIO;
      return os_error(err, "write delivery file " + where);
    }
    done += static_cast<std::size_t>(n);
  }
  // The open mode went through the umask; set it exactly.
  if (::fchmod(fd.get(), 0400) != 0 || !fd.close()) {
    const int err = errno;
    return os_error(err, "finish delivery file " + where);
  }
  return Status::ok();
}

Status DeliveryDir::remove() {
  Status status;
  if (dir_fd_.valid()) {
    if (!clear_dir(dir_fd_.get(), 0)) {
      status = runtime_error("empty delivery directory " + path_.string());
    }
    dir_fd_.close();
  }
  if (base_fd_.valid()) {
    if (::unlinkat(base_fd_.get(), leaf_.c_str(), AT_REMOVEDIR) != 0 && errno != ENOENT) {
      const int err = errno;
      if (status.is_ok()) status = os_error(err, "remove delivery directory " + path_.string());
    }
    base_fd_.close();
  }
  // Released last: until the directory is gone, a sweeper must see it as alive.
  lock_fd_.close();
  return status;
}

DeliveryDir::~DeliveryDir() {
  const Status status = remove();
  if (!status.is_ok()) log::warn("{}", status.message());
}

std::size_t sweep_stale_delivery_dirs(const DeliveryOptions& options) {
  std::vector<fs::path> bases;
  if (options.base_override) {
    bases.push_back(absolute_path(*options.base_override));
  } else {
    bases = default_bases();
  }
  std::size_t removed = 0;
  for (const fs::path& base : bases) removed += sweep_base(base);
  return removed;
}

}  // namespace lockbox::launcher
