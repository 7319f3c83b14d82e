#pragma once
// Cryptographic primitives, all through OpenSSL 3 EVP (no OpenSSL type in this header):
// AES-256-GCM with a fixed 12-byte nonce and an always-16-byte tag, HKDF-SHA256,
// PBKDF2-HMAC-SHA256, HMAC-SHA256. Callers normally use envelope.hpp, which adds the persistent
// format around the AEAD. Thread-safety: every function is thread-safe.

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "core/secret_value.hpp"
#include "core/secure_key.hpp"
#include "core/status.hpp"
#include "store/bytes.hpp"

struct evp_mac_ctx_st;  // OpenSSL's EVP_MAC_CTX

namespace lockbox::store {

inline constexpr std::size_t kNonceSize = 12;
inline constexpr std::size_t kTagSize = 16;
using Mac = std::array<std::uint8_t, 32>;

// Fetches the ciphers/MACs/KDFs once (OPENSSL_init_crypto without loading the config file).
// Idempotent; called by every function below, so calling it early only moves the cost.
void init_crypto();

// AES-256-GCM encryption with an explicit nonce. `out` receives ciphertext || tag (size + 16).
// Production code never chooses a nonce: envelope.hpp draws it from Random. kRuntime on failure.
Status aes_gcm_seal(const SecureKey& key, std::span<const std::uint8_t, kNonceSize> nonce,
                    ByteView aad, ByteView plaintext, Bytes& out);

// Decrypts ciphertext || tag (tag exactly 16 bytes; `sealed` shorter than 16 is rejected) into
// `out`, which must be exactly sealed.size() - 16 bytes. On any failure `out` is wiped and
// kIntegrity is returned ("authentication failed"). The tag is set before EVP_DecryptFinal_ex.
Status aes_gcm_open(const SecureKey& key, std::span<const std::uint8_t, kNonceSize> nonce,
                    ByteView aad, ByteView sealed, std::span<std::uint8_t> out);

// HKDF-SHA256 (RFC 5869) with an output of `out.size()` bytes (≤ 255*32). kRuntime on failure.
Status hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, std::span<std::uint8_t> out);
// Convenience: a 32-byte key.
Result<SecureKey> hkdf_key(ByteView ikm, ByteView salt, ByteView info);

// PBKDF2-HMAC-SHA256 into `out`. kRuntime on failure.
Status pbkdf2_sha256(std::string_view passphrase, ByteView salt, std::uint32_t iterations,
                     std::span<std::uint8_t> out);

Mac hmac_sha256(ByteView key, ByteView data);

// An HMAC-SHA256 key set up once for many MACs: mac() copies the keyed context instead of
// creating one, fetching its digest and hashing the key's pads on every call (issue 11: the row
// MACs of a launch, two per secret). Implicit from a SecureKey, so row_auth's functions take
// either; the engine keeps one for its row-authentication key. Default: the empty key (as
// hmac_sha256 with an empty key). The context holds the pads; OpenSSL wipes them when freed.
// Move-only; mac() gives what hmac_sha256(key, data) gives and may be called from any thread.
class HmacKey {
 public:
  HmacKey() : HmacKey(ByteView{}) {}
  HmacKey(const SecureKey& key) : HmacKey(key.bytes()) {}  // NOLINT(google-explicit-constructor)
  explicit HmacKey(ByteView key);
  ~HmacKey();
  HmacKey(HmacKey&& other) noexcept;
  HmacKey& operator=(HmacKey&& other) noexcept;
  HmacKey(const HmacKey&) = delete;
  HmacKey& operator=(const HmacKey&) = delete;

  [[nodiscard]] Mac mac(ByteView data) const;

 private:
  evp_mac_ctx_st* ctx_ = nullptr;
};
// SHA-256 (API tokens are stored as the digest of their secret part).
Mac sha256(ByteView data);

// Constant-time equality (CRYPTO_memcmp); false when sizes differ.
bool constant_time_equal(ByteView a, ByteView b);

}  // namespace lockbox::store
