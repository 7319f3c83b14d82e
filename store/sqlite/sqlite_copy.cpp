// SqliteBackend: the rows `store copy` reads and writes beyond the ordinary ones (store/copy.hpp).
#include "store/sqlite/sqlite_backend.hpp"

#include <vector>

namespace lockbox::store::sqlite {

Status SqliteBackend::scan_versions(const VersionVisitor& visit) {
  // The keys in one ordered pass over the primary key, then each row (with its envelope) by the
  // decoder the other reads use; both in the caller's snapshot.
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT secret_id, version FROM versions ORDER BY secret_id, version"));
  std::vector<std::pair<std::int64_t, std::int64_t>> keys;
  while (true) {
    LOCKBOX_ASSIGN_OR_RETURN(const bool row, st.step());
    if (!row) break;
    keys.emplace_back(st.int64(0), st.int64(1));
  }
  for (const auto& [secret_id, number] : keys) {
    LOCKBOX_ASSIGN_OR_RETURN(const auto v, version(secret_id, number, true));
    if (v) LOCKBOX_TRY(visit(secret_id, *v));
  }
  return Status::ok();
}

Status SqliteBackend::set_key_counts(std::uint32_t key_id, std::int64_t encryptions, std::int64_t reserved) {
  LOCKBOX_ASSIGN_OR_RETURN(auto st, db_.prepare("UPDATE keyring SET encryptions = ?, reserved = ? WHERE key_id = ?"));
  st.bind(1, encryptions).bind(2, reserved).bind(3, std::int64_t{key_id});
  return st.run();
}

}  // namespace lockbox::store::sqlite
