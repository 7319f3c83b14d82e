#include "store/store.hpp"

#include <string_view>

#include "store/sqlite/sqlite_store.hpp"

namespace lockbox::store {
namespace {

enum class Backend { kSqlite, kPostgres };

struct Location {
  Backend backend = Backend::kSqlite;
  std::filesystem::path path;
};

Result<Location> parse_location(const StoreOptions& options) {
  const std::string_view url = options.url;
  if (url.empty()) return Location{Backend::kSqlite, options.data_dir / "lockbox.db"};
  if (url.starts_with("sqlite:")) {
    const std::string_view path = url.substr(7);
    if (path.empty()) return bad_input("store URL sqlite: needs a path, e.g. sqlite:/var/lib/lockbox/lockbox.db");
    return Location{Backend::kSqlite, std::filesystem::path(path)};
  }
  if (url.starts_with("postgresql://") || url.starts_with("postgres://")) {
    return Location{Backend::kPostgres, {}};
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
  if (location.backend == Backend::kPostgres) return bad_input("backend not built: postgresql");
  return sqlite::SqliteStore::create(options, location.path, std::move(master_key));
}

Result<std::unique_ptr<Store>> Store::open(const StoreOptions& options, MasterKey master_key) {
  LOCKBOX_ASSIGN_OR_RETURN(const Location location, parse_location(options));
  if (location.backend == Backend::kPostgres) return bad_input("backend not built: postgresql");
  return sqlite::SqliteStore::open(options, location.path, std::move(master_key));
}

}  // namespace lockbox::store
