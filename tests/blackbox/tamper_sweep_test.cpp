// Black-box tamper sweep (issue 11 item 6, SPEC §0, §17): for every table of the SQLite store and
// every cell of every row, plus the deletion and a duplicate of every row, edit the raw database
// (as someone without the master key can) and prove lockbox never serves an older, deleted,
// expired or shadowed value and never accepts a refused token. Exit 0 is allowed only when what is
// served is exactly the current answer; such "harmless" cells are listed in the test's output.
// Last run (600 edits, ~18 s): 383 caught, 85 refused by the schema itself, and the harmless ones
// all decide nothing a launch serves: row_rev, created_at of keys, secrets and master keys; the
// keyring's usage counters (encryptions, reserved, max_encryptions: the nonce budget, not what is
// served); the envelopes and key ids of shadowed or older versions (never decrypted by this
// launch); whole older versions (a launch reads heads only; history and rollback verify them);
// secrets.row_mac (a launch verifies the scope digest, `secrets get` the head MAC); copies of
// rows into scopes the launch does not walk; the scope chain's sentinel row (not read when every
// walked scope has its row); meta's created_at, key_kind (the key check value decides) and the
// change counter (read by writes and serve's cache, not by `run`); a deleted token row (refused).
#include <sqlite3.h>

#include <algorithm>
#include <fstream>
#include <iostream>
#include <set>

#include "tests/blackbox/blackbox.hpp"

namespace lockbox::testing {
namespace {

namespace fs = std::filesystem;

// Every value stored; the launch may show only those of kServed.
const std::vector<std::string> kAllValues = {"g-db",    "g-only",  "ns-db",  "rot-old", "rot-new", "fn-db",
                                             "gone-old", "ns-gone", "exp-old", "ns-exp",  "fn-late"};

struct Db {
  explicit Db(const fs::path& path) {
    REQUIRE(sqlite3_open(path.c_str(), &db) == SQLITE_OK);
    sqlite3_busy_timeout(db, 5000);
  }
  ~Db() { sqlite3_close(db); }
  Db(const Db&) = delete;
  Db& operator=(const Db&) = delete;
  sqlite3* db = nullptr;
};

// One edit of the raw file: SQL with at most one bound value.
struct Edit {
  std::string table;
  std::string what;  // "column@row", "delete@row", "duplicate@row"
  std::string sql;
  int type = SQLITE_NULL;
  std::string bytes;  // the bound value (text or blob), or its integer as decimal
};

std::string mutate_text(std::string s) {
  if (s.empty()) return "x";
  s.back() = s.back() == 'x' ? 'y' : 'x';
  return s;
}

// The edits of one cell: its value changed the smallest way that still changes it.
void cell_edits(sqlite3_stmt* row, int col, const std::string& table, const std::string& column,
                const std::string& key, std::vector<Edit>& out) {
  const std::string sql = "UPDATE \"" + table + "\" SET \"" + column + "\" = ?1 WHERE " + key;
  const std::string what = column + "@" + key;
  switch (sqlite3_column_type(row, col)) {
    case SQLITE_NULL: out.push_back({table, what, sql, SQLITE_INTEGER, "1"}); break;
    case SQLITE_INTEGER: {
      const sqlite3_int64 v = sqlite3_column_int64(row, col);
      if (v == 0 || v == 1) {
        out.push_back({table, what, sql, SQLITE_INTEGER, std::to_string(1 - v)});
      } else {
        out.push_back({table, what + "+1", sql, SQLITE_INTEGER, std::to_string(v + 1)});
        // Back by one is a rollback for a version number; elsewhere +1 is enough.
        if (column.find("version") != std::string::npos || column == "seq" || column == "value") {
          out.push_back({table, what + "-1", sql, SQLITE_INTEGER, std::to_string(v - 1)});
        }
      }
      // NULL where a NULL means something (no expiry, not revoked); NOT NULL columns refuse it.
      if (column.find("_at") != std::string::npos) out.push_back({table, what + "=null", sql, SQLITE_NULL, ""});
      break;
    }
    case SQLITE_TEXT: {
      const std::string s(reinterpret_cast<const char*>(sqlite3_column_text(row, col)),
                          static_cast<std::size_t>(sqlite3_column_bytes(row, col)));
      out.push_back({table, what, sql, SQLITE_TEXT, mutate_text(s)});
      break;
    }
    default: {
      std::string b(static_cast<const char*>(sqlite3_column_blob(row, col)),
                    static_cast<std::size_t>(sqlite3_column_bytes(row, col)));
      if (b.empty()) {
        b = std::string(1, '\0');
      } else {
        b[b.size() / 2] = static_cast<char>(b[b.size() / 2] ^ 0x01);
      }
      out.push_back({table, what, sql, SQLITE_BLOB, b});
    }
  }
}

// Columns of `table` that take part in its primary key or a unique index.
std::set<std::string> unique_columns(sqlite3* db, const std::string& table) {
  std::set<std::string> cols;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(db,
                             ("SELECT ii.name FROM pragma_index_list('" + table +
                              "') il, pragma_index_info(il.name) ii WHERE il.\"unique\" = 1 UNION "
                              "SELECT name FROM pragma_table_info('" + table + "') WHERE pk > 0")
                                 .c_str(),
                             -1, &s, nullptr) == SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) cols.insert(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  sqlite3_finalize(s);
  return cols;
}

// Every edit of every table: each cell, each row deleted, each row duplicated (its key and unique
// columns changed so the copy fits beside the original).
std::vector<Edit> all_edits(const fs::path& path) {
  Db d(path);
  std::vector<std::string> tables;
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(d.db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'",
                             -1, &s, nullptr) == SQLITE_OK);
  while (sqlite3_step(s) == SQLITE_ROW) tables.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(s, 0)));
  sqlite3_finalize(s);
  std::vector<Edit> edits;
  for (const std::string& table : tables) {
    const std::string key_expr = table == "scopes" ? "quote(scope)" : "rowid";
    const std::string key_col = table == "scopes" ? "scope" : "rowid";
    const std::set<std::string> unique = unique_columns(d.db, table);
    REQUIRE(sqlite3_prepare_v2(d.db, ("SELECT " + key_expr + ", * FROM \"" + table + "\"").c_str(), -1, &s,
                               nullptr) == SQLITE_OK);
    while (sqlite3_step(s) == SQLITE_ROW) {
      const std::string key = key_col + " = " + reinterpret_cast<const char*>(sqlite3_column_text(s, 0));
      std::string cols;
      std::string select;
      for (int c = 1; c < sqlite3_column_count(s); ++c) {
        const std::string column = sqlite3_column_name(s, c);
        cell_edits(s, c, table, column, key, edits);
        cols += (cols.empty() ? "\"" : ", \"") + column + "\"";
        std::string source = "\"" + column + "\"";
        if (unique.count(column) > 0) {
          const int type = sqlite3_column_type(s, c);
          source = type == SQLITE_INTEGER ? source + " + 1000"
                   : type == SQLITE_TEXT  ? source + " || 'x'"
                                          : "CAST(" + source + " || 'x' AS BLOB)";
        }
        select += (select.empty() ? "" : ", ") + source;
      }
      edits.push_back({table, "delete@" + key, "DELETE FROM \"" + table + "\" WHERE " + key, SQLITE_NULL, ""});
      edits.push_back({table, "duplicate@" + key,
                       "INSERT INTO \"" + table + "\" (" + cols + ") SELECT " + select + " FROM \"" + table +
                           "\" WHERE " + key,
                       SQLITE_NULL, ""});
    }
    sqlite3_finalize(s);
  }
  return edits;
}

