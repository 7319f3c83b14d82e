#pragma once
// Turns a fresh store into the exact shape of a store that predates row authentication (schema
// 2, SPEC §17): its audit and fingerprint keys at their old ids, no MACs, no scope rows, tokens
// holding the bare SHA-256 of their secret. Built from a real store, so its keys, envelopes and
// audit chain are what lockbox wrote; only what row authentication added is taken away.
#include <string>
#include <vector>

#include "tests/store/sqlite/store_fixture.hpp"

namespace lockbox::testing {

// Closes f.store first. `tokens` are full tokens (lbx_<id>_<secret>) created in the store.
void make_legacy(StoreFixture& f, const std::vector<std::string>& tokens = {});

}  // namespace lockbox::testing
