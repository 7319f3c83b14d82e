#pragma once
// What the agent holds between requests and how it answers one (agent/server.hpp): the open store,
// the policy, and the cached stored layer per context, dropped whenever the store's change
// counter moves or the policy file changes.
// Thread-safety: none; the agent's one thread owns it.

#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "agent/protocol.hpp"
#include "agent/server.hpp"

namespace lockbox::agent {

class AgentState {
 public:
  AgentState(const AgentOptions& options, std::unique_ptr<store::Store> store,
             policies::Policy policy);

  // The answer frame to one decoded request; nullopt when the request is malformed (the
  // connection is then dropped).
  std::optional<SecretValue> answer(const Message& request);

  // How many contexts are cached (tests, stats).
  [[nodiscard]] std::size_t cached() const { return cache_.size(); }

 private:
  struct Head {
    store::SecretMeta meta;
    std::optional<SecretValue> value;
  };
  struct Entry {
    std::vector<Head> heads;
    bool decrypted = false;
  };

  Status refresh();
  void reload_policy_if_changed();
  Result<const Entry*> lookup(const std::vector<Scope>& chain, bool decrypt);
  std::optional<SecretValue> resolve(const Message& request);
  std::optional<SecretValue> audit(const Message& request);
  std::optional<SecretValue> values(const Message& request);

  const AgentOptions& options_;
  std::unique_ptr<store::Store> store_;
  policies::Policy policy_;
  std::string policy_stamp_;
  std::optional<std::int64_t> counter_;
  std::map<std::string, Entry> cache_;
  // Decrypted values by "scope/name#version", only those a client's plan injects (kValues).
  std::map<std::string, SecretValue> values_;
};

// The error answer for `status`.
SecretValue error_frame(const Status& status);

}  // namespace lockbox::agent