// Applies `edit`; false when the schema itself refuses it (CHECK, UNIQUE, NOT NULL, STRICT).
bool apply(const fs::path& path, const Edit& edit) {
  Db d(path);
  sqlite3_stmt* s = nullptr;
  REQUIRE(sqlite3_prepare_v2(d.db, edit.sql.c_str(), -1, &s, nullptr) == SQLITE_OK);
  if (edit.sql.find("?1") != std::string::npos) {
    switch (edit.type) {
      case SQLITE_INTEGER: sqlite3_bind_int64(s, 1, std::stoll(edit.bytes)); break;
      case SQLITE_TEXT: sqlite3_bind_text(s, 1, edit.bytes.data(), static_cast<int>(edit.bytes.size()), SQLITE_TRANSIENT); break;
      case SQLITE_BLOB: sqlite3_bind_blob(s, 1, edit.bytes.data(), static_cast<int>(edit.bytes.size()), SQLITE_TRANSIENT); break;
      default: sqlite3_bind_null(s, 1);
    }
  }
  const int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE && sqlite3_changes(d.db) > 0;
}

void checkpoint_wal(const fs::path& path) {
  Db d(path);
  REQUIRE(sqlite3_exec(d.db, "PRAGMA wal_checkpoint(TRUNCATE)", nullptr, nullptr, nullptr) == SQLITE_OK);
}

void restore(const fs::path& db, const fs::path& copy) {
  fs::remove(fs::path(db.string() + "-wal"));
  fs::remove(fs::path(db.string() + "-shm"));
  fs::copy_file(copy, db, fs::copy_options::overwrite_existing);
}

ProcessOptions later() {
  ProcessOptions options = at(2 * kHour);  // EXP's 1h expiry has passed
  options.unset_env = inherited_lockbox_vars();
  return options;
}

ProcessResult launch(const Lockbox& box) {
  return run_lockbox({"run", "--data-dir", box.data_dir().string(), "--namespace", "prod", "--function", "fn",
                      "--", "/bin/sh", "-c", "env | grep '^FLUXBASE_SECRET_' | sort"},
                     later());
}

