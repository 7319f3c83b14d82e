#include "tests/blackbox/blackbox.hpp"

#include "core/clock.hpp"
#include "core/time_format.hpp"

#include <libpq-fe.h>
#include <sqlite3.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <mutex>

extern char** environ;

namespace lockbox::testing {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v == nullptr ? std::string() : std::string(v);
}

// The [pg] pass without a cluster: skipped, visibly (ctest SKIP_RETURN_CODE 77).
const bool kSkipWithoutCluster = [] {
  if (env_or_empty("LOCKBOX_TEST_BACKEND") == "postgresql" && env_or_empty("LOCKBOX_TEST_PG_URL").empty()) {
    std::fputs("SKIP: LOCKBOX_TEST_PG_URL is not set (scripts/test.sh starts a PostgreSQL cluster)\n", stderr);
    std::_Exit(77);
  }
  return true;
}();

// db_path() of each live PostgreSQL box -> its database, for tamper_envelope().
std::mutex boxes_mutex;
std::map<std::string, std::string>& pg_boxes() {
  static std::map<std::string, std::string> boxes;
  return boxes;
}

}  // namespace

bool pg_backend() { return env_or_empty("LOCKBOX_TEST_BACKEND") == "postgresql"; }
std::string pg_base_url() { return pg_backend() ? env_or_empty("LOCKBOX_TEST_PG_URL") : std::string(); }

std::string pg_sql(const std::string& db, const std::string& sql) {
  const std::string url = pg_base_url() + "/" + db;
  PGconn* conn = PQconnectdb(url.c_str());
  INFO(PQerrorMessage(conn));
  REQUIRE(PQstatus(conn) == CONNECTION_OK);
  PGresult* r = PQexec(conn, sql.c_str());
  const ExecStatusType st = PQresultStatus(r);
  INFO(sql << ": " << PQresultErrorMessage(r));
  const bool ok = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
  std::string first;
  if (ok && st == PGRES_TUPLES_OK && PQntuples(r) > 0 && PQnfields(r) > 0) first = PQgetvalue(r, 0, 0);
  PQclear(r);
  PQfinish(conn);
  REQUIRE(ok);
  return first;
}

ProcessOptions at(std::int64_t offset_ms) {
  ProcessOptions options;
  options.env["LOCKBOX_TEST_NOW"] =
      format_rfc3339(SystemClock::instance().now() + offset_ms + kHour / 2);
  return options;
}

void tamper_envelope(const std::filesystem::path& db_path, const std::string& name) {
  if (pg_backend()) {
    std::string db;
    {
      const std::lock_guard lock(boxes_mutex);
      db = pg_boxes().at(db_path.string());
    }
    pg_sql(db, "UPDATE lockbox.versions v SET envelope = set_byte(envelope, length(envelope) / 2, "
               "get_byte(envelope, length(envelope) / 2) # 1) FROM lockbox.secrets s WHERE s.id = v.secret_id "
               "AND s.name = '" + name + "' AND v.version = (SELECT max(version) FROM lockbox.versions w "
               "WHERE w.secret_id = s.id)");
    return;
  }
  sqlite3* db = nullptr;
  REQUIRE(sqlite3_open(db_path.c_str(), &db) == SQLITE_OK);
  sqlite3_stmt* select = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             "SELECT v.rowid, v.envelope FROM versions v JOIN secrets s ON "
                             "s.id = v.secret_id WHERE s.name = ?1 ORDER BY v.version DESC",
                             -1, &select, nullptr) == SQLITE_OK);
  sqlite3_bind_text(select, 1, name.c_str(), -1, SQLITE_TRANSIENT);
  REQUIRE(sqlite3_step(select) == SQLITE_ROW);
  const sqlite3_int64 rowid = sqlite3_column_int64(select, 0);
  const auto* blob = static_cast<const char*>(sqlite3_column_blob(select, 1));
  std::string envelope(blob, static_cast<std::size_t>(sqlite3_column_bytes(select, 1)));
  sqlite3_finalize(select);
  REQUIRE(envelope.size() > 30);
  envelope[envelope.size() / 2] = static_cast<char>(envelope[envelope.size() / 2] ^ 0x01);
  sqlite3_stmt* update = nullptr;
  REQUIRE(sqlite3_prepare_v2(db, "UPDATE versions SET envelope = ?1 WHERE rowid = ?2", -1, &update,
                             nullptr) == SQLITE_OK);
  sqlite3_bind_blob(update, 1, envelope.data(), static_cast<int>(envelope.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int64(update, 2, rowid);
  REQUIRE(sqlite3_step(update) == SQLITE_DONE);
  sqlite3_finalize(update);
  sqlite3_close(db);
}


std::vector<std::string> inherited_lockbox_vars() {
  std::vector<std::string> names;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry(*e);
    if (entry.rfind("LOCKBOX_", 0) == 0) names.push_back(entry.substr(0, entry.find('=')));
  }
  return names;
}

