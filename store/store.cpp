#include "store/store.hpp"

#include <string_view>

#include "store/engine/engine.hpp"
#include "store/sqlite/sqlite_backend.hpp"

namespace lockbox::store {
namespace {

enum class BackendKind { kSqlite, kPostgres };

struct Location {
  BackendKind backend = BackendKind::kSqlite;
  std::filesystem::path path;
};

Result<Location> parse_location(const StoreOptions& options) {
  const std::string_view url = options.url;
  if (url.empty()) return Location{BackendKind::kSqlite, options.data_dir / "lockbox.db"};
  if (url.starts_with("sqlite:")) {
    const std::string_view path = url.substr(7);
    if (path.empty()) return bad_input("store URL sqlite: needs a path, e.g. sqlite:/var/lib/lockbox/lockbox.db");
    return Location{BackendKind::kSqlite, std::filesystem::path(path)};
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return Location{BackendKind::kPostgres, {}};
  }
  return bad_input("unsupported store URL: expected sqlite:PATH or postgresql://...");
}

}  // namespace

std::filesystem::path Store::database_path(const StoreOptions& options) {
  auto location = parse_location(options);
  return location.is_ok() ? location->path : std::filesystem::path();
}

Result<std::unique_ptr<Store>> Store::create(const StoreOptions& options, MasterKey master_key) {
  LOCKBOX_ASSIGN_OR_RETURN(const Location location, parse_location(options));
  if (location.backend == BackendKind::kPostgres) return bad_input("backend not built: postgresql");
  LOCKBOX_ASSIGN_OR_RETURN(auto rows, sqlite::SqliteBackend::open(location.path, true, options.busy_timeout_ms,
                                                                  options.wal_autocheckpoint_pages));
  return Engine::create(options, std::move(rows), std::move(master_key), location.path.string());
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options, MasterKey master_key) {
  LOCKBOX_ASSIGN_OR_RETURN(const Location location, parse_location(options));
  if (location.backend == BackendKind::kPostgres) return bad_input("backend not built: postgresql");
  LOCKBOX_ASSIGN_OR_RETURN(auto rows, sqlite::SqliteBackend::open(location.path, false, options.busy_timeout_ms,
                                                                  options.wal_autocheckpoint_pages));
  return Engine::open(options, std::move(rows), std::move(master_key), location.path.string());
}

}  // namespace lockbox::store
