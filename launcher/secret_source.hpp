#pragma once
// SecretSource: where a launch gets its stored secrets and writes its audit records. Locally
// that is the store (StoreSource); in remote mode (`run --server`, SPEC §8) it is the REST API
// (api/remote_source.hpp), so a launcher host needs neither the store nor the master key. Either
// way the launch itself (env files, host variables, policy, spawn, signals, exit codes) is the
// same code.
// Thread-safety: one source per launch, used by one thread.

#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "core/clock.hpp"
#include "core/status.hpp"
#include "launcher/launch_plan.hpp"
#include "store/store.hpp"

namespace lockbox::launcher {

class SecretSource {
 public:
  virtual ~SecretSource() = default;
  // Fills plan.resolution (stored layer, then `request`'s env files, then `host`); store winners
  // carry their values unless decrypt is false.
  virtual Status resolve(LaunchPlan& plan, const RunRequest& request, const policies::Policy& policy,
                         const std::vector<std::string_view>& host, UnixMillis now, bool decrypt) = 0;
  // Appends a launch record. Remote sources return ok without writing: the server audited the
  // resolve that served the launch.
  virtual Status audit(const store::AuditEvent& event) = 0;
  // A counter that moves when stored secrets change (for --watch); nullopt when the source cannot
  // tell, and --watch then re-resolves every interval.
  virtual std::optional<std::int64_t> change_counter() = 0;
};

// The local store as a source.
std::unique_ptr<SecretSource> store_source(std::unique_ptr<store::Store> store);

}  // namespace lockbox::launcher
