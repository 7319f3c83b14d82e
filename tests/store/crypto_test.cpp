// Known answers and failure behaviour of the primitives in store/crypto.hpp and the encodings of
// store/bytes.hpp (CRYPTO.md tests 1 and 2).

#include "store/crypto.hpp"

#include <array>
#include <catch2/catch.hpp>
#include <string>

#include "store/bytes.hpp"
#include "tests/store/crypto_test_util.hpp"

namespace lockbox::store {
namespace {

using testing::hex;
using testing::hex_of;
using testing::key_from_hex;

struct GcmVector {
  const char* key;
  const char* iv;
  const char* aad;
  const char* pt;
  const char* ct;
  const char* tag;
};

// NIST vector used by OpenSSL's demos/cipher/aesgcm.c.
constexpr GcmVector kOpensslDemo = {
    "eebc1f57487f51921c0465665f8ae6d1658bb26de6f8a069a3520293a572078f",
    "99aa3e68ed8173a0eed06684",
    "4d23c3cec334b49bdb370c437fec78de",
    "f56e87055bc32d0eeb31b2eacc2bf2a5",
    "f7264413a84c0e7cd536867eb9f21736",
    "67ba0510262ae487d737ee6298f77e0c",
};

// The GCM specification (McGrew & Viega), appendix B, test case 16.
constexpr GcmVector kGcmSpecCase16 = {
    "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
    "cafebabefacedbaddecaf888",
    "feedfacedeadbeeffeedfacedeadbeefabaddad2",
    "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a72"
    "1c3c0c95956809532fcf0e2449a6b525b16aedf5aa0de657ba637b39",
    "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
    "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662",
    "76fc6ece0f4e1768cddf8853bb2d551b",
};

std::array<std::uint8_t, kNonceSize> nonce_of(const char* text) {
  const Bytes bytes = hex(text);
  std::array<std::uint8_t, kNonceSize> nonce{};
  REQUIRE(bytes.size() == kNonceSize);
  std::copy(bytes.begin(), bytes.end(), nonce.begin());
  return nonce;
}

void check_known_answer(const GcmVector& v) {
  const SecureKey key = key_from_hex(v.key);
  const auto nonce = nonce_of(v.iv);
  const Bytes aad = hex(v.aad);
  const Bytes pt = hex(v.pt);
  Bytes sealed;
  REQUIRE(aes_gcm_seal(key, nonce, aad, pt, sealed).is_ok());
  CHECK(hex_of(sealed) == std::string(v.ct) + v.tag);

  Bytes opened(pt.size());
  REQUIRE(aes_gcm_open(key, nonce, aad, sealed, opened).is_ok());
  CHECK(opened == pt);
}

TEST_CASE("aes-256-gcm matches the NIST vector of OpenSSL's aesgcm demo", "[store][crypto]") {
  check_known_answer(kOpensslDemo);
}

TEST_CASE("aes-256-gcm matches GCM spec test case 16", "[store][crypto]") {
  check_known_answer(kGcmSpecCase16);
}

TEST_CASE("aes-256-gcm open rejects every truncated tag", "[store][crypto]") {
  const SecureKey key = key_from_hex(kOpensslDemo.key);
  const auto nonce = nonce_of(kOpensslDemo.iv);
  const Bytes aad = hex(kOpensslDemo.aad);
  const Bytes ct = hex(kOpensslDemo.ct);
  const Bytes tag = hex(kOpensslDemo.tag);
  for (std::size_t k = 0; k < kTagSize; ++k) {
    INFO("tag bytes kept: " << k);
    // ciphertext || tag[0..k): the wrapper always takes the last 16 bytes as the tag.
    Bytes sealed = ct;
    sealed.insert(sealed.end(), tag.begin(), tag.begin() + static_cast<std::ptrdiff_t>(k));
    Bytes out(sealed.size() - kTagSize);
    const Status s = aes_gcm_open(key, nonce, aad, sealed, out);
    CHECK(s.code() == StatusCode::kIntegrity);
    // The tag alone, shorter than 16 bytes: refused before OpenSSL sees it.
    const Bytes short_tag(tag.begin(), tag.begin() + static_cast<std::ptrdiff_t>(k));
    CHECK(aes_gcm_open(key, nonce, aad, short_tag, {}).code() == StatusCode::kIntegrity);
  }
}

TEST_CASE("aes-256-gcm open wipes the output when authentication fails", "[store][crypto]") {
  const SecureKey key = key_from_hex(kGcmSpecCase16.key);
  const auto nonce = nonce_of(kGcmSpecCase16.iv);
  const Bytes aad = hex(kGcmSpecCase16.aad);
  const Bytes good = hex(std::string(kGcmSpecCase16.ct) + kGcmSpecCase16.tag);
  const Bytes zeros(good.size() - kTagSize, 0);

  auto expect_rejected = [&](const SecureKey& k, std::span<const std::uint8_t, kNonceSize> n,
                             ByteView a, ByteView sealed) {
    Bytes out(good.size() - kTagSize, 0xAA);
    CHECK(aes_gcm_open(k, n, a, sealed, out).code() == StatusCode::kIntegrity);
    CHECK(out == zeros);
  };
  Bytes bad_tag = good;
  bad_tag.back() ^= 0x01;
  expect_rejected(key, nonce, aad, bad_tag);
  Bytes bad_ct = good;
  bad_ct[0] ^= 0x80;
  expect_rejected(key, nonce, aad, bad_ct);
  Bytes bad_aad = aad;
  bad_aad[3] ^= 0x10;
  expect_rejected(key, nonce, bad_aad, good);
  auto bad_nonce = nonce;
  bad_nonce[11] ^= 0x01;
  expect_rejected(key, bad_nonce, aad, good);
  Bytes other_key_bytes = hex(kGcmSpecCase16.key);
  other_key_bytes[0] ^= 0x01;
  expect_rejected(SecureKey(other_key_bytes), nonce, aad, good);
}

TEST_CASE("aes-256-gcm open refuses an output buffer of the wrong size", "[store][crypto]") {
  const SecureKey key = key_from_hex(kOpensslDemo.key);
  const Bytes sealed = hex(std::string(kOpensslDemo.ct) + kOpensslDemo.tag);
  Bytes out(sealed.size());  // 16 bytes too many
  CHECK_FALSE(
      aes_gcm_open(key, nonce_of(kOpensslDemo.iv), hex(kOpensslDemo.aad), sealed, out).is_ok());
}

TEST_CASE("aes-256-gcm seals and opens an empty plaintext with empty aad", "[store][crypto]") {
  const SecureKey key = key_from_hex(kOpensslDemo.key);
  const auto nonce = nonce_of(kOpensslDemo.iv);
  Bytes sealed;
  REQUIRE(aes_gcm_seal(key, nonce, {}, {}, sealed).is_ok());
  CHECK(sealed.size() == kTagSize);
  CHECK(aes_gcm_open(key, nonce, {}, sealed, {}).is_ok());
}

TEST_CASE("hkdf-sha256 matches RFC 5869 A.1", "[store][crypto]") {
  const Bytes ikm(22, 0x0b);
  const Bytes salt = hex("000102030405060708090a0b0c");
  const Bytes info = hex("f0f1f2f3f4f5f6f7f8f9");
  Bytes okm(42);
  REQUIRE(hkdf_sha256(ikm, salt, info, okm).is_ok());
  CHECK(hex_of(okm) ==
        "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865");

  auto key = hkdf_key(ikm, salt, info);
  REQUIRE(key.is_ok());
  CHECK(hex_of(key->bytes()) == hex_of(ByteView(okm).first(32)));
}

TEST_CASE("hkdf-sha256 refuses output lengths outside 1..8160 and empty key material",
          "[store][crypto]") {
  const Bytes ikm(32, 0x01);
  Bytes none;
  CHECK_FALSE(hkdf_sha256(ikm, {}, {}, none).is_ok());
  Bytes too_long(255 * 32 + 1);
  CHECK_FALSE(hkdf_sha256(ikm, {}, {}, too_long).is_ok());
  Bytes longest(255 * 32);
  CHECK(hkdf_sha256(ikm, {}, {}, longest).is_ok());
  Bytes out(32);
  CHECK_FALSE(hkdf_sha256({}, {}, {}, out).is_ok());
}

TEST_CASE("pbkdf2-hmac-sha256 matches RFC 7914 section 11", "[store][crypto]") {
  Bytes out(64);
  REQUIRE(pbkdf2_sha256("passwd", as_bytes("salt"), 1, out).is_ok());
  CHECK(hex_of(out) ==
        "55ac046e56e3089fec1691c22544b605f94185216dde0465e68b9d57c20dacbc"
        "49ca9cccf179b645991664b39d77ef317c71b845b1e30bd509112041d3a19783");
  REQUIRE(pbkdf2_sha256("Password", as_bytes("NaCl"), 80000, out).is_ok());
  CHECK(hex_of(out) ==
        "4ddcd8f60b98be21830cee5ef22701f9641a4418d04c0414aeff08876b34ab56"
        "a1d425a1225833549adb841b51c9b3176a272bdebba1d078478f62b397f33c8d");
}

TEST_CASE("pbkdf2-hmac-sha256 refuses zero iterations", "[store][crypto]") {
  Bytes out(32);
  CHECK_FALSE(pbkdf2_sha256("passwd", as_bytes("salt"), 0, out).is_ok());
}

TEST_CASE("hmac-sha256 matches RFC 4231 test cases 1 and 2", "[store][crypto]") {
  const Bytes key1(20, 0x0b);
  CHECK(hex_of(hmac_sha256(key1, as_bytes("Hi There"))) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  CHECK(hex_of(hmac_sha256(as_bytes("Jefe"), as_bytes("what do ya want for nothing?"))) ==
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

TEST_CASE("hmac-sha256 accepts an empty key and an empty message", "[store][crypto]") {
  CHECK(hex_of(hmac_sha256({}, {})) ==
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

TEST_CASE("a keyed HmacKey gives hmac-sha256's MACs, call after call and after a move",
          "[store][crypto]") {
  const HmacKey jefe(as_bytes("Jefe"));
  for (int i = 0; i < 3; ++i) {  // the keyed context is copied, never consumed
    CHECK(hex_of(jefe.mac(as_bytes("what do ya want for nothing?"))) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
  }
  HmacKey moved(Bytes(20, 0x0b));
  const HmacKey key1(std::move(moved));
  CHECK(hex_of(key1.mac(as_bytes("Hi There"))) ==
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
  const HmacKey empty;  // the empty key, as hmac_sha256({}, ...)
  CHECK(hex_of(empty.mac({})) ==
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
  const Bytes long_key(200, 0x5a);  // longer than a block: hashed first, as RFC 2104 says
  CHECK(HmacKey(long_key).mac(as_bytes("m")) == hmac_sha256(long_key, as_bytes("m")));
}

TEST_CASE("constant-time equality compares sizes and contents", "[store][crypto]") {
  const Bytes a = hex("00112233");
  CHECK(constant_time_equal(a, hex("00112233")));
  CHECK_FALSE(constant_time_equal(a, hex("00112234")));
  CHECK_FALSE(constant_time_equal(a, hex("001122")));
  CHECK(constant_time_equal({}, {}));
}

TEST_CASE("LP encoding prefixes a big-endian 32-bit length", "[store][crypto]") {
  Bytes out;
  append_lp(out, "ab");
  append_lp(out, std::string_view());
  append_u32be(out, 0x01020304U);
  append_u64be(out, 0x0102030405060708ULL);
  CHECK(hex_of(out) ==
        "0000000261620000000001020304"
        "0102030405060708");
  CHECK(read_u32be(out.data() + 10) == 0x01020304U);
}

TEST_CASE("hex decoding accepts both cases and rejects odd lengths and non-hex",
          "[store][crypto]") {
  Bytes out;
  CHECK(from_hex("00aBcDeF", out));
  CHECK(to_hex(out) == "00abcdef");
  CHECK_FALSE(from_hex("abc", out));
  CHECK(out.empty());
  CHECK_FALSE(from_hex("zz", out));
  CHECK_FALSE(from_hex("0 ", out));
  CHECK(from_hex("", out));
  CHECK(out.empty());
}

}  // namespace
}  // namespace lockbox::store
