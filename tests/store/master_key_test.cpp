// Reading the master key (SPEC §6, CRYPTO.md test 8): encodings, the key-file rule, source
// precedence, environment scrubbing, and that no message ever echoes key material.

#include "store/master_key.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <string>
#include <vector>

#include "tests/store/crypto_test_util.hpp"
#include "tests/support/temp_dir.hpp"

namespace lockbox::store {
namespace {

using lockbox::testing::TempDir;
using lockbox::testing::write_file;
using testing::FailingRandom;
using testing::FixedRandom;
using testing::hex;
using testing::hex_of;

// A canary: none of its encodings may ever appear in an error message.
constexpr const char* kCanaryHex =
    "5ec2e7cad00dfeed0badc0de1337c0ffee5eed5a1ad00b1e7abcdef012345678";
constexpr const char* kCanaryBase64 = "XsLnytAN/u0LrcDeEzfA/+5e7Voa0Aseerze8BI0Vng=";

std::string canary_raw() {
  const Bytes b = hex(kCanaryHex);
  return {b.begin(), b.end()};
}

// Key n: the bytes n, n+1, ..., n+31 (never degenerate).
std::string seq_key_hex(std::uint8_t start) {
  Bytes b;
  for (std::uint8_t i = 0; i < 32; ++i) b.push_back(static_cast<std::uint8_t>(start + i));
  return hex_of(b);
}

// Fails if any 8-character window of `material` shows up in `message`.
void expect_no_leak(const std::string& message, const std::string& material) {
  INFO("message: " << message);
  for (std::size_t i = 0; i + 8 <= material.size(); ++i) {
    CHECK(message.find(material.substr(i, 8)) == std::string::npos);
  }
}

Result<SecureKey> decode(const std::string& material, bool allow_raw) {
  return decode_key_material(as_bytes(material), allow_raw, "test source");
}

// An environment entry owned by the test (putenv keeps our buffer), so the test can look at
// the very bytes the process environment pointed to after the loader scrubbed them.
class EnvEntry {
 public:
  EnvEntry(const std::string& name, const std::string& value)
      : name_(name), buffer_(name + "=" + value), value_size_(value.size()) {
    REQUIRE(::putenv(buffer_.data()) == 0);
  }
  ~EnvEntry() { ::unsetenv(name_.c_str()); }
  EnvEntry(const EnvEntry&) = delete;
  EnvEntry& operator=(const EnvEntry&) = delete;
  [[nodiscard]] bool value_wiped() const {
    const std::size_t start = name_.size() + 1;
    for (std::size_t i = 0; i < value_size_; ++i) {
      if (buffer_[start + i] != '\0') return false;
    }
    return true;
  }

