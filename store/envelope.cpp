#include "store/envelope.hpp"

#include <array>
#include <string>
#include <utility>

namespace lockbox::store {

namespace {

constexpr std::uint8_t kMagic0 = 'L';
constexpr std::uint8_t kMagic1 = 'B';
constexpr std::size_t kNonceOffset = kHeaderSize;
constexpr std::size_t kSealedOffset = kHeaderSize + kNonceSize;

Bytes make_header(std::uint32_t key_id) {
  Bytes header{kMagic0, kMagic1, kEnvelopeVersion1, kAlgAes256Gcm};
  append_u32be(header, key_id);
  return header;
}

// The AAD encoding is injective only because store_id and secret_uid have fixed sizes. The
// context builders cannot return an error, so a wrong-sized input yields an empty context,
// which seal and open refuse: a caller bug fails closed instead of weakening the binding.
Status check_context(ByteView context) {
  if (context.empty()) return runtime_error("invalid associated data (wrong store id or uid size)");
  return Status::ok();
}

// Parses, then checks the key id against the one the caller's row says it must be.
Result<EnvelopeView> parse_for_key(ByteView envelope, std::uint32_t expected_key_id) {
  LOCKBOX_ASSIGN_OR_RETURN(EnvelopeView view, parse_envelope(envelope));
  if (view.key_id != expected_key_id) {
    return integrity_error("envelope key id " + std::to_string(view.key_id) +
                           " does not match the expected key id " +
                           std::to_string(expected_key_id));
  }
  return view;
}

Status open_view(const SecureKey& key, const EnvelopeView& view, std::string_view label,
                 ByteView context, std::span<std::uint8_t> out) {
  const Bytes aad = build_aad(label, view.header, context);
  return aes_gcm_open(key, view.nonce.first<kNonceSize>(), aad, view.sealed, out);
}

}  // namespace

Bytes secret_aad_context(ByteView store_id, std::string_view scope_address, std::string_view name,
                         ByteView secret_uid, std::uint64_t version) {
  if (store_id.size() != kStoreIdSize || secret_uid.size() != kSecretUidSize) return {};
  Bytes out;
  out.reserve(kStoreIdSize + 8 + scope_address.size() + name.size() + kSecretUidSize + 8);
  append_raw(out, store_id);
  append_lp(out, scope_address);
  append_lp(out, name);
  append_raw(out, secret_uid);
  append_u64be(out, version);
  return out;
}

Bytes wrap_aad_context(ByteView store_id, std::string_view purpose, std::uint32_t key_id) {
  if (store_id.size() != kStoreIdSize) return {};
  Bytes out;
  out.reserve(kStoreIdSize + 4 + purpose.size() + 4);
  append_raw(out, store_id);
  append_lp(out, purpose);
  append_u32be(out, key_id);
  return out;
}

Bytes build_aad(std::string_view label, ByteView header, ByteView context) {
  Bytes out;
  out.reserve(4 + label.size() + header.size() + context.size());
  append_lp(out, label);
  append_raw(out, header);
  append_raw(out, context);
  return out;
}

Result<EnvelopeView> parse_envelope(ByteView envelope) {
  // Every check reads only bytes the size check has proven present.
  if (envelope.size() < kEnvelopeOverhead || envelope.size() > kMaxEnvelopeSize) {
    return integrity_error("malformed envelope");
  }
  if (envelope[0] != kMagic0 || envelope[1] != kMagic1) {
    return integrity_error("malformed envelope");
  }
  // No fallback to another version or alg: a downgrade must never be silent.
  if (envelope[2] != kEnvelopeVersion1) {
    return integrity_error("unsupported envelope version " + std::to_string(envelope[2]));
  }
  if (envelope[3] != kAlgAes256Gcm) {
    return integrity_error("unsupported algorithm " + std::to_string(envelope[3]));
  }
  EnvelopeView view;
  view.key_id = read_u32be(envelope.data() + 4);
  view.header = envelope.first(kHeaderSize);
  view.nonce = envelope.subspan(kNonceOffset, kNonceSize);
  view.sealed = envelope.subspan(kSealedOffset);
  view.plaintext_size = envelope.size() - kEnvelopeOverhead;
  return view;
}

Result<Bytes> seal_envelope(const SecureKey& key, std::uint32_t key_id, std::string_view label,
                            ByteView context, ByteView plaintext, Random& random) {
  LOCKBOX_TRY(check_context(context));
  if (plaintext.size() > kMaxEnvelopeSize - kEnvelopeOverhead) {
    return bad_input("value too large to encrypt (limit " +
                     std::to_string(kMaxEnvelopeSize - kEnvelopeOverhead) + " bytes)");
  }
  std::array<std::uint8_t, kNonceSize> nonce{};
  const Status drawn = random.fill(nonce);
  if (!drawn.is_ok()) return drawn.with_context("cannot draw a nonce");
  // A real generator yields twelve zero bytes with probability 2^-96; seeing them means the
  // generator is broken (or stubbed), and a nonce reused under GCM leaks the auth key.
  std::uint8_t any = 0;
  for (const std::uint8_t b : nonce) any = static_cast<std::uint8_t>(any | b);
  if (any == 0) return runtime_error("cannot draw a nonce: random number generator returned zeros");

  Bytes envelope = make_header(key_id);
  const Bytes aad = build_aad(label, envelope, context);
  Bytes sealed;
  LOCKBOX_TRY(aes_gcm_seal(key, nonce, aad, plaintext, sealed));
  envelope.reserve(kEnvelopeOverhead + plaintext.size());
  append_raw(envelope, nonce);
  append_raw(envelope, sealed);
  return envelope;
}

Status open_envelope(const SecureKey& key, std::uint32_t expected_key_id, std::string_view label,
                     ByteView context, ByteView envelope, SecretValue& out) {
  out.clear();
  LOCKBOX_TRY(check_context(context));
  LOCKBOX_ASSIGN_OR_RETURN(const EnvelopeView view, parse_for_key(envelope, expected_key_id));
  std::uint8_t* plain = out.resize_for_write(view.plaintext_size);
  Status opened = open_view(key, view, label, context, {plain, view.plaintext_size});
  if (!opened.is_ok()) {
    out.clear();
    return opened;
  }
  return Status::ok();
}

Result<SecureKey> open_wrapped_key(const SecureKey& kek, std::uint32_t kek_generation,
                                   std::string_view purpose, std::uint32_t key_id,
                                   ByteView store_id, ByteView envelope) {
  const std::string what = "wrapped " + std::string(purpose) + " key " + std::to_string(key_id);
  const Bytes context = wrap_aad_context(store_id, purpose, key_id);
  LOCKBOX_TRY(check_context(context));
  auto parsed = parse_for_key(envelope, kek_generation);
  if (!parsed.is_ok()) return parsed.status().with_context(what);
  if (parsed->plaintext_size != SecureKey::kSize) {
    return integrity_error(what + ": malformed envelope (not a 32-byte key)");
  }
  // Decrypt straight into the secure heap so the key never sits in an ordinary buffer.
  SecureKey key;
  const Status opened =
      open_view(kek, *parsed, kLabelKeyWrap, context, {key.mutable_data(), SecureKey::kSize});
  if (!opened.is_ok()) return opened.with_context(what);
  return key;
}

Result<Bytes> wrap_key(const SecureKey& kek, std::uint32_t kek_generation, std::string_view purpose,
                       std::uint32_t key_id, ByteView store_id, const SecureKey& key,
                       Random& random) {
  const Bytes context = wrap_aad_context(store_id, purpose, key_id);
  return seal_envelope(kek, kek_generation, kLabelKeyWrap, context, key.bytes(), random);
}

}  // namespace lockbox::store
