#pragma once
// Context: the global options turned into what the commands need: validated StoreOptions, the
// actor (the OS user name), the master key and the opened store.

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "core/status.hpp"
#include "policies/policy.hpp"
#include "store/master_key.hpp"
#include "store/store.hpp"

namespace lockbox::cli {

class Context {
 public:
  // Validates the global options: --busy-timeout is a SPEC duration, --store is empty,
  // sqlite:PATH or postgresql://... (anything else is kBadInput). The URL is
  // never echoed (it may carry a password).
  static Result<Context> create(const GlobalOptions& globals);

  [[nodiscard]] const store::StoreOptions& store_options() const { return options_; }
  // For commands that tune the store for their workload (serve).
  store::StoreOptions& mutable_store_options() { return options_; }
  [[nodiscard]] const std::filesystem::path& data_dir() const { return options_.data_dir; }
  [[nodiscard]] bool json() const { return json_; }
  // The applicable policy (policy_source.hpp): loaded once by create(), defaults when absent.
  [[nodiscard]] const policies::Policy& policy() const { return policy_; }

  // The master key by the SPEC §6 order, or std::nullopt when none is configured.
  [[nodiscard]] Result<std::optional<store::MasterKey>> load_master_key() const;
  // Loads the master key (kKey "no master key: ..." when none is configured) and opens the store.
  [[nodiscard]] Result<std::unique_ptr<store::Store>> open_store() const;

 private:
  store::StoreOptions options_;
  std::optional<std::filesystem::path> master_key_file_;
  bool json_ = false;
  policies::Policy policy_;
};

// The OS user name of the effective uid ("uid:N" when it has none): the actor of CLI writes.
std::string current_actor();

}  // namespace lockbox::cli
