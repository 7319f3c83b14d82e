#include "tests/blackbox/blackbox.hpp"

#include "core/clock.hpp"
#include "core/time_format.hpp"

#include <sqlite3.h>

#include <algorithm>

extern char** environ;

namespace lockbox::testing {

ProcessOptions at(std::int64_t offset_ms) {
  ProcessOptions options;
  options.env["LOCKBOX_TEST_NOW"] =
      format_rfc3339(SystemClock::instance().now() + offset_ms + kHour / 2);
  return options;
}

void tamper_envelope(const std::filesystem::path& db_path, const std::string& name) {
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

Lockbox::Lockbox() = default;

ProcessResult Lockbox::run(const std::vector<std::string>& args, ProcessOptions options) const {
  std::vector<std::string> argv = args;
  argv.push_back("--data-dir");
  argv.push_back(data_dir().string());
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
