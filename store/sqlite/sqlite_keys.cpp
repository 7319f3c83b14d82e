// SqliteStore: the key lifecycle (CRYPTO.md Rotation).
#include "store/sqlite/sqlite_store.hpp"

namespace lockbox::store::sqlite {

Result<KeyStatus> SqliteStore::key_status() { return runtime_error("not implemented yet"); }
Result<RotateResult> SqliteStore::rotate_data_key(std::optional<std::uint32_t>, const std::string&) {
  return runtime_error("not implemented yet");
}
Result<ReencryptSummary> SqliteStore::reencrypt(const ReencryptOptions&) {
  return runtime_error("not implemented yet");
}
Result<std::uint32_t> SqliteStore::rewrap(MasterKey) { return runtime_error("not implemented yet"); }

}  // namespace lockbox::store::sqlite
