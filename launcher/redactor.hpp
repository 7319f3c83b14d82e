#pragma once
// Redactor: the streaming filter behind `run --redact` (SPEC §4). Every occurrence of an injected
// value of kMinRedactedSize bytes or more is replaced with `[REDACTED:<NAME>]` (**exact**), also
// when the value is split across reads. One Redactor per stream: stdout and stderr are matched
// separately.
//
// Matching is Aho–Corasick over bytes (binary and NUL-safe), O(input + matches). Overlapping
// occurrences resolve leftmost first, then longest (a greedy left-to-right scan that, at each
// position, takes the longest value starting there and continues after it). Two secrets with the
// same value: the first one given names the replacement.
//
// Plaintext hygiene: the automaton's edge labels and the held-back bytes live in SecretValue
// buffers (wiped when freed); the values themselves are not kept after construction.
//
// Thread-safety: none; one Redactor per stream, used by one thread at a time. Distinct
// Redactors may be used concurrently.

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret_value.hpp"

namespace lockbox::launcher {

// Values shorter than this are never redacted (SPEC §4: "6+ bytes").
inline constexpr std::size_t kMinRedactedSize = 6;

class Redactor {
 public:
  struct Secret {
    std::string name;  // the secret's name (printed in the replacement; never the value)
    SecretValue value;
  };

  // Values shorter than kMinRedactedSize bytes are ignored. With no value left, the Redactor
  // passes everything through and holds nothing back.
  explicit Redactor(std::vector<Secret> secrets);
  ~Redactor();
  Redactor(Redactor&&) noexcept = default;
  Redactor& operator=(Redactor&&) noexcept = default;
  Redactor(const Redactor&) = delete;
  Redactor& operator=(const Redactor&) = delete;

  // Appends to `out` every byte (or replacement) that can no longer change, and holds back the
  // rest: at most (longest value - 1) bytes. Streaming: feed(a) then feed(b) appends exactly what
  // feed(a + b) would, for any split.
  void feed(std::string_view in, std::string& out);

  // End of stream: appends what is held back (after redacting any complete value in it) and
  // resets, so the object can start a new stream.
  void finish(std::string& out);

  // Bytes currently held back (for tests and buffer sizing).
  [[nodiscard]] std::size_t held_back() const { return pending_.size(); }
  // The longest redacted value, 0 when there is none.
  [[nodiscard]] std::size_t longest() const { return longest_; }

 private:
  struct Node {
    std::int32_t fail = 0;               // longest proper suffix that is a trie node
    std::int32_t out_link = -1;          // nearest terminal node on the fail chain, -1 if none
    std::int32_t secret = -1;            // terminal: index into replacements_, else -1
    std::uint32_t depth = 0;             // length of the prefix this node spells
    std::uint32_t live_depth = 0;        // depth of the deepest fail-chain node that has children
    std::vector<std::int32_t> children;  // labels are in labels_[child]
  };
  struct Match {
    std::uint32_t length = 0;  // 0: no value starts at this held-back byte
    std::int32_t secret = -1;
  };

  void insert(std::string_view value, std::int32_t secret);
  void build_links();
  [[nodiscard]] std::int32_t child(std::int32_t node, unsigned char c) const;
  [[nodiscard]] std::int32_t step(std::int32_t node, unsigned char c) const;
  // Scans pending_[from, size) and records, per start position, the longest value found.
  void scan(std::size_t from);
  // Emits pending_[0, horizon) (and the tail of any match that starts there), drops it.
  void emit(std::size_t horizon, std::string& out);

  std::vector<Node> nodes_;
  SecretValue labels_;                         // labels_[i]: byte on the edge into node i
  std::array<std::int32_t, 256> root_next_{};  // root transitions, -1 = stay at the root
  std::vector<std::string> replacements_;      // "[REDACTED:<NAME>]" per secret index
  std::size_t longest_ = 0;

  std::int32_t state_ = 0;      // automaton state after the last scanned byte
  SecretValue pending_;         // held-back bytes (plaintext fragments)
  std::vector<Match> matches_;  // parallel to pending_
};

}  // namespace lockbox::launcher
