#pragma once
// The key hierarchy of CRYPTO.md, as pure functions:
//   KEK_k = HKDF-SHA256(MK, salt=store_id, info=LP("lockbox/v1/kek") || u32be(k))
//   KCV_k = HKDF-SHA256(MK, salt=store_id, info=LP("lockbox/v1/kcv") || u32be(k))   (32 bytes)
//   fingerprint = hex(HMAC-SHA256(FPKEY, LP("lockbox/v1/fingerprint") || LP(scope) || LP(name)
//                 || LP(value)))[:16]
//   audit chain key = HKDF-SHA256(AUDITKEY, salt=store_id, info=LP("lockbox/v1/audit-chain"))
// Thread-safety: pure.

#include <cstdint>
#include <string>
#include <string_view>

#include "core/secret_value.hpp"
#include "core/secure_key.hpp"
#include "core/status.hpp"
#include "store/bytes.hpp"

namespace lockbox::store {

inline constexpr std::uint32_t kPassphraseIterations = 600000;

Result<SecureKey> derive_kek(const SecureKey& master_key, ByteView store_id, std::uint32_t generation);
Result<Bytes> derive_kcv(const SecureKey& master_key, ByteView store_id, std::uint32_t generation);
Result<SecureKey> derive_audit_chain_key(const SecureKey& audit_key, ByteView store_id);
// Stretches a passphrase into a 32-byte master key (PBKDF2-HMAC-SHA256).
Result<SecureKey> stretch_passphrase(const SecretValue& passphrase, ByteView salt,
                                     std::uint32_t iterations);

// 16 lower-case hex characters.
std::string fingerprint(const SecureKey& fingerprint_key, std::string_view scope_address,
                        std::string_view name, std::string_view value);

}  // namespace lockbox::store
