#include "store/row_codec.hpp"

namespace lockbox::store {
namespace {

// Reads one LP string at `pos`; false when the blob is malformed.
bool read_lp(ByteView blob, std::size_t& pos, std::string& out) {
  if (blob.size() - pos < 4) return false;
  const std::uint32_t len = read_u32be(blob.data() + pos);
  pos += 4;
  if (blob.size() - pos < len) return false;
  out.assign(reinterpret_cast<const char*>(blob.data() + pos), len);
  pos += len;
  return true;
}

}  // namespace

Bytes encode_tags(const std::vector<std::string>& tags) {
  Bytes out;
  for (const auto& t : tags) append_lp(out, t);
  return out;
}

Result<std::vector<std::string>> decode_tags(ByteView blob) {
  std::vector<std::string> tags;
  std::size_t pos = 0;
  while (pos < blob.size()) {
    std::string tag;
    if (!read_lp(blob, pos, tag)) return integrity_error("malformed tags column");
    tags.push_back(std::move(tag));
  }
  return tags;
}

Bytes encode_metadata(const std::map<std::string, std::string>& metadata) {
  Bytes out;
  for (const auto& [k, v] : metadata) {
    append_lp(out, k);
    append_lp(out, v);
  }
  return out;
}

Result<std::map<std::string, std::string>> decode_metadata(ByteView blob) {
  std::map<std::string, std::string> metadata;
  std::size_t pos = 0;
  while (pos < blob.size()) {
    std::string key, value;
    if (!read_lp(blob, pos, key) || !read_lp(blob, pos, value)) {
      return integrity_error("malformed metadata column");
    }
    metadata[std::move(key)] = std::move(value);
  }
  return metadata;
}

}  // namespace lockbox::store
