#pragma once
// Private to lockbox_store: small keyring queries and option defaults shared by the SQLite
// backend's write paths (sqlite_writes.cpp, sqlite_keys.cpp, sqlite_reencrypt.cpp).
// Each query runs inside the caller's transaction, if any.

#include <cstdint>

#include "core/clock.hpp"
#include "core/random.hpp"
#include "core/status.hpp"
#include "store/sqlite/db.hpp"
#include "store/store.hpp"

namespace lockbox::store::sqlite {

inline const Clock& clock_of(const StoreOptions& o) { return o.clock ? *o.clock : SystemClock::instance(); }
inline Random& random_of(const StoreOptions& o) { return o.random ? *o.random : OsRandom::instance(); }

struct ActiveKey {
  std::uint32_t key_id = 0;
  UnixMillis created_at = 0;
};

// The active data key; kIntegrity when there is none (a damaged keyring).
Result<ActiveKey> active_data_key(Db& db);
// The current master-key generation; kIntegrity when there is none.
Result<std::uint32_t> current_generation(Db& db);

}  // namespace lockbox::store::sqlite
