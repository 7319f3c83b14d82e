#pragma once
// `lockbox agent` and how `run`, `job run` and `resolve` choose it (SPEC §12, exact):
// --no-agent skips it; else --agent PATH; else LOCKBOX_AGENT_SOCKET when set and not empty;
// else the direct path. An agent that is gone falls back to the direct path with one warning
// when a store is configured (a master key is found); one that refuses this user is an error.

#include <CLI/CLI.hpp>
#include <memory>
#include <optional>
#include <string>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "launcher/secret_source.hpp"

namespace lockbox::cli {

struct AgentFlags {
  std::string socket;  // --agent PATH
  bool none = false;   // --no-agent
};

// Adds --agent and --no-agent to `cmd`.
void add_agent_flags(CLI::App& cmd, AgentFlags& flags);

// The socket to use, or nullopt for the direct path.
std::optional<std::string> agent_socket(const AgentFlags& flags);

// The agent at `socket` as the launch's source; when it is gone, the local store (one warning),
// or an error when no store is configured. kDenied when the agent refuses this user.
Result<std::unique_ptr<launcher::SecretSource>> open_agent_source(const std::string& socket,
                                                                  const Context& ctx);

// Before parsing (main): does this command line look like a launch through the agent? (`run`,
// `job` or `resolve` with --agent, or with LOCKBOX_AGENT_SOCKET set, and no --no-agent before
// "--".) Such a client needs neither OpenSSL nor SQLite's page cache, so main skips their
// warm-up. Only a hint: a wrong guess costs speed, never behaviour.
bool agent_launch_hint(int argc, char** argv);

void add_agent_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);

}  // namespace lockbox::cli
