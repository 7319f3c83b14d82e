#include "store/master_key.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <system_error>
#include <utility>
#include <vector>

extern char** environ;  // NOLINT: POSIX declares it nowhere in a header

namespace lockbox::store {

namespace {

constexpr const char* kEnvKey = "LOCKBOX_MASTER_KEY";
constexpr const char* kEnvKeyFile = "LOCKBOX_MASTER_KEY_FILE";
constexpr const char* kEnvPassphrase = "LOCKBOX_MASTER_PASSPHRASE";
constexpr std::string_view kEnvPrefix = "LOCKBOX_MASTER_";
constexpr std::size_t kHexChars = 64;
constexpr std::size_t kBase64Chars = 44;
// The longest valid file is 64 hex chars + "\r\n"; read a little more to tell "too long".
constexpr std::size_t kMaxKeyFileBytes = 128;

// Wipes a stack buffer on every exit path.
template <std::size_t N>
struct WipedBuffer {
  std::array<std::uint8_t, N> bytes{};
  ~WipedBuffer() { wipe(bytes.data(), bytes.size()); }
};

struct UniqueFd {
  int fd = -1;
  UniqueFd() = default;
  UniqueFd(UniqueFd&& other) noexcept : fd(std::exchange(other.fd, -1)) {}
  UniqueFd& operator=(UniqueFd&&) = delete;
  UniqueFd(const UniqueFd&) = delete;
  UniqueFd& operator=(const UniqueFd&) = delete;
  ~UniqueFd() {
    if (fd >= 0) ::close(fd);
  }
};

std::string errno_text(int err) {
  return std::generic_category().message(err);
}

std::string file_source(const std::filesystem::path& path) {
  return "master key file " + path.string();
}

// Decoders without branches on the key bytes (best effort against timing leaks): each returns
// the value and clears `ok` on an invalid character instead of returning early.
std::uint32_t hex_nibble(std::uint32_t c, std::uint32_t& ok) {
  const std::uint32_t digit = (c - '0') <= 9U;
  const std::uint32_t lower = (c - 'a') <= 5U;
  const std::uint32_t upper = (c - 'A') <= 5U;
  ok &= digit | lower | upper;
  return digit * (c - '0') + lower * (c - 'a' + 10) + upper * (c - 'A' + 10);
}

std::uint32_t base64_sextet(std::uint32_t c, std::uint32_t& ok) {
  const std::uint32_t upper = (c - 'A') <= 25U;
  const std::uint32_t lower = (c - 'a') <= 25U;
  const std::uint32_t digit = (c - '0') <= 9U;
  const std::uint32_t plus = c == '+';
  const std::uint32_t slash = c == '/';
  ok &= upper | lower | digit | plus | slash;
  return upper * (c - 'A') + lower * (c - 'a' + 26) + digit * (c - '0' + 52) + plus * 62 +
         slash * 63;
}

bool decode_hex_key(ByteView text, SecureKey& key) {
  std::uint32_t ok = 1;
  std::uint8_t* out = key.mutable_data();
  for (std::size_t i = 0; i < SecureKey::kSize; ++i) {
    const std::uint32_t hi = hex_nibble(text[2 * i], ok);
    const std::uint32_t lo = hex_nibble(text[2 * i + 1], ok);
    out[i] = static_cast<std::uint8_t>((hi << 4) | lo);
  }
  return ok == 1;
}

// 32 bytes = 43 sextets (258 bits) + one '='. The last sextet's two spare bits must be zero, so
// exactly one text encodes each key.
bool decode_base64_key(ByteView text, SecureKey& key) {
  std::uint32_t ok = text[kBase64Chars - 1] == '=' ? 1U : 0U;
  std::uint8_t* out = key.mutable_data();
  std::uint32_t acc = 0;
  std::uint32_t bits = 0;
  std::size_t o = 0;
  for (std::size_t i = 0; i + 1 < kBase64Chars; ++i) {
    acc = (acc << 6) | base64_sextet(text[i], ok);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = static_cast<std::uint8_t>(acc >> bits);
      acc &= (1U << bits) - 1U;
    }
  }
  ok &= acc == 0 ? 1U : 0U;
  return ok == 1;
}

// True for the all-zero key and every key that is one byte repeated.
bool is_degenerate(const SecureKey& key) {
  std::uint8_t diff = 0;
  for (const std::uint8_t b : key.bytes())
    diff = static_cast<std::uint8_t>(diff | (b ^ key.data()[0]));
  return diff == 0;
}

// Opens with the file rule. `missing` (optional) reports ENOENT instead of an error status.
Result<UniqueFd> open_key_file(const std::filesystem::path& path, bool* missing) {
  const std::string source = file_source(path);
  UniqueFd file;
  // O_NONBLOCK: opening a FIFO for reading would otherwise block until a writer shows up.
  file.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK);
  if (file.fd < 0) {
    const int err = errno;
    if (err == ENOENT && missing != nullptr) {
      *missing = true;
      return file;
    }
    if (err == ELOOP) return key_error(source + " is a symbolic link; name the file itself");
    return key_error("cannot read " + source + ": " + errno_text(err));
  }
  // fstat the descriptor, not the path, so the checks apply to the file we will read.
  struct stat st {};
  if (::fstat(file.fd, &st) != 0)
    return key_error("cannot read " + source + ": " + errno_text(errno));
  if (!S_ISREG(st.st_mode)) return key_error(source + " is not a regular file");
  if (st.st_uid != ::geteuid() && st.st_uid != 0) {
    return key_error(source + " is owned by uid " + std::to_string(st.st_uid) +
                     "; it must be owned by uid " + std::to_string(::geteuid()) + " or root");
  }
  if ((st.st_mode & 077) != 0) {
    return key_error(source + " has group or other permissions; chmod 600 it");
  }
  if (st.st_size > static_cast<off_t>(kMaxKeyFileBytes)) {
    return key_error(source + " is too large to hold a master key");
  }
  return file;
}

