#include "store/crypto.hpp"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/params.h>

#include <climits>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <utility>

namespace lockbox::store {

namespace {

template <auto Free>
struct Deleter {
  template <typename T>
  void operator()(T* p) const {
    Free(p);
  }
};
using CipherPtr = std::unique_ptr<EVP_CIPHER, Deleter<EVP_CIPHER_free>>;
using CipherCtxPtr = std::unique_ptr<EVP_CIPHER_CTX, Deleter<EVP_CIPHER_CTX_free>>;
using KdfPtr = std::unique_ptr<EVP_KDF, Deleter<EVP_KDF_free>>;
using KdfCtxPtr = std::unique_ptr<EVP_KDF_CTX, Deleter<EVP_KDF_CTX_free>>;
using MacPtr = std::unique_ptr<EVP_MAC, Deleter<EVP_MAC_free>>;
using MacCtxPtr = std::unique_ptr<EVP_MAC_CTX, Deleter<EVP_MAC_CTX_free>>;
using MdPtr = std::unique_ptr<EVP_MD, Deleter<EVP_MD_free>>;

// OpenSSL 3's implicit fetch (EVP_aes_256_gcm() and friends) searches the provider store on
// every init, about 2 ms the first time; fetching once and reusing the immutable, reference-
// counted objects keeps that off every later call. A missing algorithm stays nullptr and turns
// into an error at the call site instead of a crash here.
struct Algorithms {
  CipherPtr aes_gcm;
  KdfPtr hkdf;
  MacPtr hmac;
  MdPtr sha256;
};

const Algorithms& algorithms() {
  static const Algorithms algs = [] {
    // Reading openssl.cnf could swap providers under us and costs start-up time we do not need.
    OPENSSL_init_crypto(OPENSSL_INIT_NO_LOAD_CONFIG, nullptr);
    Algorithms a;
    a.aes_gcm.reset(EVP_CIPHER_fetch(nullptr, "AES-256-GCM", nullptr));
    a.hkdf.reset(EVP_KDF_fetch(nullptr, "HKDF", nullptr));
    a.hmac.reset(EVP_MAC_fetch(nullptr, "HMAC", nullptr));
    a.sha256.reset(EVP_MD_fetch(nullptr, "SHA256", nullptr));
    ERR_clear_error();
    return a;
  }();
  return algs;
}

// RFC 5869: at most 255 blocks of the hash length.
constexpr std::size_t kHkdfMaxOutput = std::size_t{255} * 32;

bool fits_int(std::size_t n) {
  return n <= static_cast<std::size_t>(INT_MAX);
}

// OpenSSL's error queue is per thread; leaving entries behind would be misattributed to the
// next unrelated failure on this thread.
Status fail(StatusCode code, const char* message) {
  ERR_clear_error();
  return {code, message};
}

// The parameter arrays take non-const pointers, but OpenSSL only reads (and copies) them.
void* param_data(ByteView bytes) {
  return const_cast<std::uint8_t*>(bytes.data());
}
char* sha256_name() {
  return const_cast<char*>("SHA256");
}

}  // namespace

void init_crypto() {
  (void)algorithms();
}

Status aes_gcm_seal(const SecureKey& key, std::span<const std::uint8_t, kNonceSize> nonce,
                    ByteView aad, ByteView plaintext, Bytes& out) {
  out.clear();
  const EVP_CIPHER* cipher = algorithms().aes_gcm.get();
  if (cipher == nullptr) return fail(StatusCode::kRuntime, "aes-256-gcm is not available");
  if (!fits_int(aad.size()) || !fits_int(plaintext.size() + kTagSize)) {
    return fail(StatusCode::kRuntime, "aes-256-gcm input too large");
  }
  const std::size_t n = plaintext.size();
  Bytes sealed(n + kTagSize);
  const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  int len = 0;
  // 12 bytes is the GCM default IV length, so no EVP_CTRL_GCM_SET_IVLEN is needed.
  bool ok = ctx != nullptr &&
            EVP_EncryptInit_ex2(ctx.get(), cipher, key.data(), nonce.data(), nullptr) == 1;
  ok = ok && (aad.empty() || EVP_EncryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                               static_cast<int>(aad.size())) == 1);
  ok = ok && (n == 0 || (EVP_EncryptUpdate(ctx.get(), sealed.data(), &len, plaintext.data(),
                                           static_cast<int>(n)) == 1 &&
                         static_cast<std::size_t>(len) == n));
  // GCM's final writes nothing; the pointer just has to be valid.
  ok = ok && EVP_EncryptFinal_ex(ctx.get(), sealed.data() + n, &len) == 1 && len == 0;
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, static_cast<int>(kTagSize),
                                 sealed.data() + n) == 1;
  if (!ok) {
    wipe(sealed.data(), sealed.size());
    return fail(StatusCode::kRuntime, "aes-256-gcm encryption failed");
  }
  out = std::move(sealed);
  return Status::ok();
}