void seed(const Lockbox& box) {
  box.init();
  const std::vector<std::string> ns = {"--namespace", "prod"};
  const std::vector<std::string> fn = {"--namespace", "prod", "--function", "fn"};
  box.set("DB", "g-db");
  box.set("G_ONLY", "g-only", {"--description", "only global"});
  box.set("DB", "ns-db", ns);
  box.set("ROT", "rot-old", ns);
  box.set("ROT", "rot-new", {"--namespace", "prod", "--tag", "t1", "--meta", "k=v"});
  box.set("DB", "fn-db", fn);
  box.set("GONE", "ns-gone", ns);
  box.set("GONE", "gone-old", fn);
  REQUIRE(box.run({"secrets", "delete", "GONE", "--namespace", "prod", "--function", "fn"}).exit_code == 0);
  box.set("EXP", "ns-exp", ns);
  box.set("EXP", "exp-old", {"--namespace", "prod", "--function", "fn", "--expires", "1h"});
  REQUIRE(box.run({"tokens", "create", "--name", "ci", "--role", "admin"}).exit_code == 0);
  REQUIRE(box.run({"tokens", "create", "--name", "old", "--role", "admin"}).exit_code == 0);
  REQUIRE(box.run({"tokens", "revoke", "old"}).exit_code == 0);
}

}  // namespace

TEST_CASE("tamper sweep: no edit, deletion or duplicate of any row serves a stale value or a refused token",
          "[sqlite][blackbox][integrity][sweep]") {
  Lockbox box;
  seed(box);
  const ProcessResult baseline = launch(box);
  INFO(baseline.err);
  REQUIRE(baseline.exit_code == 0);
  // The current answer: the function's DB, ROT's head, G_ONLY from global, GONE falls through to
  // the namespace (its function row is a tombstone), EXP is expired in the function: left out.
  REQUIRE(baseline.out ==
          "FLUXBASE_SECRET_DB=fn-db\nFLUXBASE_SECRET_GONE=ns-gone\nFLUXBASE_SECRET_G_ONLY=g-only\n"
          "FLUXBASE_SECRET_ROT=rot-new\n");
  const ProcessResult tokens0 = box.run({"tokens", "list", "--json"}, later());
  REQUIRE(tokens0.exit_code == 0);
  const ProcessResult cp = box.run({"audit", "checkpoint"});
  REQUIRE(cp.exit_code == 0);
  const std::string checkpoint = cp.out.substr(0, cp.out.find('\n'));

  checkpoint_wal(box.db_path());
  const fs::path copy = box.root() / "baseline.db";
  fs::copy_file(box.db_path(), copy);
  const std::vector<Edit> edits = all_edits(copy);
  std::vector<std::string> harmless;
  std::size_t refused_by_schema = 0;
  std::size_t caught = 0;
  for (const Edit& edit : edits) {
    restore(box.db_path(), copy);
    if (!apply(box.db_path(), edit)) {
      ++refused_by_schema;
      continue;
    }
    INFO(edit.table << " " << edit.what);
    bool detected = false;
    if (edit.table == "audit") {
      const ProcessResult v = box.run({"audit", "verify", "--checkpoint", checkpoint});
      CHECK(v.exit_code != 0);
      detected = v.exit_code != 0;
    }
    if (edit.table == "tokens") {
      // tokens list applies the same row check as serve's authentication. A deleted row is a
      // token refused (fail-safe): the listing may lose it.
      const ProcessResult t = box.run({"tokens", "list", "--json"}, later());
      if (edit.what.rfind("delete@", 0) != 0) CHECK((t.exit_code != 0 || t.out == tokens0.out));
      detected = detected || t.exit_code != 0;
    }
    if (edit.table == "audit") {  // a launch reads no audit row: verify is the check
      if (!detected) harmless.push_back(edit.table + "." + edit.what);
      caught += detected ? 1 : 0;
      continue;
    }
    const ProcessResult r = launch(box);
    INFO(r.err);
    if (r.exit_code == 0) {
      CHECK(r.out == baseline.out);
    } else {
      detected = true;
      for (const std::string& value : kAllValues) CHECK(r.out.find(value) == std::string::npos);
    }
    for (const std::string& value : kAllValues) CHECK(r.err.find(value) == std::string::npos);
    if (detected) {
      ++caught;
    } else {
      harmless.push_back(edit.table + "." + edit.what);
    }
  }
  std::cout << "tamper sweep: " << edits.size() << " edits, " << caught << " caught, " << refused_by_schema
            << " refused by the schema, " << harmless.size() << " harmless:\n";
  for (const std::string& h : harmless) std::cout << "  " << h << "\n";
  CHECK(caught > 0);
}

}  // namespace lockbox::testing