Result<SecureKey> read_open_key_file(const UniqueFd& file, const std::filesystem::path& path) {
  const std::string source = file_source(path);
  WipedBuffer<kMaxKeyFileBytes> buffer;
  std::size_t size = 0;
  while (size < buffer.bytes.size()) {
    const ssize_t n = ::read(file.fd, buffer.bytes.data() + size, buffer.bytes.size() - size);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return key_error("cannot read " + source + ": " + errno_text(errno));
    if (n == 0) break;
    size += static_cast<std::size_t>(n);
  }
  // The file may have grown since fstat; a full buffer means it is too long to be a key.
  if (size == buffer.bytes.size()) return key_error(source + " is too large to hold a master key");
  return decode_key_material(ByteView(buffer.bytes).first(size), /*allow_raw=*/true, source);
}

// Values of the LOCKBOX_MASTER_* variables, copied out before they are scrubbed.
struct EnvSources {
  std::optional<SecretValue> key;
  std::optional<std::string> key_file;
  std::optional<SecretValue> passphrase;
};

EnvSources read_env_sources() {
  EnvSources env;
  if (const char* v = std::getenv(kEnvKey)) env.key.emplace(v);
  if (const char* v = std::getenv(kEnvKeyFile)) env.key_file.emplace(v);
  if (const char* v = std::getenv(kEnvPassphrase)) env.passphrase.emplace(v);
  scrub_master_key_env();
  return env;
}

// What capture_master_key_env() took at start, until load_master_key() consumes it.
std::optional<EnvSources>& captured_env() {
  static std::optional<EnvSources> captured;
  return captured;
}

EnvSources take_env_sources() {
  if (captured_env()) {
    EnvSources env = std::move(*captured_env());
    captured_env().reset();
    return env;
  }
  return read_env_sources();
}

Result<std::optional<MasterKey>> with_source(Result<SecureKey> key, std::string source,
                                             std::optional<std::filesystem::path> file = std::nullopt) {
  if (!key.is_ok()) return key.status();
  MasterKey mk;
  mk.key = std::move(key).value();
  mk.source = std::move(source);
  mk.file = std::move(file);
  return std::optional<MasterKey>(std::move(mk));
}

}  // namespace

Result<SecureKey> decode_key_material(ByteView material, bool allow_raw,
                                      const std::string& source) {
  SecureKey key;
  const std::size_t n = material.size();
  bool valid = false;
  // Raw keys are recognised by length alone: a raw key may itself end in 0x0a or 0x0d.
  const bool raw = allow_raw && (n == 32 || (n == 33 && material[32] == '\n') ||
                                 (n == 34 && material[32] == '\r' && material[33] == '\n'));
  if (raw) {
    key = SecureKey(material.first(SecureKey::kSize));
    valid = true;
  } else {
    std::size_t text = n;
    if (text >= 2 && material[text - 2] == '\r' && material[text - 1] == '\n') {
      text -= 2;
    } else if (text >= 1 && material[text - 1] == '\n') {
      text -= 1;
    }
    if (text == kHexChars) valid = decode_hex_key(material.first(text), key);
    if (text == kBase64Chars) valid = decode_base64_key(material.first(text), key);
  }
  // Only lengths go into messages, never the input: it may be a real key with a typo.
  if (!valid) {
    return key_error(source +
                     " is not a valid master key: expected 64 hex or 44 base64 characters" +
                     (allow_raw ? std::string(" or 32 raw bytes") : std::string()) +
                     " with at most one trailing newline (got " + std::to_string(n) + " bytes)");
  }
  if (is_degenerate(key)) {
    return key_error(source + " is all zeros or one byte repeated; generate a random key with " +
                     "'lockbox keys generate'");
  }
  return key;
}

Result<SecureKey> read_key_file(const std::filesystem::path& path) {
  LOCKBOX_ASSIGN_OR_RETURN(const UniqueFd file, open_key_file(path, nullptr));
  return read_open_key_file(file, path);
}

void capture_master_key_env() { captured_env() = read_env_sources(); }

