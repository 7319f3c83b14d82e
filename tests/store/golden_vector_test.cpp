// CRYPTO.md's golden vector, byte for byte (test 3). These bytes are a persistent format: once
// shipped they never change, so a failure here means stored data would stop opening.

#include <catch2/catch.hpp>
#include <string>

#include "store/bytes.hpp"
#include "store/envelope.hpp"
#include "store/key_schedule.hpp"
#include "tests/store/crypto_test_util.hpp"

namespace lockbox::store {
namespace {

using testing::FixedRandom;
using testing::hex;
using testing::hex_of;
using testing::key_from_hex;

constexpr const char* kMk = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
constexpr const char* kStoreId = "4c4f434b424f582d4944000000000001";
constexpr const char* kKek1 = "6537a802128a151685438799780759c24d6a64762472711373b62709f0309f4a";
constexpr const char* kKcv1 = "51e4690aacb2c597e3ce9b76bdb374e9618b99aa74ab84e2bc9cc29a30b7e481";
constexpr const char* kDek7 = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
constexpr const char* kWrapNonce7 = "a0a1a2a3a4a5a6a7a8a9aaab";
constexpr const char* kAadWrap7 =
    "000000136c6f636b626f782f76312f6b65792d777261704c420101000000014c4f434b424f582d49440000000000"
    "01000000046461746100000007";
constexpr const char* kWrapped7 =
    "4c42010100000001a0a1a2a3a4a5a6a7a8a9aaab3161d26923783d6b8e90d0ca7f79cf6888a2f58c197c9d96b02a"
    "7017e9fca3554ebb8afec86179519cd1acc4a013f982";
constexpr const char* kFpKey8 = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";
constexpr const char* kWrapNonce8 = "c0c1c2c3c4c5c6c7c8c9cacb";
constexpr const char* kAadWrap8 =
    "000000136c6f636b626f782f76312f6b65792d777261704c420101000000014c4f434b424f582d49440000000000"
    "010000000b66696e6765727072696e7400000008";
constexpr const char* kWrapped8 =
    "4c42010100000001c0c1c2c3c4c5c6c7c8c9cacbda7f9ce6c1b59f0f47911badf823fa516563bf42ebf481693c88"
    "af851d361c2045c3b963c491d51b89f12850bd9c631d";
constexpr const char* kScope = "namespace:production";
constexpr const char* kName = "DB_PASSWORD";
constexpr const char* kUid = "11111111222233334444555555555555";
constexpr std::uint64_t kVersion = 3;
constexpr const char* kSecretNonce = "b0b1b2b3b4b5b6b7b8b9babb";
constexpr const char* kAadSecret =
    "000000176c6f636b626f782f76312f7365637265742d76616c75654c420101000000074c4f434b424f582d494400"
    "0000000001000000146e616d6573706163653a70726f64756374696f6e0000000b44425f50415353574f52441111"
    "11112222333344445555555555550000000000000003";
constexpr const char* kEnvelope =
    "4c42010100000007b0b1b2b3b4b5b6b7b8b9babb5e8f4433f751faa20971825b1efddf6386f75ecae35c00";
constexpr const char* kFingerprint = "ff56005238fc0a2d";

Bytes header(std::uint32_t key_id) {
  Bytes h{'L', 'B', kEnvelopeVersion1, kAlgAes256Gcm};
  append_u32be(h, key_id);
  return h;
}

TEST_CASE("golden vector: KEK_1 and KCV_1 derive from the master key", "[store][crypto]") {
  const SecureKey mk = key_from_hex(kMk);
  auto kek = derive_kek(mk, hex(kStoreId), 1);
  REQUIRE(kek.is_ok());
  CHECK(hex_of(kek->bytes()) == kKek1);
  auto kcv = derive_kcv(mk, hex(kStoreId), 1);
  REQUIRE(kcv.is_ok());
  CHECK(hex_of(*kcv) == kKcv1);
}

TEST_CASE("golden vector: key-wrap AAD bytes", "[store][crypto]") {
  const Bytes store_id = hex(kStoreId);
  CHECK(hex_of(build_aad(kLabelKeyWrap, header(1), wrap_aad_context(store_id, "data", 7))) ==
        kAadWrap7);
  CHECK(hex_of(build_aad(kLabelKeyWrap, header(1), wrap_aad_context(store_id, "fingerprint", 8))) ==
        kAadWrap8);
}

TEST_CASE("golden vector: secret-value AAD bytes", "[store][crypto]") {
  const Bytes context = secret_aad_context(hex(kStoreId), kScope, kName, hex(kUid), kVersion);
  CHECK(hex_of(build_aad(kLabelSecretValue, header(7), context)) == kAadSecret);
}

TEST_CASE("golden vector: wrapping DEK_7 and FPKEY_8 under KEK_1", "[store][crypto]") {
  const SecureKey kek = key_from_hex(kKek1);
  const Bytes store_id = hex(kStoreId);
  FixedRandom random7(hex(kWrapNonce7));
  auto wrapped7 = wrap_key(kek, 1, "data", 7, store_id, key_from_hex(kDek7), random7);
  REQUIRE(wrapped7.is_ok());
  CHECK(hex_of(*wrapped7) == kWrapped7);
  CHECK(random7.remaining() == 0);

  FixedRandom random8(hex(kWrapNonce8));
  auto wrapped8 = wrap_key(kek, 1, "fingerprint", 8, store_id, key_from_hex(kFpKey8), random8);
  REQUIRE(wrapped8.is_ok());
  CHECK(hex_of(*wrapped8) == kWrapped8);
}

TEST_CASE("golden vector: stored wrapped keys unwrap with the master key", "[store][crypto]") {
  const Bytes store_id = hex(kStoreId);
  auto kek = derive_kek(key_from_hex(kMk), store_id, 1);
  REQUIRE(kek.is_ok());
  auto dek = open_wrapped_key(*kek, 1, "data", 7, store_id, hex(kWrapped7));
  REQUIRE(dek.is_ok());
  CHECK(hex_of(dek->bytes()) == kDek7);
  auto fpkey = open_wrapped_key(*kek, 1, "fingerprint", 8, store_id, hex(kWrapped8));
  REQUIRE(fpkey.is_ok());
  CHECK(hex_of(fpkey->bytes()) == kFpKey8);
}

TEST_CASE("golden vector: sealing hunter2 gives ENVELOPE", "[store][crypto]") {
  const Bytes context = secret_aad_context(hex(kStoreId), kScope, kName, hex(kUid), kVersion);
  FixedRandom random(hex(kSecretNonce));
  auto envelope = seal_envelope(key_from_hex(kDek7), 7, kLabelSecretValue, context,
                                as_bytes("hunter2"), random);
  REQUIRE(envelope.is_ok());
  CHECK(hex_of(*envelope) == kEnvelope);
  CHECK(envelope->size() == 7 + kEnvelopeOverhead);
}

TEST_CASE("golden vector: ENVELOPE opens to hunter2", "[store][crypto]") {
  const Bytes context = secret_aad_context(hex(kStoreId), kScope, kName, hex(kUid), kVersion);
  SecretValue value;
  REQUIRE(open_envelope(key_from_hex(kDek7), 7, kLabelSecretValue, context, hex(kEnvelope), value)
              .is_ok());
  CHECK(value.reveal() == "hunter2");
}

TEST_CASE("golden vector: fingerprint of hunter2 under FPKEY_8", "[store][crypto]") {
  CHECK(fingerprint(key_from_hex(kFpKey8), kScope, kName, "hunter2") == kFingerprint);
}

}  // namespace
}  // namespace lockbox::store