Lockbox::Lockbox() {
  if (!pg_backend()) return;
  static std::atomic<int> counter{0};
  pg_db_ = "lbt_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  pg_sql("postgres", "DROP DATABASE IF EXISTS " + pg_db_);
  pg_sql("postgres", "CREATE DATABASE " + pg_db_);
  store_url_ = pg_base_url() + "/" + pg_db_;
  const std::lock_guard lock(boxes_mutex);
  pg_boxes()[db_path().string()] = pg_db_;
}

Lockbox::~Lockbox() {
  if (pg_db_.empty()) return;
  {
    const std::lock_guard lock(boxes_mutex);
    pg_boxes().erase(db_path().string());
  }
  const std::string url = pg_base_url() + "/postgres";
  PGconn* conn = PQconnectdb(url.c_str());
  PQclear(PQexec(conn, ("DROP DATABASE IF EXISTS " + pg_db_ + " WITH (FORCE)").c_str()));
  PQfinish(conn);
}

ProcessResult Lockbox::run(const std::vector<std::string>& args, ProcessOptions options) const {
  std::vector<std::string> argv = args;
  argv.push_back("--data-dir");
  argv.push_back(data_dir().string());
  const bool own_store = std::find(args.begin(), args.end(), "--store") != args.end() ||
                         std::any_of(args.begin(), args.end(), [](const std::string& a) { return a.starts_with("--store="); });
  if (!store_url_.empty() && !own_store && options.env.count("LOCKBOX_STORE") == 0) {
    options.env["LOCKBOX_STORE"] = store_url_;
  }
  for (const auto& name : inherited_lockbox_vars()) {
    if (options.env.count(name) == 0) options.unset_env.push_back(name);
  }
  return run_lockbox(argv, options);
}

ProcessResult Lockbox::run_stdin(const std::vector<std::string>& args,
                                 const std::string& stdin_data, ProcessOptions options) const {
  options.stdin_data = stdin_data;
  return run(args, std::move(options));
}

void Lockbox::init() const {
  const ProcessResult r = run({"init"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

void Lockbox::set(const std::string& name, const std::string& value,
                  const std::vector<std::string>& extra) const {
  std::vector<std::string> args{"secrets", "set", name};
  args.insert(args.end(), extra.begin(), extra.end());
  const ProcessResult r = run_stdin(args, value);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
}

std::string Lockbox::reveal(const std::string& name, const std::vector<std::string>& extra) const {
  std::vector<std::string> args{"secrets", "get", name, "--reveal"};
  args.insert(args.end(), extra.begin(), extra.end());
  const ProcessResult r = run(args);
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

std::string Lockbox::snapshot() const {
  const ProcessResult r = run({"secrets", "list", "--json", "--include-deleted"});
  INFO(r.err);
  REQUIRE(r.exit_code == 0);
  return r.out;
}

int line_count(const std::string& text) {
  if (text.empty()) return 0;
  const auto newlines = std::count(text.begin(), text.end(), '\n');
  return static_cast<int>(newlines) + (text.back() == '\n' ? 0 : 1);
}

boost::json::value parse_json(const std::string& text) {
  boost::json::error_code ec;
  boost::json::value v = boost::json::parse(text, ec);
  INFO(text);
  REQUIRE_FALSE(ec);
  return v;
}

std::vector<std::string> keys_of(const boost::json::object& object) {
  std::vector<std::string> keys;
  for (const auto& kv : object) keys.emplace_back(kv.key());
  std::sort(keys.begin(), keys.end());
  return keys;
}

std::map<std::string, std::string> read_all_files(const std::filesystem::path& dir) {
  std::map<std::string, std::string> files;
  for (const auto& entry : std::filesystem::recursive_directory_iterator(dir)) {
    if (entry.is_regular_file()) files[entry.path().string()] = read_file(entry.path());
  }
  return files;
}

}  // namespace lockbox::testing
