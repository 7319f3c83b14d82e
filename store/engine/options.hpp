#pragma once
// Private to lockbox_store: the defaults of StoreOptions' seams, for the engine's files.

#include "core/clock.hpp"
#include "core/random.hpp"
#include "store/store.hpp"

namespace lockbox::store {

inline const Clock& clock_of(const StoreOptions& o) { return o.clock ? *o.clock : SystemClock::instance(); }
inline Random& random_of(const StoreOptions& o) { return o.random ? *o.random : OsRandom::instance(); }

}  // namespace lockbox::store
