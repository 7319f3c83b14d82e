// `lockbox resolve` (SPEC §5): the launch view of a context — name, final variable, winning origin
// and version, never values; `--all-scopes NAME` shows every scope's entry for one name.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>

#include "api/remote_source.hpp"
#include "cli/agent_choice.hpp"
#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "cli/policy_source.hpp"
#include "cli/resolution_output.hpp"
#include "cli/table.hpp"
#include "core/json_writer.hpp"
#include "core/time_format.hpp"
#include "launcher/child_env.hpp"
#include "launcher/launch_plan.hpp"

namespace lockbox::cli {
namespace {

struct ResolveFlags {
  std::optional<std::string> ns, function, group, apikey;
  std::vector<std::string> env_files;
  std::string all_scopes;
  std::string server, token_file;  // through the REST API (SPEC §8)
  AgentFlags agent;                // through the launch agent (SPEC §12)
};

// Every scope of the chain that holds NAME, most specific first; the first live one wins.
Status print_all_scopes(store::Store& store, const std::vector<Scope>& chain,
                        const std::string& name, bool json) {
  LOCKBOX_TRY(validate_name(name, "secret name"));
  JsonWriter out;
  Table table({"SCOPE", "VERSION", "STATE", "EXPIRES", "WINS"});
  bool won = false;
  out.begin_array();
  for (const Scope& scope : chain) {
    auto meta = store.get({scope, name});
    if (meta.status().code() == StatusCode::kNotFound) continue;
    LOCKBOX_TRY(meta.status());
    const bool wins = !won && !meta->tombstone;
    won = won || wins;
    out.begin_object();
    out.key("scope");
    out.string(scope.address());
    out.key("version");
    out.integer(meta->version);
    out.key("tombstone");
    out.boolean(meta->tombstone);
    out.key("expires_at");
    out.optional_string(meta->expires_at
                            ? std::optional<std::string>(format_rfc3339(*meta->expires_at))
                            : std::nullopt);
    out.key("wins");
    out.boolean(wins);
    out.end_object();
    table.add_row({scope.address(), fmt::format("v{}", meta->version),
                   meta->tombstone ? "deleted" : "live",
                   meta->expires_at ? format_rfc3339(*meta->expires_at) : "-", wins ? "yes" : ""});
  }
  out.end_array();
  if (json) {
    write_stdout(out.view());
    write_stdout("\n");
  } else if (table.empty()) {
    return not_found(name + " is not stored in any scope of this context");
  } else {
    write_stdout(table.render());
  }
  return Status::ok();
}

}  // namespace

void add_resolve_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  auto flags = std::make_shared<ResolveFlags>();
  CLI::App* cmd =
      parent.add_subcommand("resolve", "Show what a launch in this context would inject");
  cmd->fallthrough();
  cmd->add_option("--namespace", flags->ns, "Namespace (default: default)");
  cmd->add_option("--function", flags->function, "Function");
  cmd->add_option("--group", flags->group, "API-key group");
  cmd->add_option("--apikey", flags->apikey, "API key id");
  cmd->add_option("--env-file", flags->env_files, "dotenv overrides, as for run (repeatable)")
      ->allow_extra_args(false);
  cmd->add_option("--all-scopes", flags->all_scopes, "Show every scope's entry for one NAME");
  cmd->add_option("--server", flags->server,
                  "Resolve through the REST API at URL (exit 6 when the role denies)");
  cmd->add_option("--token-file", flags->token_file, "File holding the API token for --server");
  add_agent_flags(*cmd, flags->agent);
  cmd->callback([&globals, &slot, flags] {
    slot.action = [&globals, flags]() -> Status {
      LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
      const policies::Policy& policy = ctx.policy();
      launcher::RunRequest request;
      request.function_name = flags->function;
      request.ns = flags->ns;
      request.group = flags->group;
      request.apikey = flags->apikey;
      request.env_files = flags->env_files;
      request.command = {"resolve"};  // a plan needs a command; nothing runs
      LOCKBOX_ASSIGN_OR_RETURN(launcher::LaunchPlan plan, launcher::plan_context(request, policy));
      if (flags->server.empty() != flags->token_file.empty()) {
        return bad_input("--server and --token-file go together");
      }
      if (!flags->server.empty() && !flags->agent.socket.empty()) {
        return bad_input("--agent and --server do not go together");
      }
      if (!flags->server.empty()) {
        // The server audits the resolve under the token's name; a refused token or a role that
        // denies is exit 6.
        if (!flags->all_scopes.empty())
          return bad_input("--all-scopes needs the local store, not --server");
        LOCKBOX_ASSIGN_OR_RETURN(auto source,
                                 api::remote_source({flags->server, flags->token_file}));
        LOCKBOX_TRY(source->resolve(plan, request, policy, launcher::host_environment(),
                                    process_clock().now(), false));
        print_resolution(plan.resolution, globals.json);
        return Status::ok();
      }
      // Through the agent (SPEC §12): the same view and the same audit record, written by the
      // agent.
      // --all-scopes reads every scope's entry and stays on the direct path.
      if (const auto socket = agent_socket(flags->agent); socket && flags->all_scopes.empty()) {
        LOCKBOX_ASSIGN_OR_RETURN(auto source, open_agent_source(*socket, ctx));
        LOCKBOX_TRY(source->resolve(plan, request, policy, launcher::host_environment(),
                                    process_clock().now(), false));
        LOCKBOX_TRY(
            source->audit({"resolve", plan.audit_target, "ok", launcher::injected_summary(plan)}));
        print_resolution(plan.resolution, globals.json);
        return Status::ok();
      }
      LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
      if (!flags->all_scopes.empty()) {
        return print_all_scopes(*store, resolver::scope_chain(policy, plan.context),
                                flags->all_scopes, globals.json);
      }
      LOCKBOX_TRY(launcher::resolve_plan(plan, request, policy, *store,
                                         launcher::host_environment(), process_clock().now(),
                                         false));
      LOCKBOX_TRY(store->append_audit(
          {"resolve", plan.audit_target, "ok", launcher::injected_summary(plan)}, false));
      print_resolution(plan.resolution, globals.json);
      return Status::ok();
    };
  });
}

}  // namespace lockbox::cli
