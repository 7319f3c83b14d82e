#include "store/store.hpp"

#include <string_view>

#include "store/copy.hpp"
#include "store/engine/engine.hpp"
#include "store/postgres/pg_backend.hpp"
#include "store/postgres/pg_conn.hpp"
#include "store/sqlite/sqlite_backend.hpp"

namespace lockbox::store {
namespace {

enum class BackendKind { kSqlite, kPostgres };

struct Location {
  BackendKind backend = BackendKind::kSqlite;
  std::filesystem::path path;  // SQLite
  std::string url;             // PostgreSQL: the libpq URI as given
};

bool is_postgres_url(std::string_view url) {
  return url.starts_with("postgresql://") || url.starts_with("postgres://");
}

Result<Location> parse_location(const StoreOptions& options) {
  const std::string_view url = options.url;
  if (url.empty()) return Location{BackendKind::kSqlite, options.data_dir / "lockbox.db", {}};
  if (url.starts_with("sqlite:")) {
    const std::string_view path = url.substr(7);
    if (path.empty()) return bad_input("store URL sqlite: needs a path, e.g. sqlite:/var/lib/lockbox/lockbox.db");
    return Location{BackendKind::kSqlite, std::filesystem::path(path), {}};
  }
  if (is_postgres_url(url)) return Location{BackendKind::kPostgres, {}, std::string(url)};
  return bad_input("unsupported store URL: expected sqlite:PATH or postgresql://...");
}

Result<std::unique_ptr<Backend>> open_backend(const Location& location, const StoreOptions& options, bool create) {
  if (location.backend == BackendKind::kPostgres) {
    LOCKBOX_ASSIGN_OR_RETURN(auto rows, postgres::PgBackend::open(location.url, options.busy_timeout_ms));
    return std::unique_ptr<Backend>(std::move(rows));
  }
  LOCKBOX_ASSIGN_OR_RETURN(auto rows, sqlite::SqliteBackend::open(location.path, create, options.busy_timeout_ms,
                                                                  options.wal_autocheckpoint_pages));
  return std::unique_ptr<Backend>(std::move(rows));
}

}  // namespace

Result<std::unique_ptr<Backend>> open_backend_rows(const StoreOptions& options, bool create) {
  LOCKBOX_ASSIGN_OR_RETURN(const Location location, parse_location(options));
  return open_backend(location, options, create);
}

std::string display_url(std::string_view url) {
  // Any scheme://user:password@... is masked, not only PostgreSQL's: a mistyped URL must not leak.
  return url.starts_with("sqlite:") ? std::string(url) : postgres::redact_url(url);
}

std::filesystem::path Store::database_path(const StoreOptions& options) {
  auto location = parse_location(options);
  return location.is_ok() ? location->path : std::filesystem::path();
}

std::string Store::display_name(const StoreOptions& options) {
  if (is_postgres_url(options.url)) return postgres::redact_url(options.url);
  return database_path(options).string();
}

Result<std::unique_ptr<Store>> Store::create(const StoreOptions& options, MasterKey master_key) {
  LOCKBOX_ASSIGN_OR_RETURN(const Location location, parse_location(options));
  LOCKBOX_ASSIGN_OR_RETURN(auto rows, open_backend(location, options, true));
  return Engine::create(options, std::move(rows), std::move(master_key), display_name(options));
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options, MasterKey master_key) {
  LOCKBOX_ASSIGN_OR_RETURN(const Location location, parse_location(options));
  LOCKBOX_ASSIGN_OR_RETURN(auto rows, open_backend(location, options, false));
  return Engine::open(options, std::move(rows), std::move(master_key), display_name(options));
}

}  // namespace lockbox::store
