#include "store/key_schedule.hpp"

#include "store/crypto.hpp"

namespace lockbox::store {

namespace {

constexpr std::string_view kLabelKek = "lockbox/v1/kek";
constexpr std::string_view kLabelKcv = "lockbox/v1/kcv";
constexpr std::string_view kLabelAuditChain = "lockbox/v1/audit-chain";
constexpr std::string_view kLabelFingerprint = "lockbox/v1/fingerprint";
constexpr std::size_t kKcvSize = 32;
constexpr std::size_t kFingerprintHexChars = 16;

// info = LP(label) || u32be(generation): the label separates KEK from KCV, so publishing a KCV
// reveals nothing about the KEK of the same generation.
Bytes generation_info(std::string_view label, std::uint32_t generation) {
  Bytes info;
  append_lp(info, label);
  append_u32be(info, generation);
  return info;
}

}  // namespace

Result<SecureKey> derive_kek(const SecureKey& master_key, ByteView store_id,
                             std::uint32_t generation) {
  return hkdf_key(master_key.bytes(), store_id, generation_info(kLabelKek, generation));
}

Result<Bytes> derive_kcv(const SecureKey& master_key, ByteView store_id, std::uint32_t generation) {
  Bytes kcv(kKcvSize);
  LOCKBOX_TRY(
      hkdf_sha256(master_key.bytes(), store_id, generation_info(kLabelKcv, generation), kcv));
  return kcv;
}

Result<SecureKey> derive_audit_chain_key(const SecureKey& audit_key, ByteView store_id) {
  Bytes info;
  append_lp(info, kLabelAuditChain);
  return hkdf_key(audit_key.bytes(), store_id, info);
}

Result<SecureKey> stretch_passphrase(const SecretValue& passphrase, ByteView salt,
                                     std::uint32_t iterations) {
  // An empty passphrase would give every such store the same key for a given salt.
  if (passphrase.empty()) return key_error("the master passphrase is empty");
  SecureKey key;
  LOCKBOX_TRY(
      pbkdf2_sha256(passphrase.reveal(), salt, iterations, {key.mutable_data(), SecureKey::kSize}));
  return key;
}

std::string fingerprint(const SecureKey& fingerprint_key, std::string_view scope_address,
                        std::string_view name, std::string_view value) {
  // The message holds the plaintext value: size it exactly so it never reallocates (which would
  // leave an unwiped copy behind), and wipe it afterwards.
  Bytes message;
  message.reserve(std::size_t{4} * 4 + kLabelFingerprint.size() + scope_address.size() +
                  name.size() + value.size());
  append_lp(message, kLabelFingerprint);
  append_lp(message, scope_address);
  append_lp(message, name);
  append_lp(message, value);
  Mac mac = hmac_sha256(fingerprint_key.bytes(), message);
  wipe(message.data(), message.size());
  std::string hex = to_hex(ByteView(mac).first(kFingerprintHexChars / 2));
  wipe(mac.data(), mac.size());
  return hex;
}

}  // namespace lockbox::store
