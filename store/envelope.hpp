#pragma once
// The ciphertext envelope and associated data of CRYPTO.md.
//
// NOTE: persistent format (stored as BLOB); never renumber the version or the alg id.
//   offset len field
//   0      2   magic "LB"
//   2      1   format version 0x01
//   3      1   alg 0x01 = AES-256-GCM, 96-bit random nonce, 128-bit tag
//   4      4   key_id u32be: a value's DEK id, or a wrapped key's KEK generation
//   8      12  nonce
//   20     n   ciphertext
//   20+n   16  tag (always 16)
// AAD = LP(label) || header[0..8) || context, so the header is authenticated:
//   secret value: label "lockbox/v1/secret-value", context = store_id || LP(scope) || LP(name)
//                 || secret_uid(16) || u64be(version)
//   wrapped key:  label "lockbox/v1/key-wrap", context = store_id || LP(purpose) || u32be(key_id)
// Build contexts from the *request's* identity, never only from the row being decrypted.

#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "core/random.hpp"
#include "core/secret_value.hpp"
#include "core/secure_key.hpp"
#include "core/status.hpp"
#include "store/bytes.hpp"
#include "store/crypto.hpp"

namespace lockbox::store {

inline constexpr std::uint8_t kEnvelopeVersion1 = 0x01;
inline constexpr std::uint8_t kAlgAes256Gcm = 0x01;
inline constexpr std::size_t kHeaderSize = 8;
inline constexpr std::size_t kEnvelopeOverhead = kHeaderSize + kNonceSize + kTagSize;  // 36
// Envelopes larger than this are refused before any decryption (bounds n).
inline constexpr std::size_t kMaxEnvelopeSize = 16 * 1024 * 1024;

inline constexpr std::string_view kLabelSecretValue = "lockbox/v1/secret-value";
inline constexpr std::string_view kLabelKeyWrap = "lockbox/v1/key-wrap";
inline constexpr std::size_t kStoreIdSize = 16;
inline constexpr std::size_t kSecretUidSize = 16;

// Context (the AAD after the header) for a secret value.
Bytes secret_aad_context(ByteView store_id, std::string_view scope_address, std::string_view name,
                         ByteView secret_uid, std::uint64_t version);
// Context for a wrapped key; purpose is "data", "audit" or "fingerprint".
Bytes wrap_aad_context(ByteView store_id, std::string_view purpose, std::uint32_t key_id);
// Full AAD = LP(label) || header || context.
Bytes build_aad(std::string_view label, ByteView header, ByteView context);

struct EnvelopeView {
  std::uint32_t key_id = 0;
  ByteView header;      // 8 bytes
  ByteView nonce;       // 12 bytes
  ByteView sealed;      // ciphertext || tag
  std::size_t plaintext_size = 0;
};

// Parses and bounds-checks without decrypting. kIntegrity with "malformed envelope",
// "unsupported envelope version" or "unsupported algorithm".
Result<EnvelopeView> parse_envelope(ByteView envelope);

// Seals with a fresh nonce from `random` (a failing RNG fails closed with kRuntime).
Result<Bytes> seal_envelope(const SecureKey& key, std::uint32_t key_id, std::string_view label,
                            ByteView context, ByteView plaintext, Random& random);

// Opens an envelope whose key_id must equal `expected_key_id` (else kIntegrity). Wipes `out`
// on failure.
Status open_envelope(const SecureKey& key, std::uint32_t expected_key_id, std::string_view label,
                     ByteView context, ByteView envelope, SecretValue& out);
// Same, for a wrapped 32-byte key (plaintext must be exactly 32 bytes).
Result<SecureKey> open_wrapped_key(const SecureKey& kek, std::uint32_t kek_generation,
                                   std::string_view purpose, std::uint32_t key_id,
                                   ByteView store_id, ByteView envelope);
Result<Bytes> wrap_key(const SecureKey& kek, std::uint32_t kek_generation, std::string_view purpose,
                       std::uint32_t key_id, ByteView store_id, const SecureKey& key,
                       Random& random);

}  // namespace lockbox::store
