#include "store/audit_chain.hpp"

namespace lockbox::store {

Bytes audit_canonical(const AuditRecord& r) {
  Bytes out;
  out.reserve(64 + r.actor.size() + r.action.size() + r.target.size() + r.outcome.size() +
              r.detail.size());
  append_u64be(out, static_cast<std::uint64_t>(r.seq));
  append_u64be(out, static_cast<std::uint64_t>(r.ts));
  append_lp(out, r.actor);
  append_lp(out, r.action);
  append_lp(out, r.target);
  append_lp(out, r.outcome);
  append_lp(out, r.detail);
  return out;
}

Mac audit_entry_mac(const SecureKey& chain_key, const Mac& prev_mac, const AuditRecord& record) {
  Bytes data(prev_mac.begin(), prev_mac.end());
  const Bytes canonical = audit_canonical(record);
  data.insert(data.end(), canonical.begin(), canonical.end());
  return hmac_sha256(chain_key.bytes(), data);
}

}  // namespace lockbox::store
