#pragma once
// Private to lockbox_store: libpq, loaded with dlopen() the first time a postgresql:// store is
// opened. Linking libpq.so would make every `lockbox run` on SQLite load it and its two dozen
// dependencies (Kerberos, LDAP, a second libssl/libcrypto) at start-up, which costs milliseconds
// on the launch path (docs/ARCHITECTURE.md "PostgreSQL"); Debian's libpq.a needs static Kerberos
// and LDAP archives that Debian does not ship. libpq-fe.h is used for its types only.
// Thread-safety: load_libpq() may be called from any thread; the table is immutable once loaded.

#include <libpq-fe.h>

#include "core/status.hpp"

namespace lockbox::store::postgres {

struct LibPq {
  decltype(&::PQconnectdbParams) connectdb_params;
  decltype(&::PQstatus) status;
  decltype(&::PQerrorMessage) error_message;
  decltype(&::PQfinish) finish;
  decltype(&::PQexec) exec;
  decltype(&::PQexecParams) exec_params;
  decltype(&::PQprepare) prepare;
  decltype(&::PQexecPrepared) exec_prepared;
  decltype(&::PQresultStatus) result_status;
  decltype(&::PQresultErrorField) result_error_field;
  decltype(&::PQclear) clear;
  decltype(&::PQntuples) ntuples;
  decltype(&::PQgetvalue) getvalue;
  decltype(&::PQgetlength) getlength;
  decltype(&::PQgetisnull) getisnull;
  decltype(&::PQcmdTuples) cmd_tuples;
  decltype(&::PQhost) host;
  decltype(&::PQport) port;
  decltype(&::PQdb) db;
  decltype(&::PQconninfoParse) conninfo_parse;
  decltype(&::PQconninfoFree) conninfo_free;
  decltype(&::PQsetNoticeProcessor) set_notice_processor;
  decltype(&::PQtransactionStatus) transaction_status;
  decltype(&::PQfreemem) freemem;
  decltype(&::PQsocket) socket;
  decltype(&::PQconsumeInput) consume_input;
  decltype(&::PQnotifies) notifies;
  decltype(&::PQreset) reset;
  // Pipeline mode (libpq 14+): queued writes inside a transaction (pg_conn.cpp).
  decltype(&::PQenterPipelineMode) enter_pipeline_mode;
  decltype(&::PQexitPipelineMode) exit_pipeline_mode;
  decltype(&::PQpipelineSync) pipeline_sync;
  decltype(&::PQsendPrepare) send_prepare;
  decltype(&::PQsendQueryPrepared) send_query_prepared;
  decltype(&::PQgetResult) get_result;
};

// The loaded library, or kRuntime naming the package to install.
Result<const LibPq*> load_libpq();

}  // namespace lockbox::store::postgres
