// SqliteStore: reading and verifying the audit trail (SPEC §7). Appending is in sqlite_writes.cpp.
#include "store/sqlite/sqlite_store.hpp"

namespace lockbox::store::sqlite {

Status SqliteStore::for_each_audit(const AuditFilter&, const std::function<Status(const AuditRecord&)>&) {
  return runtime_error("audit list is not implemented yet");
}

Result<AuditVerifyResult> SqliteStore::verify_audit(const std::optional<AuditCheckpoint>&) {
  return runtime_error("audit verify is not implemented yet");
}

Result<AuditCheckpoint> SqliteStore::audit_checkpoint() {
  return runtime_error("audit checkpoint is not implemented yet");
}

}  // namespace lockbox::store::sqlite
