#pragma once
// Reading the master key (SPEC §6, exact order, first found wins):
//   1. --master-key-file F        2. LOCKBOX_MASTER_KEY (64 hex or 44 base64 chars)
//   3. LOCKBOX_MASTER_KEY_FILE    4. LOCKBOX_MASTER_PASSPHRASE   5. <data-dir>/master.key
// Encodings: 32 raw bytes (files only), 64 hex chars, or 44 base64 chars, at most one trailing
// newline; an all-zero key or one byte repeated is refused. A key file is opened with O_NOFOLLOW,
// must be a regular file owned by the euid or root with (mode & 077) == 0.
// Every LOCKBOX_MASTER_* variable is overwritten in place and unset once read, whichever wins.
// Errors (kKey) name the source, never its content.

#include <filesystem>
#include <optional>
#include <string>

#include "core/random.hpp"
#include "core/secret_value.hpp"
#include "core/secure_key.hpp"
#include "core/status.hpp"
#include "store/bytes.hpp"

namespace lockbox::store {

enum class MasterKeyKind { kKey, kPassphrase };

struct MasterKey {
  MasterKeyKind kind = MasterKeyKind::kKey;
  SecureKey key;           // kKey: the 32-byte key
  SecretValue passphrase;  // kPassphrase: the passphrase, stretched later with the store's salt
  std::string source;      // "--master-key-file", "LOCKBOX_MASTER_KEY", "<path>", ...
  std::optional<std::filesystem::path> file;  // the key file it was read from, if any
};

struct MasterKeyOptions {
  std::optional<std::filesystem::path> flag_file;  // --master-key-file
  std::filesystem::path data_dir;                  // for <data-dir>/master.key
};

// Returns the winning master key, or std::nullopt when no source is configured. Wipes and unsets
// every LOCKBOX_MASTER_* variable. kKey for a refused file or malformed material.
Result<std::optional<MasterKey>> load_master_key(const MasterKeyOptions& options);

// Decodes key material (hex, base64, or raw 32 bytes when allow_raw) with at most one trailing
// newline ("\n" or "\r\n"). kKey naming `source` on failure.
Result<SecureKey> decode_key_material(ByteView material, bool allow_raw, const std::string& source);

// Reads a key file with the file rule above.
Result<SecureKey> read_key_file(const std::filesystem::path& path);

// Creates a new random key file (64 hex chars + newline), mode 0600, O_EXCL: never overwrites.
// kBadInput when it exists; kRuntime on I/O errors.
Status write_new_key_file(const std::filesystem::path& path, Random& random);

// Wipes (in place) and unsets every LOCKBOX_MASTER_* variable of this process's environment.
// NOTE: mutates environ; call before any other thread exists (getenv is not safe against it).
void scrub_master_key_env();

// Copies the LOCKBOX_MASTER_* values into wiping buffers and scrubs the environment, for the next
// load_master_key() to use. main() calls it first thing, before it starts any thread.
void capture_master_key_env();

}  // namespace lockbox::store
