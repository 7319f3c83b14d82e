#pragma once
// The audit chain of CRYPTO.md:
//   entry_mac = HMAC-SHA256(chain_key, prev_mac || canonical(record))
//   canonical = u64be(seq) || u64be(ts) || LP(actor) || LP(action) || LP(target) || LP(outcome)
//               || LP(detail)
// The first record's prev_mac is 32 zero bytes. chain_key comes from the wrapped audit key
// (key_schedule.hpp), so a master-key rewrap does not change the chain.
// NOTE: persistent format; never change the canonical encoding.
// Thread-safety: pure.

#include <cstdint>
#include <string>

#include "core/clock.hpp"
#include "core/secure_key.hpp"
#include "store/bytes.hpp"
#include "store/crypto.hpp"

namespace lockbox::store {

struct AuditRecord {
  std::int64_t seq = 0;
  UnixMillis ts = 0;
  std::string actor;
  std::string action;
  std::string target;
  std::string outcome;
  std::string detail;
  Mac prev_mac{};
  Mac entry_mac{};
};

Bytes audit_canonical(const AuditRecord& record);
Mac audit_entry_mac(const SecureKey& chain_key, const Mac& prev_mac, const AuditRecord& record);

}  // namespace lockbox::store
