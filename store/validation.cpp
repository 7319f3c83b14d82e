#include "store/validation.hpp"

#include <fmt/format.h>

#include <string_view>

#include "core/scope.hpp"
#include "core/utf8.hpp"

namespace lockbox::store {
namespace {

bool is_text(std::string_view s) {
  return s.find('\0') == std::string_view::npos && is_valid_utf8(s);
}

}  // namespace

Status validate_value(const SecretValue& value, const Limits& limits) {
  const std::string_view v = value.reveal();
  if (v.size() > limits.max_value_bytes) {
    return bad_input(fmt::format("value is too large: {} bytes, the limit is {}", v.size(),
                                 limits.max_value_bytes));
  }
  if (v.find('\0') != std::string_view::npos) return bad_input("value contains a NUL byte");
  if (!is_valid_utf8(v)) return bad_input("value is not valid UTF-8 text");
  return Status::ok();
}

Status validate_description(const std::string& description, const Limits& limits) {
  if (description.size() > limits.max_description_bytes) {
    return bad_input(fmt::format("description is too long: {} bytes, the limit is {}",
                                 description.size(), limits.max_description_bytes));
  }
  if (!is_text(description)) return bad_input("description is not valid UTF-8 text");
  return Status::ok();
}

Status validate_tags(const std::vector<std::string>& tags, const Limits& limits) {
  if (tags.size() > limits.max_tags) {
    return bad_input(fmt::format("too many tags: {}, the limit is {}", tags.size(), limits.max_tags));
  }
  for (const auto& tag : tags) LOCKBOX_TRY(validate_name(tag, "tag"));
  return Status::ok();
}

Status validate_metadata(const std::map<std::string, std::string>& metadata) {
  if (metadata.size() > kMaxMetadataEntries) {
    return bad_input(fmt::format("too many metadata entries: {}, the limit is {}", metadata.size(),
                                 kMaxMetadataEntries));
  }
  for (const auto& [key, value] : metadata) {
    LOCKBOX_TRY(validate_name(key, "metadata key"));
    if (value.size() > kMaxMetadataValueBytes) {
      return bad_input("metadata value for " + key + " is longer than 1024 bytes");
    }
    if (!is_text(value)) return bad_input("metadata value for " + key + " is not valid UTF-8 text");
  }
  return Status::ok();
}

Status validate_set_request(const SetRequest& request, const Limits& limits) {
  LOCKBOX_TRY(validate_name(request.address.name, "secret name"));
  LOCKBOX_TRY(validate_value(request.value, limits));
  if (request.description) LOCKBOX_TRY(validate_description(*request.description, limits));
  if (request.tags) LOCKBOX_TRY(validate_tags(*request.tags, limits));
  if (request.metadata) LOCKBOX_TRY(validate_metadata(*request.metadata));
  return Status::ok();
}

}  // namespace lockbox::store
