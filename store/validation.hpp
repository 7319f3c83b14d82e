#pragma once
// Input rules of SPEC §1 and §10, shared by every backend and the API. Every error is kBadInput,
// names the field, and never contains the offending value.

#include <map>
#include <string>
#include <vector>

#include "core/secret_value.hpp"
#include "core/status.hpp"
#include "store/types.hpp"

namespace lockbox::store {

inline constexpr std::size_t kMaxMetadataEntries = 64;
inline constexpr std::size_t kMaxMetadataValueBytes = 1024;

// UTF-8, no NUL byte, at most limits.max_value_bytes.
Status validate_value(const SecretValue& value, const Limits& limits);
Status validate_description(const std::string& description, const Limits& limits);
// Tags follow the name rule; at most limits.max_tags.
Status validate_tags(const std::vector<std::string>& tags, const Limits& limits);
// Keys follow the name rule; values are UTF-8 without NUL, ≤ 1 KiB; at most 64 entries.
Status validate_metadata(const std::map<std::string, std::string>& metadata);
// The name and every optional field of a set request.
Status validate_set_request(const SetRequest& request, const Limits& limits);

}  // namespace lockbox::store