Status aes_gcm_open(const SecureKey& key, std::span<const std::uint8_t, kNonceSize> nonce,
                    ByteView aad, ByteView sealed, std::span<std::uint8_t> out) {
  // Fail closed: whatever happens below, `out` never holds unauthenticated plaintext.
  wipe(out.data(), out.size());
  // The tag length is fixed by us, never derived from the input: OpenSSL verifies a tag of any
  // length it is given, so a caller-chosen length would let a 1-byte tag through.
  if (sealed.size() < kTagSize) return fail(StatusCode::kIntegrity, "authentication failed");
  const std::size_t n = sealed.size() - kTagSize;
  if (out.size() != n) return fail(StatusCode::kRuntime, "aes-256-gcm output size mismatch");
  const EVP_CIPHER* cipher = algorithms().aes_gcm.get();
  if (cipher == nullptr) return fail(StatusCode::kRuntime, "aes-256-gcm is not available");
  if (!fits_int(aad.size()) || !fits_int(sealed.size())) {
    return fail(StatusCode::kRuntime, "aes-256-gcm input too large");
  }
  const CipherCtxPtr ctx(EVP_CIPHER_CTX_new());
  if (ctx == nullptr ||
      EVP_DecryptInit_ex2(ctx.get(), cipher, key.data(), nonce.data(), nullptr) != 1) {
    return fail(StatusCode::kRuntime, "aes-256-gcm initialisation failed");
  }
  int len = 0;
  bool ok = aad.empty() || EVP_DecryptUpdate(ctx.get(), nullptr, &len, aad.data(),
                                             static_cast<int>(aad.size())) == 1;
  ok = ok && (n == 0 || (EVP_DecryptUpdate(ctx.get(), out.data(), &len, sealed.data(),
                                           static_cast<int>(n)) == 1 &&
                         static_cast<std::size_t>(len) == n));
  // The expected tag must be in place before Final, which is where GCM compares it.
  ok = ok && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, static_cast<int>(kTagSize),
                                 param_data(sealed.subspan(n))) == 1;
  std::uint8_t trailer[kTagSize];  // GCM's final writes nothing
  ok = ok && EVP_DecryptFinal_ex(ctx.get(), trailer, &len) == 1 && len == 0;
  if (!ok) {
    wipe(out.data(), out.size());
    return fail(StatusCode::kIntegrity, "authentication failed");
  }
  return Status::ok();
}

Status hkdf_sha256(ByteView ikm, ByteView salt, ByteView info, std::span<std::uint8_t> out) {
  EVP_KDF* kdf = algorithms().hkdf.get();
  if (kdf == nullptr) return fail(StatusCode::kRuntime, "hkdf is not available");
  if (out.empty() || out.size() > kHkdfMaxOutput) {
    return fail(StatusCode::kRuntime, "hkdf-sha256 output length out of range");
  }
  if (ikm.empty()) return fail(StatusCode::kRuntime, "hkdf-sha256 needs input key material");
  OSSL_PARAM params[5];
  std::size_t i = 0;
  params[i++] = OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, sha256_name(), 0);
  params[i++] = OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, param_data(ikm), ikm.size());
  // An empty salt means HashLen zero bytes (RFC 5869 §2.2), which is what OpenSSL uses when no
  // salt is given; leaving empty inputs out avoids passing zero-length parameters at all.
  if (!salt.empty()) {
    params[i++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_SALT, param_data(salt), salt.size());
  }
  if (!info.empty()) {
    params[i++] =
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_INFO, param_data(info), info.size());
  }
  params[i] = OSSL_PARAM_construct_end();
  const KdfCtxPtr ctx(EVP_KDF_CTX_new(kdf));
  if (ctx == nullptr || EVP_KDF_derive(ctx.get(), out.data(), out.size(), params) != 1) {
    wipe(out.data(), out.size());
    return fail(StatusCode::kRuntime, "hkdf-sha256 failed");
  }
  return Status::ok();
}

Result<SecureKey> hkdf_key(ByteView ikm, ByteView salt, ByteView info) {
  SecureKey key;
  LOCKBOX_TRY(hkdf_sha256(ikm, salt, info, {key.mutable_data(), SecureKey::kSize}));
  return key;
}

