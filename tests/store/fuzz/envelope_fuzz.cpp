// libFuzzer harness for store/envelope (not part of the default build). Build, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -o envelope_fuzz
//     tests/store/fuzz/envelope_fuzz.cpp store/envelope.cpp store/crypto.cpp store/bytes.cpp
//     core/secure_key.cpp core/secret_value.cpp core/random.cpp core/status.cpp -lcrypto
// (one command, from the repository root), then ./envelope_fuzz -max_len=4096.
// scripts/fuzz.sh runs exactly this command, then the fuzzer on the seed
// corpus in tests/store/fuzz/envelope_corpus.
// It checks the envelope's contract on arbitrary bytes: parsing never reads out of bounds and
// agrees with the documented layout; an envelope that was not sealed under the key and AAD never
// opens; sealing the input and flipping any one byte (picked by the input) never opens; and the
// untouched seal opens to exactly the input.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "core/random.hpp"
#include "core/secret_value.hpp"
#include "core/secure_key.hpp"
#include "store/envelope.hpp"

namespace {

using lockbox::SecretValue;
using lockbox::SecureKey;
namespace store = lockbox::store;

void require(bool ok) {
  if (!ok) std::abort();
}

const SecureKey& fixed_key() {
  static const SecureKey key = [] {
    std::uint8_t bytes[SecureKey::kSize];
    for (std::size_t i = 0; i < sizeof bytes; ++i) bytes[i] = static_cast<std::uint8_t>(i * 7 + 1);
    return SecureKey(bytes);
  }();
  return key;
}

void check_parse(store::ByteView input) {
  auto parsed = store::parse_envelope(input);
  if (!parsed.is_ok()) return;
  require(input.size() >= store::kEnvelopeOverhead && input.size() <= store::kMaxEnvelopeSize);
  require(parsed->header.size() == store::kHeaderSize && parsed->nonce.size() == store::kNonceSize);
  require(parsed->plaintext_size + store::kEnvelopeOverhead == input.size());
  require(parsed->sealed.size() == parsed->plaintext_size + store::kTagSize);
  // Random bytes are not a sealed envelope: opening them must fail (a forged tag is 2^-128).
  SecretValue out;
  const store::Bytes context = {1, 2, 3};
  require(!store::open_envelope(fixed_key(), parsed->key_id, store::kLabelSecretValue, context,
                                input, out)
               .is_ok());
  require(out.empty());
}

void check_seal_flip(store::ByteView input) {
  const store::Bytes context = {9, 8, 7};
  auto sealed = store::seal_envelope(fixed_key(), 5, store::kLabelSecretValue, context, input,
                                     lockbox::OsRandom::instance());
  require(sealed.is_ok());
  SecretValue out;
  require(store::open_envelope(fixed_key(), 5, store::kLabelSecretValue, context, *sealed, out)
              .is_ok());
  require(out.reveal() ==
          std::string_view(reinterpret_cast<const char*>(input.data()), input.size()));
  if (input.empty()) return;
  store::Bytes flipped = *sealed;
  const std::size_t at = (input[0] * 131u + input.size()) % flipped.size();
  flipped[at] ^= static_cast<std::uint8_t>(1u << (input.size() % 8));
  SecretValue wrong;
  require(!store::open_envelope(fixed_key(), 5, store::kLabelSecretValue, context, flipped, wrong)
               .is_ok());
  require(wrong.empty());
  // The same envelope under another row's context (AAD) never opens either.
  const store::Bytes other = {9, 8, 6};
  require(!store::open_envelope(fixed_key(), 5, store::kLabelSecretValue, other, *sealed, wrong)
               .is_ok());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const store::ByteView input(data, size);
  check_parse(input);
  check_seal_flip(input);
  return 0;
}
