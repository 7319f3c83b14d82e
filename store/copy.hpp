#pragma once
// copy_store: `lockbox store copy --to URL` (SPEC §11). Copies one store whole into an empty
// target of either backend: meta (store id, key kind, passphrase salt), master-key generations,
// the keyring with its nonce-budget counts, every secret with every version and tombstone, the
// scope rows and the change counter with their MACs, the quarantine, tokens and the audit trail
// with its chain — the bytes as stored, so every MAC and envelope still verifies in the target.
//
// Order: (1) the source is opened and verified in full (every envelope opens, every row MAC and
// scope verifies, the audit chain holds, the counter's MAC), so a tampered store is refused
// (kIntegrity) and never laundered into a fresh copy; (2) one read snapshot of the source's rows
// is written into the target in ONE write transaction that also creates the schema, so a copy
// killed at any point leaves the target without a schema, i.e. empty (a later copy succeeds);
// (3) the committed target is opened with the same master key and verified in full the same way.
// The source is never written. A target that already holds a schema is kBadInput (exit 2) and is
// not touched.
// Thread-safety: none (one call at a time per process).

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "core/status.hpp"
#include "store/master_key.hpp"
#include "store/store.hpp"

namespace lockbox::store {

struct CopyProgress {
  std::string phase;        // "verifying source", "copying", "verifying copy"
  std::int64_t done = 0;
  std::int64_t total = 0;   // rows (copying) or versions (verifying)
};

struct CopyOptions {
  std::function<void(const CopyProgress&)> on_progress;  // called often; throttle when drawing
};

struct CopySummary {
  std::int64_t secrets = 0;
  std::int64_t versions = 0;
  std::int64_t audit_records = 0;
  std::int64_t tokens = 0;
  std::int64_t rows = 0;  // every row written into the target
};

// Copies the store `source` names into `target` (its `url` names the target; `data_dir` is
// ignored for it). REQUIRES: `key` is the source's master key.
Result<CopySummary> copy_store(const StoreOptions& source, const StoreOptions& target, const MasterKey& key,
                               const CopyOptions& options);

// `url` for messages: a postgresql:// password (userinfo or `password=` parameter) becomes ***.
std::string display_url(std::string_view url);

}  // namespace lockbox::store
