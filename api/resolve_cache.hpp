#pragma once
// ResolveCache: the answers of POST /api/v1/resolve, kept while the store has not changed.
// A resolve of 50 secrets costs ~1 ms of CPU (5 head queries, the resolver, 50 decryptions);
// runtimes ask for the same few contexts over and over, and the store's change counter
// (Store::change_counter: bumped by every committed set, delete, purge, rollback and import)
// says when an answer may have changed. An entry is used only when the counter is the one it was
// computed under, none of its secrets has expired since, and it is younger than kMaxAgeMs; the
// key holds the context and the exact scopes the token may resolve, so roles never see each
// other's answers.
//
// The counter is authenticated (a MAC under a keyring key) and Store::change_counter refuses a
// value below the highest this process has seen (SPEC §17). What remains is a replay of an older
// counter together with its MAC before this process saw the newer one (someone who can write the
// store file copies back the old pair right after a write): the counter then matches an entry
// computed before that write. The max age bounds that: after kMaxAgeMs the answer is recomputed
// from the rows, whose scope rows carry the counter of their last write, so the replay is seen
// and every later resolve fails closed until the store is restored.
//
// The bodies hold values: they are SecretValues (wiped on eviction and destruction), in a process
// that is not dumpable (main's harden_self), the same process that holds the master key.
// Every request, cached or not, writes its own resolve record before the answer is sent.
// Thread-safety: every method may be called from any thread.

#include <cstdint>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/clock.hpp"
#include "core/secret_value.hpp"

namespace lockbox::api {

class ResolveCache {
 public:
  // How long an entry may be reused at most, however the counter reads (documented in
  // docs/SECURITY.md, "Row authentication"). A resolve costs ~1 ms, so one recomputation per
  // context and second is noise.
  static constexpr std::int64_t kMaxAgeMs = 1000;

  struct Entry {
    std::int64_t counter = 0;               // the store's change counter when computed
    std::optional<UnixMillis> valid_until;  // the earliest expiry among the answer's secrets
    SecretValue body;                       // the JSON answer
    std::string audit_detail;               // what was injected: names, scopes, versions (no
                                            // values); never the request's own left_out scopes
    std::size_t secrets = 0;
    UnixMillis computed_at = 0;  // when the answer was computed
  };

  explicit ResolveCache(std::size_t max_entries = 1024, std::size_t max_bytes = 16 * 1024 * 1024)
      : max_entries_(max_entries), max_bytes_(max_bytes) {}

  // A copy of the entry for `key` when it was computed under `counter`, is still valid at `now`
  // and was computed less than kMaxAgeMs before `now` (not after it); nullopt otherwise.
  std::optional<Entry> find(const std::string& key, std::int64_t counter, UnixMillis now);
  // Stores (or replaces) the entry for `key`, evicting the least recently used ones while more
  // than max_entries or max_bytes of bodies are held. A body over max_bytes is not kept.
  void put(const std::string& key, Entry entry);
  // Drops (and so wipes) every entry: the store changed (api/change_listener.hpp).
  void clear();
  [[nodiscard]] std::size_t size();

 private:
  using Lru = std::list<std::string>;
  struct Slot {
    Entry entry;
    Lru::iterator position;
  };
  void evict_one();

  std::size_t max_entries_;
  std::size_t max_bytes_;
  std::size_t bytes_ = 0;  // sum of the bodies held
  std::mutex mu_;
  Lru lru_;  // most recently used first
  std::unordered_map<std::string, Slot> slots_;
};

}  // namespace lockbox::api
