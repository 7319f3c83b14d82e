#pragma once
// The client side of the launch agent (SPEC §12): `run`, `job run` and `resolve` with
// LOCKBOX_AGENT_SOCKET or --agent PATH. The agent answers the stored layer of a context (the live
// winner of each name in the context's scopes, with its value when asked); this process applies
// its own layers on top (env files, host FLUXBASE_SECRET_*, prefix, transforms, env_override), as
// remote mode does, so the launch is the direct one. Launch records go through the agent, which
// appends them to its open store.
// Thread-safety: one source per launch, used by one thread (launcher/secret_source.hpp).

#include <memory>
#include <string>

#include "core/status.hpp"
#include "launcher/secret_source.hpp"

namespace lockbox::agent {

// Where a connection attempt ended.
enum class Reach {
  kServed,   // the agent answered the hello: `source` is set
  kGone,     // no socket, nothing listening, not a socket: the caller may take the direct path
  kRefused,  // a socket this user may not open, or one whose agent closed the connection (another
             // uid's agent) or answered nonsense: exit 125, never the direct path
};

struct Opened {
  Reach reach = Reach::kGone;
  std::unique_ptr<launcher::SecretSource> source;
  Status status;  // why, when not served (one line, names the socket)
};

// Connects to the agent at `socket_path` and says hello (bounded by `timeout_ms`).
Opened open_agent(const std::string& socket_path, int timeout_ms = 60'000);

}  // namespace lockbox::agent
