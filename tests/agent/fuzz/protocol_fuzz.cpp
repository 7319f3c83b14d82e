// libFuzzer harness for agent/protocol (not part of the default build). Build, e.g.:
//   clang++ -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -I. -o protocol_fuzz
//     tests/agent/fuzz/protocol_fuzz.cpp agent/protocol.cpp core/secret_value.cpp -lcrypto
// (one command, from the repository root), then ./protocol_fuzz -max_len=4096.
// scripts/fuzz.sh runs exactly this command, then the fuzzer on the seed corpus in
// tests/agent/fuzz/protocol_corpus. It checks the wire format's contract on arbitrary bytes, fed to
// the frame reader in two pieces: no crash, no frame over the limit, every decoded field inside its
// payload, and a decoded message re-encodes to the same payload.

#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "agent/protocol.hpp"

namespace {

constexpr std::size_t kLimit = 1024;

void check(bool ok) {
  if (!ok) std::abort();
}

void one_payload(std::string_view payload) {
  check(payload.size() <= kLimit);
  auto message = lockbox::agent::decode(payload);
  if (!message.is_ok()) return;
  lockbox::agent::MessageWriter again(message->kind);
  for (const auto& field : message->fields) {
    if (field)
      check(field->data() >= payload.data() &&
            field->data() + field->size() <= payload.data() + payload.size());
    again.optional_field(field);
  }
  const lockbox::SecretValue frame = again.finish();
  check(frame.reveal().substr(4) == payload);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  lockbox::agent::FrameReader reader(kLimit);
  const std::size_t cut = size / 2;
  for (const std::string_view piece : {bytes.substr(0, cut), bytes.substr(cut)}) {
    reader.append(piece);
    while (true) {
      auto next = reader.next();
      if (!next.is_ok()) return 0;  // over the limit: the agent drops the connection
      if (!*next) break;
      one_payload((*next)->reveal());
    }
  }
  return 0;
}
