#pragma once
// `lockbox agent` (SPEC §12, docs/LAUNCHING.md): a resident process on a unix socket that keeps
// the store open (SQLite or PostgreSQL), the keyring unwrapped, the policy parsed (reloaded when
// its file changes) and warm answers, all values in wiping memory (SecretValue). It serves only
// peers of its own uid (SO_PEERCRED); any other connection is closed unanswered. A malformed or
// oversized message drops that connection; the agent serves on.
//
// Never stale: every request reads the store's MACed change counter first and drops every cached
// answer when it moved, so an answer reflects every write committed before the request.
//
// One thread: a poll loop over the listening socket, a signalfd (TERM, INT: clean shutdown, the
// socket file removed) and the connections. Requests are short (a cached answer, or one store
// read), so they are served in turn.

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "core/status.hpp"
#include "policies/policy.hpp"
#include "store/store.hpp"

namespace lockbox::agent {

struct AgentOptions {
  std::filesystem::path socket;  // empty: default_socket_path()
  std::function<Result<std::unique_ptr<store::Store>>()> open_store;
  std::function<Result<policies::Policy>()> load_policy;
  std::optional<std::filesystem::path> policy_file;  // watched (stat per request) when set
  // Test seam (LOCKBOX_TEST_SEAMS builds only, LOCKBOX_AGENT_TEST_REFUSE=1): every peer is
  // treated as another uid's, so a test running as one user sees what another user would.
  bool refuse_every_peer = false;
  // Called once the socket listens (the command prints its readiness line).
  std::function<void(const std::filesystem::path&)> on_listening;
};

// $XDG_RUNTIME_DIR/lockbox/agent.sock, else /tmp/lockbox-<uid>/agent.sock.
std::filesystem::path default_socket_path();

// The socket's directory: created 0700 when missing; refused (kBadInput, naming it) when it is a
// symbolic link, not a directory, not owned by this uid, or open to group or others.
Status check_socket_dir(const std::filesystem::path& dir);

// Runs until SIGTERM or SIGINT. kBadInput for a refused directory or a socket path in use by a
// live agent; the store's own errors when it cannot be opened.
Status run_agent(const AgentOptions& options);

}  // namespace lockbox::agent
