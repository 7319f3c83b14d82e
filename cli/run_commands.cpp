// `lockbox run` and `lockbox job run` (SPEC §4, exact grammar):
//   lockbox run [options] -- COMMAND [ARGS...]
//   lockbox run [options] FUNCTION [-- EXTRA_ARGS...]
//   lockbox job run NAME [--payload FILE|-]
// Everything after the first "--" is split off before CLI11 parses (split_trailing_args), so a
// command's own options are never taken for lockbox's.
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <fstream>
#include <memory>
#include <sstream>

#include "api/remote_source.hpp"
#include "cli/agent_choice.hpp"
#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "cli/policy_source.hpp"
#include "cli/resolution_output.hpp"
#include "core/time_format.hpp"
#include "launcher/launch.hpp"

namespace lockbox::cli {
namespace {

constexpr std::size_t kMaxPayloadBytes = 16 * 1024 * 1024;
constexpr std::int64_t kMinWatchMs = 1000;

struct RunFlags {
  std::string function_positional;
  std::optional<std::string> ns, function, group, apikey;
  std::vector<std::string> env_files;
  bool pristine = false, redact = false, dry_run = false, keep_env = false;
  // Durations are optional: absent means "not given"; an empty string given is malformed.
  std::optional<std::string> timeout, kill_grace, watch;
  std::optional<std::string> user;  // given, even empty (refused then, never "no switch")
  std::string deliver = "env", payload;
  std::string server, token_file;  // remote mode (SPEC §8)
  AgentFlags agent;                // the launch agent (SPEC §12)
};

void add_context_flags(CLI::App& cmd, RunFlags& f) {
  cmd.add_option("--namespace", f.ns,
                 "Namespace of the launch (default: the function's, or default)");
  cmd.add_option("--function", f.function, "Function whose policy applies");
  cmd.add_option("--group", f.group, "API-key group of the caller");
  cmd.add_option("--apikey", f.apikey, "API key id of the caller (never the key itself)");
}

void add_launch_flags(CLI::App& cmd, RunFlags& f) {
  cmd.add_option("--env-file", f.env_files, "dotenv file of local overrides (repeatable)")
      ->allow_extra_args(false);  // `run --env-file .env FUNCTION`: FUNCTION is not a second file
  cmd.add_flag("--pristine", f.pristine,
               "Only PATH HOME USER LOGNAME LANG LC_* TZ TERM plus secrets");
  cmd.add_option("--timeout", f.timeout, "SIGTERM at the deadline, SIGKILL after --kill-grace");
  cmd.add_option("--kill-grace", f.kill_grace, "Grace between SIGTERM and SIGKILL (default 10s)");
  cmd.add_option("--deliver", f.deliver, "env (default) or file (tmpfs, FLUXBASE_SECRETS_DIR)");
  cmd.add_flag("--watch{10s}", f.watch, "Restart the child when its secrets change (--watch=DUR)");
  cmd.add_flag("--redact", f.redact, "Replace injected values in the child's stdout/stderr");
  cmd.add_flag("--dry-run", f.dry_run, "Show names, origins and versions; run nothing");
  cmd.add_option("--user", f.user,
                 "Run the child as USER (lockbox must be root), from --pristine's set");
  cmd.add_flag("--keep-env", f.keep_env,
               "With --user: pass the host environment on as without --user");
  cmd.add_option("--server", f.server,
                 "Resolve through the REST API at URL (remote mode: no local store)");
  cmd.add_option("--token-file", f.token_file, "File holding the API token for --server");
  add_agent_flags(cmd, f.agent);
}

// The launch agent (SPEC §12): --agent PATH or LOCKBOX_AGENT_SOCKET, unless --no-agent or
// remote mode. bad_input when --agent is combined with --server.
Status use_agent(const RunFlags& f, const Context& context, launcher::LaunchDeps& deps) {
  const auto socket = agent_socket(f.agent);
  if (!socket) return Status::ok();
  if (!f.server.empty()) {
    if (!f.agent.socket.empty()) return bad_input("--agent and --server do not go together");
    return Status::ok();  // an explicit --server wins over LOCKBOX_AGENT_SOCKET
  }
  deps.open_source = [socket = *socket, &context] { return open_agent_source(socket, context); };
  return Status::ok();
}

Result<std::optional<std::int64_t>> optional_duration(const std::optional<std::string>& text,
                                                      const char* flag) {
  if (!text) return std::optional<std::int64_t>();
  auto ms = parse_duration(*text);
  if (!ms.is_ok()) return ms.status().with_context(flag);
  return std::optional<std::int64_t>(*ms);
}

Result<launcher::LaunchOptions> launch_options(const RunFlags& f, bool json) {
  launcher::LaunchOptions o;
  LOCKBOX_ASSIGN_OR_RETURN(auto grace, optional_duration(f.kill_grace, "--kill-grace"));
  o.kill_grace_ms = grace.value_or(10'000);
  if (f.deliver != "env" && f.deliver != "file") return bad_input("--deliver must be env or file");
  o.delivery = f.deliver == "file" ? launcher::Delivery::kFile : launcher::Delivery::kEnv;
  LOCKBOX_ASSIGN_OR_RETURN(o.watch_interval_ms, optional_duration(f.watch, "--watch"));
  if (o.watch_interval_ms && *o.watch_interval_ms < kMinWatchMs)
    return bad_input("--watch: the minimum is 1s");
  o.redact = f.redact;
  o.dry_run = f.dry_run;
  o.json = json;
  o.user = f.user;
  return o;
}

Result<std::string> read_payload(const std::string& source) {
  std::string data;
  if (source == "-") {
    char buf[65536];
    ssize_t n;
    while ((n = ::read(STDIN_FILENO, buf, sizeof buf)) > 0 || (n < 0 && errno == EINTR)) {
      if (n > 0) data.append(buf, static_cast<std::size_t>(n));
      if (data.size() > kMaxPayloadBytes) break;
    }
  } else {
    std::ifstream in(source, std::ios::binary);
    if (!in) return bad_input("cannot read payload file " + source);
    std::ostringstream ss;
    ss << in.rdbuf();
    data = ss.str();
  }
  if (data.size() > kMaxPayloadBytes) return bad_input("payload is larger than 16 MiB");
  return data;
}

// Runs a launch or job with every error before the spawn mapped to 125 (SPEC §4).
int launch(const GlobalOptions& globals, const RunFlags& f, launcher::RunRequest request,
           const std::vector<std::string>& trailing) {
  auto fail = [](const Status& s) {
    write_stderr(fmt::format("lockbox: {}\n", s.message()));
    return 125;
  };
  // Until the spawn, INT/TERM/HUP end lockbox with 125, whatever it waits for (SPEC §18).
  launcher::end_run_on_signal();
  auto ctx = Context::create(globals);
  if (!ctx.is_ok()) return fail(ctx.status());
  auto options = launch_options(f, globals.json);
  if (!options.is_ok()) return fail(options.status());
  auto timeout = optional_duration(f.timeout, "--timeout");
  if (!timeout.is_ok()) return fail(timeout.status());
  request.timeout_ms = *timeout;
  request.ns = f.ns;
  request.group = f.group;
  request.apikey = f.apikey;
  request.env_files = f.env_files;
  if (f.keep_env && !f.user) return fail(bad_input("--keep-env goes with --user"));
  // A lower-privileged child does not get the invoker's credentials (SPEC §18).
  request.pristine = f.pristine || (f.user && !f.keep_env);
  if (request.function_form || request.job) {
    request.extra_args = trailing;
  } else {
    request.command = trailing;
  }
  launcher::LaunchDeps deps;
  deps.policy = &ctx->policy();
  deps.clock = &process_clock();
  const Context& context = *ctx;
  deps.open_store = [&context] { return context.open_store(); };
  if (f.server.empty() != f.token_file.empty())
    return fail(bad_input("--server and --token-file go together"));
  if (!f.server.empty()) {
    const api::RemoteOptions remote{f.server, f.token_file};
    deps.open_source = [remote] { return api::remote_source(remote); };
  }
  if (Status st = use_agent(f, context, deps); !st.is_ok()) return fail(st);
  deps.print_plan = [&globals](const launcher::LaunchPlan& plan) {
    print_resolution(plan.resolution, globals.json);
  };
  if (request.job) {
    if (!f.payload.empty()) {
      auto payload = read_payload(f.payload);
      if (!payload.is_ok()) return fail(payload.status());
      options->payload = std::move(payload).value();
    }
    return launcher::run_job(request, *options, deps);
  }
  return launcher::run_launch(request, *options, deps);
}

}  // namespace

void add_run_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot,
                      const std::vector<std::string>& trailing) {
  auto flags = std::make_shared<RunFlags>();
  CLI::App* run = parent.add_subcommand("run", "Launch a function or command with its secrets");
  run->fallthrough();
  add_context_flags(*run, *flags);
  add_launch_flags(*run, *flags);
  run->add_option("FUNCTION", flags->function_positional, "A function of the policy file");
  run->callback([&globals, &slot, &trailing, flags] {
    slot.action = [&globals, &slot, &trailing, flags]() -> Status {
      launcher::RunRequest request;
      if (!flags->function_positional.empty()) {
        if (flags->function) return bad_input("give either FUNCTION or --function, not both");
        request.function_form = true;
        request.function_name = flags->function_positional;
      } else {
        request.function_name = flags->function;
      }
      slot.exit_code = launch(globals, *flags, std::move(request), trailing);
      return Status::ok();
    };
  });

  CLI::App* job = parent.add_subcommand("job", "Policy jobs");
  job->require_subcommand(1);
  job->fallthrough();
  CLI::App* job_run = job->add_subcommand("run", "Run a policy job with retries");
  job_run->fallthrough();
  auto name = std::make_shared<std::string>();
  job_run->add_option("NAME", *name, "The job")->required();
  job_run->add_option("--payload", flags->payload, "Payload for each attempt's stdin (FILE or -)");
  add_launch_flags(*job_run, *flags);
  job_run->callback([&globals, &slot, &trailing, flags, name] {
    slot.action = [&globals, &slot, &trailing, flags, name]() -> Status {
      launcher::RunRequest request;
      request.job = true;
      request.function_name = *name;
      slot.exit_code = launch(globals, *flags, std::move(request), trailing);
      return Status::ok();
    };
  });
}

}  // namespace lockbox::cli
