#pragma once
// The agent's wire format (SPEC §12, docs/SECURITY.md): frames on a unix stream socket, each a
// 4-byte big-endian payload length then the payload. A payload is one kind byte, then fields;
// a field is a presence byte (0 absent, 1 present) and, when present, a 4-byte big-endian length
// and its bytes. Binary rather than JSON so that values never pass through a non-wiping parser
// and the client path stays small (no JSON library touched on a launch).
//
// Limits: a request frame is at most kMaxRequestBytes, an answer kMaxAnswerBytes, a message at
// most kMaxFields fields. Anything else (oversize length, truncated field, trailing bytes, an
// unknown presence byte) is malformed: the reader reports it and the connection is dropped.
// Thread-safety: none (values).

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/secret_value.hpp"
#include "core/status.hpp"

namespace lockbox::agent {

inline constexpr std::size_t kMaxRequestBytes = 64 * 1024;
inline constexpr std::size_t kMaxAnswerBytes = 64 * 1024 * 1024;
inline constexpr std::size_t kMaxFields = 1'000'000;

enum class Kind : std::uint8_t {
  kHello = 1,    // -> kOk: the agent serves this peer
  kResolve = 2,  // ns, function?, group?, apikey?, decrypt ("1"/"0"), scope... -> kHeads
  kAudit = 3,    // action, target, outcome, detail -> kOk
  kCounter = 4,  // -> kOk with one field: the store's change counter (decimal)
  kValues = 5,   // (scope, name, version)... -> kOk with each one's value, in order
  kOk = 0x80,
  kError = 0x81,  // status code (decimal), message
  kHeads = 0x82,  // counter, then per head: scope, name, version, expires_at?, tombstone, value?
};

inline constexpr std::size_t kHeadFields = 6;

// A decoded message: its fields view the buffer it was decoded from.
struct Message {
  Kind kind = Kind::kOk;
  std::vector<std::optional<std::string_view>> fields;
};

// Builds one frame (length prefix included) in wiping memory: fields may hold values.
class MessageWriter {
 public:
  explicit MessageWriter(Kind kind);
  MessageWriter& field(std::string_view bytes);
  MessageWriter& optional_field(const std::optional<std::string_view>& bytes);
  MessageWriter& absent();
  // The finished frame; the writer is spent.
  SecretValue finish();

 private:
  void put_u32(std::uint32_t v);
  SecretValue frame_;
};

// Decodes one payload (without its length prefix). kBadInput when malformed.
Result<Message> decode(std::string_view payload);

// Splits a byte stream into frames. Bytes go in with append(); next() yields whole payloads.
class FrameReader {
 public:
  explicit FrameReader(std::size_t max_payload) : max_(max_payload) {}
  void append(std::string_view bytes) { buffer_.append(bytes); }
  // The next whole payload, nullopt when more bytes are needed; kBadInput when the announced
  // length is over the limit (the stream cannot be trusted past that).
  Result<std::optional<SecretValue>> next();
  [[nodiscard]] std::size_t buffered() const { return buffer_.size() - consumed_; }

 private:
  std::size_t max_;
  SecretValue buffer_;
  std::size_t consumed_ = 0;
};

// A field as text ("" when absent).
inline std::string text(const std::optional<std::string_view>& field) {
  return field ? std::string(*field) : std::string();
}
std::optional<std::int64_t> parse_int(std::string_view text);

}  // namespace lockbox::agent
