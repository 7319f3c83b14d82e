#include "store/postgres/libpq_api.hpp"

#include <dlfcn.h>

#include <mutex>
#include <string>

namespace lockbox::store::postgres {
namespace {

template <typename Fn>
bool resolve(void* lib, const char* name, Fn& out) {
  out = reinterpret_cast<Fn>(::dlsym(lib, name));
  return out != nullptr;
}

bool resolve_all(void* lib, LibPq& pq) {
  return resolve(lib, "PQconnectdbParams", pq.connectdb_params) &&
         resolve(lib, "PQstatus", pq.status) && resolve(lib, "PQerrorMessage", pq.error_message) &&
         resolve(lib, "PQfinish", pq.finish) && resolve(lib, "PQexec", pq.exec) &&
         resolve(lib, "PQexecParams", pq.exec_params) && resolve(lib, "PQprepare", pq.prepare) &&
         resolve(lib, "PQexecPrepared", pq.exec_prepared) &&
         resolve(lib, "PQresultStatus", pq.result_status) &&
         resolve(lib, "PQresultErrorField", pq.result_error_field) &&
         resolve(lib, "PQclear", pq.clear) && resolve(lib, "PQntuples", pq.ntuples) &&
         resolve(lib, "PQgetvalue", pq.getvalue) && resolve(lib, "PQgetlength", pq.getlength) &&
         resolve(lib, "PQgetisnull", pq.getisnull) && resolve(lib, "PQcmdTuples", pq.cmd_tuples) &&
         resolve(lib, "PQhost", pq.host) && resolve(lib, "PQport", pq.port) &&
         resolve(lib, "PQdb", pq.db) && resolve(lib, "PQconninfoParse", pq.conninfo_parse) &&
         resolve(lib, "PQconninfoFree", pq.conninfo_free) &&
         resolve(lib, "PQsetNoticeProcessor", pq.set_notice_processor) &&
         resolve(lib, "PQtransactionStatus", pq.transaction_status) &&
         resolve(lib, "PQfreemem", pq.freemem) && resolve(lib, "PQsocket", pq.socket) &&
         resolve(lib, "PQconsumeInput", pq.consume_input) &&
         resolve(lib, "PQnotifies", pq.notifies) && resolve(lib, "PQreset", pq.reset) &&
         resolve(lib, "PQenterPipelineMode", pq.enter_pipeline_mode) &&
         resolve(lib, "PQexitPipelineMode", pq.exit_pipeline_mode) &&
         resolve(lib, "PQpipelineSync", pq.pipeline_sync) &&
         resolve(lib, "PQsendPrepare", pq.send_prepare) &&
         resolve(lib, "PQsendQueryPrepared", pq.send_query_prepared) &&
         resolve(lib, "PQgetResult", pq.get_result);
}

}  // namespace

Result<const LibPq*> load_libpq() {
  static std::once_flag once;
  static LibPq table{};
  static std::string failure;
  std::call_once(once, [] {
    void* lib = ::dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      failure =
          "the PostgreSQL client library libpq.so.5 is not installed (Debian: apt-get install "
          "libpq5)";
      return;
    }
    if (!resolve_all(lib, table))
      failure = "the PostgreSQL client library libpq.so.5 is too old for lockbox";
  });
  if (!failure.empty()) return runtime_error(failure);
  return &table;
}

}  // namespace lockbox::store::postgres
