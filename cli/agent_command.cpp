// `lockbox agent [--socket PATH]` (SPEC §12, exact): the launch agent (agent/server.hpp). Prints
// "lockbox agent: listening on PATH" on stderr once it serves; exits 0 after SIGTERM or SIGINT
// with the socket removed.
#include <fmt/format.h>

#include <cstdlib>

#include "agent/client.hpp"
#include "agent/server.hpp"
#include "cli/agent_choice.hpp"
#include "cli/output.hpp"
#include "cli/policy_source.hpp"
#include "core/log.hpp"

namespace lockbox::cli {

void add_agent_flags(CLI::App& cmd, AgentFlags& flags) {
  cmd.add_option("--agent", flags.socket,
                 "Go through the launch agent at this socket (default: LOCKBOX_AGENT_SOCKET)");
  cmd.add_flag("--no-agent", flags.none,
               "Do not use the launch agent, even with LOCKBOX_AGENT_SOCKET set");
}

std::optional<std::string> agent_socket(const AgentFlags& flags) {
  if (flags.none) return std::nullopt;
  if (!flags.socket.empty()) return flags.socket;
  const char* env = std::getenv("LOCKBOX_AGENT_SOCKET");
  if (env != nullptr && env[0] != '\0') return std::string(env);
  return std::nullopt;
}

bool agent_launch_hint(int argc, char** argv) {
  bool launch = false, flag = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a(argv[i]);
    if (a == "--") break;
    if (a == "--no-agent") return false;
    if (a == "--agent" || a.starts_with("--agent=")) flag = true;
    if (a == "run" || a == "job" || a == "resolve") launch = true;
  }
  const char* env = std::getenv("LOCKBOX_AGENT_SOCKET");
  return launch && (flag || (env != nullptr && env[0] != '\0'));
}

Result<std::unique_ptr<launcher::SecretSource>> open_agent_source(const std::string& socket,
                                                                  const Context& ctx) {
  agent::Opened opened = agent::open_agent(socket);
  if (opened.reach == agent::Reach::kServed) return std::move(opened.source);
  if (opened.reach == agent::Reach::kRefused) return opened.status;
  LOCKBOX_ASSIGN_OR_RETURN(const std::optional<store::MasterKey> key, ctx.load_master_key());
  if (!key) {
    return runtime_error(fmt::format("{}, and no store is configured here (no master key)",
                                     opened.status.message()));
  }
  log::warn("{}: launching directly from the store", opened.status.message());
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  return launcher::store_source(std::move(store));
}

void add_agent_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  auto socket = std::make_shared<std::string>();
  CLI::App* cmd =
      parent.add_subcommand("agent", "Serve launches from a resident process on a unix socket");
  cmd->add_option("--socket", *socket,
                  "Unix socket (default $XDG_RUNTIME_DIR/lockbox/agent.sock, else "
                  "/tmp/lockbox-UID/agent.sock)");
  cmd->callback([&globals, &slot, socket] {
    slot.action = [&globals, socket]() -> Status {
      LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
      agent::AgentOptions options;
      options.socket = *socket;
      options.open_store = [&ctx] { return ctx.open_store(); };
      options.load_policy = [&globals] { return load_policy(globals); };
      // Watched even when absent, so a ./lockbox.yaml created later is picked up.
      const auto given = policy_path(globals);
      if (!globals.builtin_policy)
        options.policy_file = given ? *given : std::filesystem::path("lockbox.yaml");
      options.on_listening = [](const std::filesystem::path& path) {
        write_stderr(fmt::format("lockbox agent: listening on {}\n", path.string()));
      };
      return agent::run_agent(options);
    };
  });
}

}  // namespace lockbox::cli