void scrub_master_key_env() {
  // unsetenv only unlinks the entry: the bytes stay in memory and, for variables inherited at
  // exec, in /proc/self/environ. Overwrite the values in place first, then unset the names.
  // NOTE: mutates environ; call before starting threads that read the environment.
  std::vector<std::string> names;
  for (char** entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    const std::string_view var(*entry);
    if (var.substr(0, kEnvPrefix.size()) != kEnvPrefix) continue;
    const std::size_t eq = var.find('=');
    if (eq == std::string_view::npos) continue;
    wipe(*entry + eq + 1, var.size() - eq - 1);
    names.emplace_back(var.substr(0, eq));
  }
  for (const std::string& name : names) ::unsetenv(name.c_str());
}

Result<std::optional<MasterKey>> load_master_key(const MasterKeyOptions& options) {
  // Copy and scrub first, so the environment is clean on every path below, errors included.
  EnvSources env = take_env_sources();
  if (options.flag_file) {
    return with_source(read_key_file(*options.flag_file),
                       "--master-key-file " + options.flag_file->string(), *options.flag_file);
  }
  if (env.key) {
    return with_source(decode_key_material(as_bytes(env.key->reveal()), false, kEnvKey), kEnvKey);
  }
  if (env.key_file) {
    if (env.key_file->empty()) return key_error(std::string(kEnvKeyFile) + " is set but empty");
    auto key = read_key_file(*env.key_file);
    if (!key.is_ok()) return key.status().with_context(kEnvKeyFile);
    return with_source(std::move(key), std::string(kEnvKeyFile) + " " + *env.key_file,
                       std::filesystem::path(*env.key_file));
  }
  if (env.passphrase) {
    if (env.passphrase->empty()) {
      return key_error(std::string(kEnvPassphrase) +
                       " is set but empty; an empty passphrase "
                       "is refused");
    }
    MasterKey mk;
    mk.kind = MasterKeyKind::kPassphrase;
    mk.passphrase = std::move(*env.passphrase);
    mk.source = kEnvPassphrase;
    return std::optional<MasterKey>(std::move(mk));
  }
  if (options.data_dir.empty()) return std::optional<MasterKey>();
  // An absent <data-dir>/master.key only means "not configured"; anything else is an error.
  const std::filesystem::path path = options.data_dir / "master.key";
  bool missing = false;
  LOCKBOX_ASSIGN_OR_RETURN(const UniqueFd file, open_key_file(path, &missing));
  if (missing) return std::optional<MasterKey>();
  return with_source(read_open_key_file(file, path), path.string(), path);
}

Status write_new_key_file(const std::filesystem::path& path, Random& random) {
  SecureKey key;
  const Status drawn = random.fill({key.mutable_data(), SecureKey::kSize});
  if (!drawn.is_ok()) return drawn.with_context("cannot generate a master key");
  if (is_degenerate(key)) return runtime_error("random number generator returned a degenerate key");
  WipedBuffer<kHexChars + 1> text;
  static constexpr char kDigits[] = "0123456789abcdef";
  for (std::size_t i = 0; i < SecureKey::kSize; ++i) {
    text.bytes[2 * i] = static_cast<std::uint8_t>(kDigits[key.data()[i] >> 4]);
    text.bytes[2 * i + 1] = static_cast<std::uint8_t>(kDigits[key.data()[i] & 0x0f]);
  }
  text.bytes[kHexChars] = '\n';

  const std::string source = file_source(path);
  // O_EXCL (which also refuses a symlink at `path`) is the never-overwrite guarantee.
  UniqueFd file;
  file.fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (file.fd < 0) {
    const int err = errno;
    if (err == EEXIST) return bad_input(source + " already exists; refusing to overwrite it");
    return runtime_error("cannot create " + source + ": " + errno_text(err));
  }
  // The umask may have cleared bits of 0600; the mode must be exactly 0600 to be readable.
  int err = ::fchmod(file.fd, 0600) == 0 ? 0 : errno;
  std::size_t done = 0;
  while (err == 0 && done < text.bytes.size()) {
    const ssize_t n = ::write(file.fd, text.bytes.data() + done, text.bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) err = n < 0 ? errno : EIO;
    if (n > 0) done += static_cast<std::size_t>(n);
  }
  // The operator is told to keep this key; make sure it survives a crash before we say so.
  if (err == 0 && ::fsync(file.fd) != 0) err = errno;
  if (::close(std::exchange(file.fd, -1)) != 0 && err == 0) err = errno;
  if (err != 0) {
    ::unlink(path.c_str());  // ours (O_EXCL): never leave a partial key file behind
    return runtime_error("cannot write " + source + ": " + errno_text(err));
  }
  const int dir = ::open(path.has_parent_path() ? path.parent_path().c_str() : ".",
                         O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir >= 0) {
    (void)::fsync(dir);  // best effort: the file itself is already durable
    ::close(dir);
  }
  return Status::ok();
}

}  // namespace lockbox::store
