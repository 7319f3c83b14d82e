#pragma once
// Private to lockbox_store: encodings of list-valued columns, shared by every backend.
// NOTE: persistent format. tags = LP(tag)*, metadata = (LP(key) || LP(value))*, as BLOBs
// (portable to PostgreSQL BYTEA; no JSON functions needed).

#include <map>
#include <string>
#include <vector>

#include "core/status.hpp"
#include "store/bytes.hpp"

namespace lockbox::store {

Bytes encode_tags(const std::vector<std::string>& tags);
Result<std::vector<std::string>> decode_tags(ByteView blob);
Bytes encode_metadata(const std::map<std::string, std::string>& metadata);
Result<std::map<std::string, std::string>> decode_metadata(ByteView blob);

}  // namespace lockbox::store