Status pbkdf2_sha256(std::string_view passphrase, ByteView salt, std::uint32_t iterations,
                     std::span<std::uint8_t> out) {
  const EVP_MD* md = algorithms().sha256.get();
  if (md == nullptr) return fail(StatusCode::kRuntime, "sha-256 is not available");
  if (iterations == 0 || iterations > static_cast<std::uint32_t>(INT_MAX) || out.empty() ||
      !fits_int(out.size()) || !fits_int(passphrase.size()) || !fits_int(salt.size())) {
    wipe(out.data(), out.size());
    return fail(StatusCode::kRuntime, "pbkdf2-hmac-sha256 parameters out of range");
  }
  if (PKCS5_PBKDF2_HMAC(passphrase.data(), static_cast<int>(passphrase.size()), salt.data(),
                        static_cast<int>(salt.size()), static_cast<int>(iterations), md,
                        static_cast<int>(out.size()), out.data()) != 1) {
    wipe(out.data(), out.size());
    return fail(StatusCode::kRuntime, "pbkdf2-hmac-sha256 failed");
  }
  return Status::ok();
}

Mac hmac_sha256(ByteView key, ByteView data) {
  Mac mac{};
  EVP_MAC* hmac = algorithms().hmac.get();
  // EVP_MAC_init treats a null key as "keep the previous key"; an empty key still needs a
  // non-null pointer (HMAC pads it to the zero block, as RFC 2104 says).
  static const std::uint8_t kNoKey = 0;
  const std::uint8_t* key_ptr = key.empty() ? &kNoKey : key.data();
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256_name(), 0),
                         OSSL_PARAM_construct_end()};
  const MacCtxPtr ctx(hmac == nullptr ? nullptr : EVP_MAC_CTX_new(hmac));
  std::size_t len = 0;
  const bool ok = ctx != nullptr && EVP_MAC_init(ctx.get(), key_ptr, key.size(), params) == 1 &&
                  (data.empty() || EVP_MAC_update(ctx.get(), data.data(), data.size()) == 1) &&
                  EVP_MAC_final(ctx.get(), mac.data(), &len, mac.size()) == 1 && len == mac.size();
  if (!ok) {
    // The contract has no error channel, and a made-up MAC would silently corrupt fingerprints
    // and the audit chain. HMAC only fails when OpenSSL cannot allocate, so fail closed as an
    // out-of-memory would.
    (void)std::fputs("lockbox: fatal: HMAC-SHA256 failed inside OpenSSL\n", stderr);
    std::abort();
  }
  return mac;
}

namespace {

[[noreturn]] void hmac_failed() {
  (void)std::fputs("lockbox: fatal: HMAC-SHA256 failed inside OpenSSL\n", stderr);
  std::abort();
}

}  // namespace

HmacKey::HmacKey(ByteView key) {
  // The empty key (the default) is keyed on first use by hmac_sha256: an engine is built before
  // its keys are read, and fetching here would wait for init_crypto's thread (store-open).
  if (key.empty()) return;
  EVP_MAC* hmac = algorithms().hmac.get();
  OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, sha256_name(), 0),
                         OSSL_PARAM_construct_end()};
  MacCtxPtr ctx(hmac == nullptr ? nullptr : EVP_MAC_CTX_new(hmac));
  if (ctx == nullptr || EVP_MAC_init(ctx.get(), key.data(), key.size(), params) != 1) hmac_failed();
  ctx_ = ctx.release();
}

HmacKey::~HmacKey() {
  EVP_MAC_CTX_free(ctx_);
}

HmacKey::HmacKey(HmacKey&& other) noexcept : ctx_(std::exchange(other.ctx_, nullptr)) {}

HmacKey& HmacKey::operator=(HmacKey&& other) noexcept {
  if (this != &other) {
    EVP_MAC_CTX_free(ctx_);
    ctx_ = std::exchange(other.ctx_, nullptr);
  }
  return *this;
}

Mac HmacKey::mac(ByteView data) const {
  if (ctx_ == nullptr) return hmac_sha256({}, data);  // the empty key (or moved from)
  const MacCtxPtr ctx(EVP_MAC_CTX_dup(ctx_));
  Mac mac{};
  std::size_t len = 0;
  const bool ok = ctx != nullptr &&
                  (data.empty() || EVP_MAC_update(ctx.get(), data.data(), data.size()) == 1) &&
                  EVP_MAC_final(ctx.get(), mac.data(), &len, mac.size()) == 1 && len == mac.size();
  if (!ok) hmac_failed();
  return mac;
}

Mac sha256(ByteView data) {
  Mac digest{};
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), digest.data(), &len, EVP_sha256(), nullptr) != 1 ||
      len != digest.size()) {
    // As for HMAC: only an allocation failure inside OpenSSL gets here; never return a made-up
    // digest (it would let a token compare equal to garbage).
    (void)std::fputs("lockbox: fatal: SHA-256 failed inside OpenSSL\n", stderr);
    std::abort();
  }
  return digest;
}

bool constant_time_equal(ByteView a, ByteView b) {
  if (a.size() != b.size()) return false;
  if (a.empty()) return true;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace lockbox::store