 private:
  std::string name_;
  std::string buffer_;
  std::size_t value_size_;
};

TEST_CASE("master key decoding accepts hex, base64 and raw with at most one newline",
          "[store][crypto][master-key]") {
  const std::string upper = [] {
    std::string s = kCanaryHex;
    for (char& c : s) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    return s;
  }();
  std::vector<std::pair<std::string, bool>> accepted = {
      {kCanaryHex, false},
      {std::string(kCanaryHex) + "\n", false},
      {std::string(kCanaryHex) + "\r\n", false},
      {upper, false},
      {kCanaryBase64, false},
      {std::string(kCanaryBase64) + "\n", false},
      {canary_raw(), true},
      {canary_raw() + "\n", true},
      {canary_raw() + "\r\n", true},
      {kCanaryHex, true},
  };
  for (const auto& [material, allow_raw] : accepted) {
    INFO("input size " << material.size() << " allow_raw " << allow_raw);
    auto key = decode(material, allow_raw);
    REQUIRE(key.is_ok());
    CHECK(hex_of(key->bytes()) == kCanaryHex);
  }
}

TEST_CASE("raw keys ending in newline or carriage-return bytes are kept whole",
          "[store][crypto][master-key]") {
  std::string raw = canary_raw();
  raw[31] = '\n';
  auto key = decode(raw, true);
  REQUIRE(key.is_ok());
  CHECK(key->bytes()[31] == '\n');
  raw[31] = '\r';
  key = decode(raw + "\n", true);
  REQUIRE(key.is_ok());
  CHECK(key->bytes()[31] == '\r');
}

TEST_CASE("master key decoding refuses malformed material without echoing it",
          "[store][crypto][master-key]") {
  const std::string h = kCanaryHex;
  const std::string b = kCanaryBase64;
  const std::string raw = canary_raw();
  std::string bad_hex = h;
  bad_hex[10] = 'g';
  std::string bad_b64 = b;
  bad_b64[5] = '*';
  std::string non_canonical_b64 = b;
  non_canonical_b64[42] = 'h';  // same 32 bytes, but the spare bits are not zero
  const std::vector<std::pair<std::string, bool>> refused = {
      {"", true},
      {raw.substr(0, 16), true},
      {raw.substr(0, 31), true},
      {raw + "x", true},
      {h.substr(0, 63), false},
      {h + "0", false},
      {h.substr(0, 62), false},
      {bad_hex, false},
      {bad_b64, false},
      {b.substr(0, 43) + "A", false},  // no padding
      {non_canonical_b64, false},
      {"-" + b.substr(1), false},  // URL-safe alphabet is not base64
      {" " + h, false},
      {h + " ", false},
      {h.substr(0, 32) + " " + h.substr(32), false},
      {h + "\t", false},
      {h + "\n\n", false},
      {b + "\n\n", false},
      {h + "\r", false},
      {raw + "\n\n", true},
      {raw, false},  // raw bytes only from a file
  };
  for (const auto& [material, allow_raw] : refused) {
    INFO("input size " << material.size() << " allow_raw " << allow_raw);
    auto key = decode(material, allow_raw);
    REQUIRE_FALSE(key.is_ok());
    CHECK(key.status().code() == StatusCode::kKey);
    CHECK_THAT(key.status().message(), Catch::StartsWith("test source"));
    expect_no_leak(key.status().message(), material);
    expect_no_leak(key.status().message(), h);
    expect_no_leak(key.status().message(), b);
  }
}

TEST_CASE("master key decoding refuses all-zero and one-byte-repeated keys",
          "[store][crypto][master-key]") {
  const std::vector<std::pair<std::string, bool>> degenerate = {
      {std::string(64, '0'), false},
      {std::string(43, 'A') + "=", false},
      {std::string(32, '\0'), true},
      {std::string(64, 'a'), false},  // 0xaa repeated
      {[] {
         std::string s;
         for (int i = 0; i < 32; ++i) s += "5e";
         return s;
       }(),
       false},
      {std::string(32, 'Z'), true},
  };
  for (const auto& [material, allow_raw] : degenerate) {
    auto key = decode(material, allow_raw);
    REQUIRE_FALSE(key.is_ok());
    CHECK(key.status().code() == StatusCode::kKey);
    CHECK_THAT(key.status().message(), Catch::Contains("one byte repeated"));
  }
}

TEST_CASE("key files with hex, base64 or raw content and mode 0600 or 0400 are accepted",
          "[store][crypto][master-key]") {
  TempDir dir;
  const std::vector<std::pair<std::string, unsigned>> files = {
      {std::string(kCanaryHex) + "\n", 0600U},
      {kCanaryBase64, 0400U},
      {canary_raw(), 0600U},
      {canary_raw() + "\n", 0400U},
  };
  int i = 0;
  for (const auto& [content, mode] : files) {
    const auto path = dir / ("key" + std::to_string(i++));
    write_file(path, content, mode);
    auto key = read_key_file(path);
    REQUIRE(key.is_ok());
    CHECK(hex_of(key->bytes()) == kCanaryHex);
  }
}

TEST_CASE("key files readable by group or others are refused", "[store][crypto][master-key]") {
  TempDir dir;
  for (const unsigned mode : {0644U, 0640U, 0604U, 0660U, 0601U, 0610U}) {
    const auto path = dir / "master.key";
    write_file(path, kCanaryHex, mode);
    auto key = read_key_file(path);
    REQUIRE_FALSE(key.is_ok());
    CHECK(key.status().code() == StatusCode::kKey);
    CHECK(key.status().message() ==
          "master key file " + path.string() + " has group or other permissions; chmod 600 it");
    std::filesystem::remove(path);
  }
}

TEST_CASE("key file symlinks, directories and fifos are refused", "[store][crypto][master-key]") {
  TempDir dir;
  write_file(dir / "real.key", kCanaryHex, 0600);
  std::filesystem::create_symlink(dir / "real.key", dir / "link.key");
  auto key = read_key_file(dir / "link.key");
  REQUIRE_FALSE(key.is_ok());
  CHECK(key.status().code() == StatusCode::kKey);
  CHECK_THAT(key.status().message(), Catch::Contains("symbolic link"));

  std::filesystem::create_directory(dir / "dir.key");
  ::chmod((dir / "dir.key").c_str(), 0700);
  key = read_key_file(dir / "dir.key");
  REQUIRE_FALSE(key.is_ok());
  CHECK_THAT(key.status().message(), Catch::Contains("not a regular file"));

  // Opening a FIFO for reading would block until a writer appears; it must not.
  REQUIRE(::mkfifo((dir / "fifo.key").c_str(), 0600) == 0);
  key = read_key_file(dir / "fifo.key");
  REQUIRE_FALSE(key.is_ok());
  CHECK_THAT(key.status().message(), Catch::Contains("not a regular file"));
}

TEST_CASE("key files owned by another user are refused", "[store][crypto][master-key]") {
  TempDir dir;
  const auto path = dir / "master.key";
  write_file(path, kCanaryHex, 0600);
  // Only root can give a file away; as another user this case cannot be set up.
  if (::geteuid() != 0 || ::chown(path.c_str(), 4242, 4242) != 0) {
    WARN("skipped: giving a file to another uid needs root");
    return;
  }
  auto key = read_key_file(path);
  REQUIRE_FALSE(key.is_ok());
  CHECK(key.status().code() == StatusCode::kKey);
  CHECK_THAT(key.status().message(), Catch::Contains("owned by uid 4242"));
}

TEST_CASE("key files with bad content name the file and never echo it",
          "[store][crypto][master-key]") {
  TempDir dir;
  const auto path = dir / "master.key";
  const std::string h = kCanaryHex;
  for (const std::string& content :
       {std::string(), h.substr(0, 63), h + "\n\n", " " + h, std::string(64, '0'),
        canary_raw().substr(0, 16), canary_raw().substr(0, 31), canary_raw() + "xy",
        std::string(300, 'a') + h}) {
    write_file(path, content, 0600);
    auto key = read_key_file(path);
    REQUIRE_FALSE(key.is_ok());
    CHECK(key.status().code() == StatusCode::kKey);
    CHECK_THAT(key.status().message(), Catch::StartsWith("master key file " + path.string()));
    expect_no_leak(key.status().message(), content);
    expect_no_leak(key.status().message(), h);
  }
}

TEST_CASE("a missing key file named explicitly is a key error", "[store][crypto][master-key]") {
  scrub_master_key_env();
  TempDir dir;
  const auto missing = dir / "nope.key";
  MasterKeyOptions options;
  options.flag_file = missing;
  auto loaded = load_master_key(options);
  REQUIRE_FALSE(loaded.is_ok());
  CHECK(loaded.status().code() == StatusCode::kKey);
  CHECK_THAT(loaded.status().message(),
             Catch::Contains("cannot read master key file " + missing.string() +
                             ": No such file or directory"));

  const EnvEntry env("LOCKBOX_MASTER_KEY_FILE", missing.string());
  loaded = load_master_key(MasterKeyOptions{});
  REQUIRE_FALSE(loaded.is_ok());
  CHECK(loaded.status().code() == StatusCode::kKey);
  CHECK_THAT(loaded.status().message(), Catch::Contains("No such file or directory"));
  CHECK_THAT(loaded.status().message(), Catch::Contains("LOCKBOX_MASTER_KEY_FILE"));
}

TEST_CASE("a missing data-dir key file means no master key is configured",
          "[store][crypto][master-key]") {
  scrub_master_key_env();
  TempDir dir;
  MasterKeyOptions options;
  options.data_dir = dir.path();
  auto loaded = load_master_key(options);
  REQUIRE(loaded.is_ok());
  CHECK_FALSE(loaded->has_value());
  auto none = load_master_key(MasterKeyOptions{});
  REQUIRE(none.is_ok());
  CHECK_FALSE(none->has_value());
  // Present but unsafe is an error, not "not configured".
  write_file(dir / "master.key", kCanaryHex, 0644);
  loaded = load_master_key(options);
  REQUIRE_FALSE(loaded.is_ok());
  CHECK(loaded.status().code() == StatusCode::kKey);
}

TEST_CASE("master key sources follow the SPEC precedence", "[store][crypto][master-key]") {
  scrub_master_key_env();
  TempDir dir;
  write_file(dir / "flag.key", seq_key_hex(0x10), 0600);
  write_file(dir / "env.key", seq_key_hex(0x50), 0600);
  write_file(dir / "master.key", seq_key_hex(0x70), 0600);
  struct Step {
    bool flag, env_key, env_file, passphrase;
    std::string expected_hex;  // empty: the passphrase wins
    std::string expected_file;  // the key file read, "" for a key or passphrase from the env
  };
  const std::vector<Step> steps = {
      {true, true, true, true, seq_key_hex(0x10), "flag.key"},
      {false, true, true, true, seq_key_hex(0x30), ""},
      {false, false, true, true, seq_key_hex(0x50), "env.key"},
      {false, false, false, true, "", ""},
      {false, false, false, false, seq_key_hex(0x70), "master.key"},
  };
  for (const Step& step : steps) {
    INFO("expected " << (step.expected_hex.empty() ? "passphrase" : step.expected_hex));
    std::vector<std::unique_ptr<EnvEntry>> env;
    if (step.env_key)
      env.push_back(std::make_unique<EnvEntry>("LOCKBOX_MASTER_KEY", seq_key_hex(0x30)));
    if (step.env_file) {
      env.push_back(
          std::make_unique<EnvEntry>("LOCKBOX_MASTER_KEY_FILE", (dir / "env.key").string()));
    }
    if (step.passphrase) {
      env.push_back(std::make_unique<EnvEntry>("LOCKBOX_MASTER_PASSPHRASE", "correct horse"));
    }
    MasterKeyOptions options;
    if (step.flag) options.flag_file = dir / "flag.key";
    options.data_dir = dir.path();
    auto loaded = load_master_key(options);
    REQUIRE(loaded.is_ok());
    REQUIRE(loaded->has_value());
    const MasterKey& mk = **loaded;
    if (step.expected_hex.empty()) {
      CHECK(mk.kind == MasterKeyKind::kPassphrase);
      CHECK(mk.passphrase.reveal() == "correct horse");
      CHECK(mk.source == "LOCKBOX_MASTER_PASSPHRASE");
    } else {
      CHECK(mk.kind == MasterKeyKind::kKey);
      CHECK(hex_of(mk.key.bytes()) == step.expected_hex);
    }
    if (step.expected_file.empty()) {
      CHECK_FALSE(mk.file.has_value());
    } else {
      CHECK(mk.file == dir / step.expected_file);
    }
    for (const auto& entry : env) CHECK(entry->value_wiped());
  }
}

TEST_CASE("only the winning master key source is parsed", "[store][crypto][master-key]") {
  scrub_master_key_env();
  TempDir dir;
  write_file(dir / "flag.key", kCanaryHex, 0600);
  const EnvEntry bad("LOCKBOX_MASTER_KEY", "not a key");
  MasterKeyOptions options;
  options.flag_file = dir / "flag.key";
  auto loaded = load_master_key(options);
  REQUIRE(loaded.is_ok());
  REQUIRE(loaded->has_value());
  CHECK(hex_of((*loaded)->key.bytes()) == kCanaryHex);
  CHECK((*loaded)->source == "--master-key-file " + (dir / "flag.key").string());
}

TEST_CASE("loading the master key wipes and unsets every LOCKBOX_MASTER_ variable",
          "[store][crypto][master-key]") {
  scrub_master_key_env();
  const EnvEntry key("LOCKBOX_MASTER_KEY", kCanaryHex);
  const EnvEntry file("LOCKBOX_MASTER_KEY_FILE", "/nonexistent/lockbox.key");
  const EnvEntry pass("LOCKBOX_MASTER_PASSPHRASE", "hunter2hunter2");
  const EnvEntry other("LOCKBOX_MASTER_SOMETHING_ELSE", "secret-ish");
  const EnvEntry unrelated("LOCKBOX_DATA_DIR_TEST", "keep-me");
  auto loaded = load_master_key(MasterKeyOptions{});
  REQUIRE(loaded.is_ok());
  REQUIRE(loaded->has_value());
  CHECK(hex_of((*loaded)->key.bytes()) == kCanaryHex);
  CHECK((*loaded)->source == "LOCKBOX_MASTER_KEY");
  for (const char* name : {"LOCKBOX_MASTER_KEY", "LOCKBOX_MASTER_KEY_FILE",
                           "LOCKBOX_MASTER_PASSPHRASE", "LOCKBOX_MASTER_SOMETHING_ELSE"}) {
    INFO(name);
    CHECK(std::getenv(name) == nullptr);
  }
  CHECK(key.value_wiped());
  CHECK(file.value_wiped());
  CHECK(pass.value_wiped());
  CHECK(other.value_wiped());
  CHECK_FALSE(unrelated.value_wiped());
  REQUIRE(std::getenv("LOCKBOX_DATA_DIR_TEST") != nullptr);
  CHECK(std::string(std::getenv("LOCKBOX_DATA_DIR_TEST")) == "keep-me");
}

TEST_CASE("a refused LOCKBOX_MASTER_KEY is still wiped and never echoed",
          "[store][crypto][master-key]") {
  scrub_master_key_env();
  const std::string bad = std::string(kCanaryHex).substr(0, 63);
  const EnvEntry key("LOCKBOX_MASTER_KEY", bad);
  auto loaded = load_master_key(MasterKeyOptions{});
  REQUIRE_FALSE(loaded.is_ok());
  CHECK(loaded.status().code() == StatusCode::kKey);
  CHECK_THAT(loaded.status().message(), Catch::StartsWith("LOCKBOX_MASTER_KEY"));
  expect_no_leak(loaded.status().message(), bad);
  CHECK(std::getenv("LOCKBOX_MASTER_KEY") == nullptr);
  CHECK(key.value_wiped());
}

TEST_CASE("an empty master passphrase is refused", "[store][crypto][master-key]") {
  scrub_master_key_env();
  const EnvEntry pass("LOCKBOX_MASTER_PASSPHRASE", "");
  auto loaded = load_master_key(MasterKeyOptions{});
  REQUIRE_FALSE(loaded.is_ok());
  CHECK(loaded.status().code() == StatusCode::kKey);
  CHECK(std::getenv("LOCKBOX_MASTER_PASSPHRASE") == nullptr);
}

TEST_CASE("a new key file is 0600 hex and is never overwritten", "[store][crypto][master-key]") {
  TempDir dir;
  const auto path = dir / "new.key";
  const mode_t old_umask = ::umask(0277);  // even a hostile umask must give exactly 0600
  FixedRandom random(hex(kCanaryHex));
  const Status written = write_new_key_file(path, random);
  ::umask(old_umask);
  REQUIRE(written.is_ok());
  struct stat st {};
  REQUIRE(::stat(path.c_str(), &st) == 0);
  CHECK((st.st_mode & 07777) == 0600);
  CHECK(lockbox::testing::read_file(path) == std::string(kCanaryHex) + "\n");
  auto key = read_key_file(path);
  REQUIRE(key.is_ok());
  CHECK(hex_of(key->bytes()) == kCanaryHex);

  FixedRandom again(hex(seq_key_hex(0x20)));
  const Status second = write_new_key_file(path, again);
  CHECK(second.code() == StatusCode::kBadInput);
  CHECK_THAT(second.message(), Catch::Contains("already exists"));
  CHECK(lockbox::testing::read_file(path) == std::string(kCanaryHex) + "\n");

  // A dangling symlink is not followed to create a file elsewhere.
  std::filesystem::create_symlink(dir / "target.key", dir / "link.key");
  FixedRandom third(hex(kCanaryHex));
  CHECK_FALSE(write_new_key_file(dir / "link.key", third).is_ok());
  CHECK_FALSE(std::filesystem::exists(dir / "target.key"));
}

TEST_CASE("a failing or degenerate random source writes no key file",
          "[store][crypto][master-key]") {
  TempDir dir;
  FailingRandom failing;
  CHECK_FALSE(write_new_key_file(dir / "a.key", failing).is_ok());
  CHECK_FALSE(std::filesystem::exists(dir / "a.key"));
  FixedRandom zeros(Bytes(32, 0));
  CHECK_FALSE(write_new_key_file(dir / "b.key", zeros).is_ok());
  CHECK_FALSE(std::filesystem::exists(dir / "b.key"));
}

}  // namespace
}  // namespace lockbox::store
