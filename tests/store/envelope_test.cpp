// Tamper, copy and swap resistance of the envelope (CRYPTO.md tests 4, 5, 6) and nonce freshness
// under concurrency (test 13).

#include "store/envelope.hpp"

#include <algorithm>
#include <array>
#include <catch2/catch.hpp>
#include <string>
#include <thread>
#include <vector>

#include "store/bytes.hpp"
#include "tests/store/crypto_test_util.hpp"

namespace lockbox::store {
namespace {

using testing::FailingRandom;
using testing::FixedRandom;
using testing::hex;
using testing::key_from_hex;

constexpr const char* kStoreId = "4c4f434b424f582d4944000000000001";
constexpr const char* kKek1 = "6537a802128a151685438799780759c24d6a64762472711373b62709f0309f4a";
constexpr const char* kDek7 = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
constexpr const char* kUid = "11111111222233334444555555555555";
constexpr const char* kScope = "namespace:production";
constexpr const char* kName = "DB_PASSWORD";
constexpr const char* kWrapped7 =
    "4c42010100000001a0a1a2a3a4a5a6a7a8a9aaab3161d26923783d6b8e90d0ca7f79cf6888a2f58c197c9d96b02a"
    "7017e9fca3554ebb8afec86179519cd1acc4a013f982";
constexpr const char* kWrapped8 =
    "4c42010100000001c0c1c2c3c4c5c6c7c8c9cacbda7f9ce6c1b59f0f47911badf823fa516563bf42ebf481693c88"
    "af851d361c2045c3b963c491d51b89f12850bd9c631d";
constexpr const char* kEnvelope =
    "4c42010100000007b0b1b2b3b4b5b6b7b8b9babb5e8f4433f751faa20971825b1efddf6386f75ecae35c00";

Bytes golden_context() {
  return secret_aad_context(hex(kStoreId), kScope, kName, hex(kUid), 3);
}

Status open_golden(ByteView envelope, std::uint32_t expected_key_id = 7) {
  SecretValue out;
  const Status s = open_envelope(key_from_hex(kDek7), expected_key_id, kLabelSecretValue,
                                 golden_context(), envelope, out);
  if (!s.is_ok()) CHECK(out.empty());
  return s;
}

Status open_wrapped7(ByteView envelope) {
  return open_wrapped_key(key_from_hex(kKek1), 1, "data", 7, hex(kStoreId), envelope).status();
}

// Runs `open` on every single-bit flip, truncation and extension of `good`.
template <typename Open>
void check_every_mutation_rejected(const Bytes& good, Open open) {
  REQUIRE(open(good).is_ok());
  for (std::size_t i = 0; i < good.size(); ++i) {
    for (int bit = 0; bit < 8; ++bit) {
      Bytes bad = good;
      bad[i] ^= static_cast<std::uint8_t>(1U << bit);
      INFO("byte " << i << " bit " << bit);
      CHECK_FALSE(open(bad).is_ok());
    }
  }
  for (std::size_t len = 0; len < good.size(); ++len) {
    INFO("truncated to " << len);
    // A fresh allocation of exactly `len` bytes, so ASan sees any read past the end.
    const Bytes bad(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(len));
    CHECK_FALSE(open(bad).is_ok());
  }
  for (const std::uint8_t fill : std::initializer_list<std::uint8_t>{0x00, 0x01, 0xff}) {
    for (std::size_t extra = 1; extra <= 33; ++extra) {
      INFO("extended by " << extra << " bytes of " << int(fill));
      Bytes bad = good;
      bad.insert(bad.end(), extra, fill);
      CHECK_FALSE(open(bad).is_ok());
    }
  }
}

TEST_CASE("envelope rejects every bit flip, truncation and extension", "[store][crypto]") {
  check_every_mutation_rejected(hex(kEnvelope), [](ByteView e) { return open_golden(e); });
}

TEST_CASE("wrapped key rejects every bit flip, truncation and extension", "[store][crypto]") {
  check_every_mutation_rejected(hex(kWrapped7), [](ByteView e) { return open_wrapped7(e); });
}

TEST_CASE("envelope with another format version is unsupported", "[store][crypto]") {
  for (const std::uint8_t version : std::initializer_list<std::uint8_t>{0x00, 0x02, 0xff}) {
    Bytes bad = hex(kEnvelope);
    bad[2] = version;
    const Status s = open_golden(bad);
    CHECK(s.code() == StatusCode::kIntegrity);
    CHECK_THAT(s.message(), Catch::Contains("unsupported envelope version"));
  }
}

TEST_CASE("envelope with another algorithm is unsupported", "[store][crypto]") {
  for (const std::uint8_t alg : std::initializer_list<std::uint8_t>{0x00, 0x02, 0xff}) {
    Bytes bad = hex(kEnvelope);
    bad[3] = alg;
    const Status s = open_golden(bad);
    CHECK(s.code() == StatusCode::kIntegrity);
    CHECK_THAT(s.message(), Catch::Contains("unsupported algorithm"));
  }
}

TEST_CASE("envelope with a bad magic or too short is malformed", "[store][crypto]") {
  Bytes bad = hex(kEnvelope);
  bad[0] = 'X';
  CHECK_THAT(open_golden(bad).message(), Catch::Contains("malformed envelope"));
  const Bytes header_only(bad.begin(), bad.begin() + static_cast<std::ptrdiff_t>(kHeaderSize));
  CHECK_THAT(parse_envelope(header_only).status().message(), Catch::Contains("malformed"));
}

TEST_CASE("envelope whose key id is rewritten is rejected", "[store][crypto]") {
  Bytes bad = hex(kEnvelope);
  bad[7] = 8;  // key_id 7 -> 8
  // The row still says DEK 7: the header no longer matches it.
  CHECK(open_golden(bad, 7).code() == StatusCode::kIntegrity);
  // The attacker also rewrote the row's key-id column: the header is in the AAD.
  CHECK(open_golden(bad, 8).code() == StatusCode::kIntegrity);
  // Untouched envelope, but the row claims another key id.
  CHECK(open_golden(hex(kEnvelope), 8).code() == StatusCode::kIntegrity);
}

TEST_CASE("envelope rejects a ciphertext sealed for another row", "[store][crypto]") {
  const SecureKey dek = key_from_hex(kDek7);
  const Bytes store_id = hex(kStoreId);
  const Bytes uid = hex(kUid);
  Bytes other_store = store_id;
  other_store[15] ^= 0x02;
  Bytes other_uid = uid;  // the secret was deleted and recreated under the same name
  other_uid[0] ^= 0x01;
  const std::vector<std::pair<const char*, Bytes>> contexts = {
      {"other store", secret_aad_context(other_store, kScope, kName, uid, 3)},
      {"other scope", secret_aad_context(store_id, "namespace:staging", kName, uid, 3)},
      {"other name", secret_aad_context(store_id, kScope, "DB_USER", uid, 3)},
      {"recreated secret", secret_aad_context(store_id, kScope, kName, other_uid, 3)},
      {"other version", secret_aad_context(store_id, kScope, kName, uid, 2)},
      {"scope/name boundary",
       secret_aad_context(store_id, "namespace:productionD", "B_PASSWORD", uid, 3)},
  };
  const Bytes envelope = hex(kEnvelope);
  for (const auto& [what, context] : contexts) {
    INFO(what);
    SecretValue out;
    CHECK(open_envelope(dek, 7, kLabelSecretValue, context, envelope, out).code() ==
          StatusCode::kIntegrity);
    CHECK(out.empty());
  }
  SecretValue out;
  CHECK_FALSE(open_envelope(dek, 7, kLabelKeyWrap, golden_context(), envelope, out).is_ok());
}

TEST_CASE("wrapped keys cannot be swapped between key ids or purposes", "[store][crypto]") {
  const SecureKey kek = key_from_hex(kKek1);
  const Bytes store_id = hex(kStoreId);
  const Bytes wrapped7 = hex(kWrapped7);
  const Bytes wrapped8 = hex(kWrapped8);
  CHECK(open_wrapped_key(kek, 1, "data", 7, store_id, wrapped7).is_ok());
  CHECK(open_wrapped_key(kek, 1, "fingerprint", 8, store_id, wrapped8).is_ok());
  // Same purpose, another keyring row.
  CHECK_FALSE(open_wrapped_key(kek, 1, "data", 8, store_id, wrapped7).is_ok());
  CHECK_FALSE(open_wrapped_key(kek, 1, "fingerprint", 7, store_id, wrapped8).is_ok());
  // Same key id, another purpose.
  CHECK_FALSE(open_wrapped_key(kek, 1, "fingerprint", 7, store_id, wrapped7).is_ok());
  CHECK_FALSE(open_wrapped_key(kek, 1, "audit", 7, store_id, wrapped7).is_ok());
  CHECK_FALSE(open_wrapped_key(kek, 1, "data", 8, store_id, wrapped8).is_ok());
  // Another KEK generation column, and another store sharing the master key.
  CHECK_FALSE(open_wrapped_key(kek, 2, "data", 7, store_id, wrapped7).is_ok());
  Bytes other_store = store_id;
  other_store[0] ^= 0x01;
  CHECK_FALSE(open_wrapped_key(kek, 1, "data", 7, other_store, wrapped7).is_ok());
  // A wrapped key is not a secret value, and a secret value is not a wrapped key.
  SecretValue out;
  CHECK_FALSE(
      open_envelope(kek, 1, kLabelSecretValue, wrap_aad_context(store_id, "data", 7), wrapped7, out)
          .is_ok());
}

TEST_CASE("wrong-sized store id or uid cannot be used to seal or open", "[store][crypto]") {
  const SecureKey dek = key_from_hex(kDek7);
  const Bytes short_store(15, 0x01);
  const Bytes context = secret_aad_context(short_store, kScope, kName, hex(kUid), 3);
  CHECK(context.empty());
  FixedRandom random(Bytes(kNonceSize, 0x01));
  CHECK_FALSE(seal_envelope(dek, 7, kLabelSecretValue, context, as_bytes("x"), random).is_ok());
  CHECK(secret_aad_context(hex(kStoreId), kScope, kName, Bytes(17, 1), 3).empty());
  CHECK_FALSE(wrap_key(dek, 1, "data", 7, short_store, dek, random).is_ok());
}

TEST_CASE("seal fails closed when the random generator fails", "[store][crypto]") {
  FailingRandom random;
  const SecureKey dek = key_from_hex(kDek7);
  auto sealed =
      seal_envelope(dek, 7, kLabelSecretValue, golden_context(), as_bytes("hunter2"), random);
  CHECK_FALSE(sealed.is_ok());
  CHECK(sealed.status().code() == StatusCode::kRuntime);
  CHECK(random.calls() == 1);
  CHECK_FALSE(wrap_key(dek, 1, "data", 7, hex(kStoreId), dek, random).is_ok());
}

TEST_CASE("seal refuses an all-zero nonce from the random generator", "[store][crypto]") {
  FixedRandom random(Bytes(kNonceSize, 0x00));
  auto sealed = seal_envelope(key_from_hex(kDek7), 7, kLabelSecretValue, golden_context(),
                              as_bytes("hunter2"), random);
  CHECK(sealed.status().code() == StatusCode::kRuntime);
}

TEST_CASE("seal and open round-trip empty and large values", "[store][crypto]") {
  const SecureKey dek = key_from_hex(kDek7);
  for (const std::size_t size : {std::size_t{0}, std::size_t{1}, std::size_t{65536}}) {
    const std::string plain(size, 'v');
    auto sealed = seal_envelope(dek, 7, kLabelSecretValue, golden_context(), as_bytes(plain),
                                OsRandom::instance());
    REQUIRE(sealed.is_ok());
    CHECK(sealed->size() == size + kEnvelopeOverhead);
    auto view = parse_envelope(*sealed);
    REQUIRE(view.is_ok());
    CHECK(view->key_id == 7);
    CHECK(view->plaintext_size == size);
    SecretValue out;
    REQUIRE(open_envelope(dek, 7, kLabelSecretValue, golden_context(), *sealed, out).is_ok());
    CHECK(out.reveal() == plain);
  }
}

TEST_CASE("envelopes above the size bound are refused before decryption", "[store][crypto]") {
  Bytes huge = hex(kEnvelope);
  huge.resize(kMaxEnvelopeSize + 1, 0);
  CHECK_THAT(parse_envelope(huge).status().message(), Catch::Contains("malformed"));
  const std::string too_big(kMaxEnvelopeSize - kEnvelopeOverhead + 1, 'x');
  auto sealed = seal_envelope(key_from_hex(kDek7), 7, kLabelSecretValue, golden_context(),
                              as_bytes(too_big), OsRandom::instance());
  CHECK_FALSE(sealed.is_ok());
}

TEST_CASE("a million seals across four threads never repeat or zero a nonce",
          "[store][crypto][slow]") {
  constexpr int kThreads = 4;
  constexpr int kPerThread = 250000;
  using Nonce = std::array<std::uint8_t, kNonceSize>;
  const SecureKey dek = key_from_hex(kDek7);
  const Bytes context = golden_context();
  std::vector<std::vector<Nonce>> nonces(kThreads);
  std::vector<int> failures(kThreads, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      auto& mine = nonces[static_cast<std::size_t>(t)];
      mine.reserve(kPerThread);
      for (int i = 0; i < kPerThread; ++i) {
        auto sealed = seal_envelope(dek, 7, kLabelSecretValue, context, as_bytes("hunter2"),
                                    OsRandom::instance());
        if (!sealed.is_ok()) {
          ++failures[static_cast<std::size_t>(t)];
          continue;
        }
        Nonce n{};
        std::copy_n(sealed->begin() + kHeaderSize, kNonceSize, n.begin());
        mine.push_back(n);
      }
    });
  }
  for (auto& thread : threads) thread.join();
  std::vector<Nonce> all;
  all.reserve(static_cast<std::size_t>(kThreads) * kPerThread);
  for (int t = 0; t < kThreads; ++t) {
    CHECK(failures[static_cast<std::size_t>(t)] == 0);
    all.insert(all.end(), nonces[static_cast<std::size_t>(t)].begin(),
               nonces[static_cast<std::size_t>(t)].end());
  }
  REQUIRE(all.size() == static_cast<std::size_t>(kThreads) * kPerThread);
  std::sort(all.begin(), all.end());
  CHECK(std::adjacent_find(all.begin(), all.end()) == all.end());
  CHECK(std::find(all.begin(), all.end(), Nonce{}) == all.end());
}

}  // namespace
}  // namespace lockbox::store
