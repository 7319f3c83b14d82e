#include "agent/protocol.hpp"

#include <algorithm>
#include <charconv>

namespace lockbox::agent {
namespace {

std::uint32_t get_u32(std::string_view bytes, std::size_t at) {
  return (std::uint32_t{static_cast<unsigned char>(bytes[at])} << 24) |
         (std::uint32_t{static_cast<unsigned char>(bytes[at + 1])} << 16) |
         (std::uint32_t{static_cast<unsigned char>(bytes[at + 2])} << 8) |
         std::uint32_t{static_cast<unsigned char>(bytes[at + 3])};
}

bool known_kind(std::uint8_t k) {
  return (k >= 1 && k <= 5) || (k >= 0x80 && k <= 0x82);
}

}  // namespace

MessageWriter::MessageWriter(Kind kind) {
  put_u32(0);  // the length, filled in by finish()
  const char k = static_cast<char>(kind);
  frame_.append({&k, 1});
}

void MessageWriter::put_u32(std::uint32_t v) {
  const char bytes[4] = {static_cast<char>(v >> 24), static_cast<char>(v >> 16),
                         static_cast<char>(v >> 8), static_cast<char>(v)};
  frame_.append({bytes, 4});
}

MessageWriter& MessageWriter::field(std::string_view bytes) {
  frame_.append({"\1", 1});
  put_u32(static_cast<std::uint32_t>(bytes.size()));
  frame_.append(bytes);
  return *this;
}

MessageWriter& MessageWriter::optional_field(const std::optional<std::string_view>& bytes) {
  return bytes ? field(*bytes) : absent();
}

MessageWriter& MessageWriter::absent() {
  frame_.append({"\0", 1});
  return *this;
}

SecretValue MessageWriter::finish() {
  // The length goes in front of a copy (SecretValue has no in-place write); both are wiped.
  const auto n = static_cast<std::uint32_t>(frame_.size() - 4);
  SecretValue out;
  const char bytes[4] = {static_cast<char>(n >> 24), static_cast<char>(n >> 16),
                         static_cast<char>(n >> 8), static_cast<char>(n)};
  std::uint8_t* p = out.resize_for_write(frame_.size());
  std::copy(bytes, bytes + 4, p);
  const std::string_view body = frame_.reveal().substr(4);
  std::copy(body.begin(), body.end(), p + 4);
  frame_.clear();
  return out;
}

Result<Message> decode(std::string_view payload) {
  if (payload.empty()) return bad_input("agent message: empty");
  const auto kind = static_cast<std::uint8_t>(payload[0]);
  if (!known_kind(kind)) return bad_input("agent message: unknown kind");
  Message message;
  message.kind = static_cast<Kind>(kind);
  std::size_t at = 1;
  while (at < payload.size()) {
    if (message.fields.size() >= kMaxFields) return bad_input("agent message: too many fields");
    const auto present = static_cast<unsigned char>(payload[at++]);
    if (present == 0) {
      message.fields.emplace_back();
      continue;
    }
    if (present != 1) return bad_input("agent message: bad field marker");
    if (payload.size() - at < 4) return bad_input("agent message: truncated field");
    const std::uint32_t n = get_u32(payload, at);
    at += 4;
    if (payload.size() - at < n) return bad_input("agent message: truncated field");
    message.fields.emplace_back(payload.substr(at, n));
    at += n;
  }
  return message;
}

Result<std::optional<SecretValue>> FrameReader::next() {
  const std::string_view all = buffer_.reveal().substr(consumed_);
  if (all.size() < 4) return std::optional<SecretValue>();
  const std::uint32_t n = get_u32(all, 0);
  if (n > max_) return bad_input("agent message: larger than the limit");
  if (all.size() - 4 < n) return std::optional<SecretValue>();
  SecretValue payload(all.substr(4, n));
  consumed_ += 4 + std::size_t{n};
  if (consumed_ == buffer_.size()) {
    buffer_.clear();
    consumed_ = 0;
  } else if (consumed_ > 64 * 1024) {
    SecretValue rest(buffer_.reveal().substr(consumed_));
    buffer_ = std::move(rest);
    consumed_ = 0;
  }
  return std::optional<SecretValue>(std::move(payload));
}

std::optional<std::int64_t> parse_int(std::string_view text) {
  std::int64_t v = 0;
  const auto* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(text.data(), end, v);
  if (ec != std::errc() || ptr != end || text.empty()) return std::nullopt;
  return v;
}

}  // namespace lockbox::agent
