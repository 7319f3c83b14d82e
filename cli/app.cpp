#include "cli/app.hpp"

#include <CLI/CLI.hpp>
#include <cctype>
#include <exception>
#include <iostream>
#include <string>

#include "cli/agent_choice.hpp"
#include "cli/command.hpp"
#include "cli/completion.hpp"
#include "cli/output.hpp"
#include "cli/version.hpp"
#include "core/log.hpp"

namespace lockbox::cli {
namespace {

void add_global_options(CLI::App& app, GlobalOptions& globals) {
  app.add_option("--data-dir", globals.data_dir, "Data directory (default ./.lockbox)")
      ->envname("LOCKBOX_DATA_DIR");
  app.add_option("--store", globals.store_url,
                 "Store URL: sqlite:PATH or postgresql://[user@]host[:port]/db")
      ->envname("LOCKBOX_STORE");
  app.add_option("--policy", globals.policy_file, "Policy file")->envname("LOCKBOX_POLICY");
  app.add_option("--master-key-file", globals.master_key_file, "Master key file");
  app.add_option("--busy-timeout", globals.busy_timeout,
                 "How long to wait for a busy store (default 10s)");
  app.add_flag("--json", globals.json, "Machine-readable JSON output");
  app.add_flag("-v,--verbose", globals.verbosity, "More log output (repeatable)");
}

// True for "--lower-case-name" and "-x": the shapes of option names. Anything else CLI11 did not
// expect (a stray positional, "-Abc") may be a value typed in the wrong place and is not echoed.
bool looks_like_option(const std::string& arg) {
  const std::string name = arg.substr(0, arg.find('='));
  if (name.size() == 2) return name[0] == '-' && std::isalpha(static_cast<unsigned char>(name[1]));
  return name.size() > 2 && name.size() <= 40 && name.rfind("--", 0) == 0 &&
         name.find_first_not_of("-abcdefghijklmnopqrstuvwxyz0123456789", 2) == std::string::npos;
}

bool looks_like_command(const std::string& arg) {
  return !arg.empty() && arg.size() <= 30 &&
         arg.find_first_not_of("abcdefghijklmnopqrstuvwxyz-") == std::string::npos;
}

std::string extras_message(const std::vector<std::string>& remaining) {
  std::string shown;
  std::size_t hidden = 0;
  for (const std::string& arg : remaining) {
    if (looks_like_option(arg)) {
      shown += (shown.empty() ? "" : " ") + arg.substr(0, arg.find('='));
    } else {
      ++hidden;
    }
  }
  std::string message = shown.empty() ? "" : "unknown option: " + shown;
  if (hidden > 0) {
    message += (shown.empty() ? "" : "; ") + std::to_string(hidden) + " unexpected argument" +
               (hidden > 1 ? "s" : "") + " (not shown)";
  }
  return message.empty() ? "unexpected arguments" : message;
}

// True when the command line selects run or job run: their usage errors are 125 (SPEC §4), since
// CLI11's own codes and 2 could be mistaken for a child's exit code.
bool is_launch_command(CLI::App& app) {
  return app.got_subcommand("run") || app.got_subcommand("job");
}

int handle_parse_error(CLI::App& app, const CLI::ParseError& error) {
  if (error.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success)) {
    return app.exit(error, std::cout, std::cerr) == 0 ? 0 : 2;  // --help
  }
  const std::vector<std::string> remaining = app.remaining(true);
  std::string message = error.what();
  if (dynamic_cast<const CLI::ExtrasError*>(&error) != nullptr) {
    message = extras_message(remaining);
  } else if (dynamic_cast<const CLI::RequiredError*>(&error) != nullptr && !remaining.empty() &&
             message.rfind("A subcommand is required", 0) == 0) {
    // CLI11 leaves a mistyped command among the remaining arguments.
    message = looks_like_command(remaining.front()) ? "unknown command: " + remaining.front()
                                                    : extras_message(remaining);
  }
  print_note("lockbox: " + single_line(message) + " (see lockbox --help)");
  return is_launch_command(app) ? 125 : 2;
}

// Splits argv at the first "--" that follows a run/job token: what comes after is the command (or
// the function's extra arguments) and must never be parsed as lockbox options.
std::vector<std::string> split_trailing(int& argc, char** argv) {
  bool launch = false;
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    if (arg == "run" || arg == "job") launch = true;
    if (arg == "--" && launch) {
      std::vector<std::string> trailing(argv + i + 1, argv + argc);
      argc = i;
      return trailing;
    }
  }
  return {};
}

void apply_verbosity(int verbosity) {
  if (verbosity <= 0) return;
  const int wanted = static_cast<int>(log::Level::kWarn) + verbosity;
  const int level = std::max(static_cast<int>(log::level()),
                             std::min(wanted, static_cast<int>(log::Level::kDebug)));
  log::set_level(static_cast<log::Level>(level));
}

void add_commands(CLI::App& app, const GlobalOptions& globals, ActionSlot& slot,
                  const std::vector<std::string>& trailing) {
  add_init_command(app, globals, slot);
  add_run_commands(app, globals, slot, trailing);
  add_resolve_command(app, globals, slot);
  add_policy_command(app, globals, slot);
  add_keys_commands(app, globals, slot);
  add_audit_commands(app, globals, slot);
  add_doctor_command(app, globals, slot);
  add_tokens_commands(app, globals, slot);
  add_serve_command(app, globals, slot);
  add_agent_command(app, globals, slot);
  add_store_commands(app, globals, slot);
  add_completion_command(app, globals, slot);
  CLI::App* secrets = app.add_subcommand("secrets", "Manage secrets");
  secrets->require_subcommand(1);
  add_secrets_read_commands(*secrets, globals, slot);
  add_secrets_write_commands(*secrets, globals, slot);
  add_secrets_transfer_commands(*secrets, globals, slot);
}

// CLI11 prints only a command's own options; say where the global ones are.
void add_global_footer(CLI::App& app) {
  for (CLI::App* sub : app.get_subcommands([](CLI::App*) { return true; })) {
    sub->footer(
        "Global options, accepted here too: --data-dir DIR --store URL --policy FILE "
        "--master-key-file F --busy-timeout DUR --json -v (see lockbox --help)");
    add_global_footer(*sub);
  }
}

}  // namespace

int run(int argc, char** argv) {
  GlobalOptions globals;
  ActionSlot slot;
  CLI::App app{"lockbox: encrypted secrets for functions and jobs", "lockbox"};
  // Global options are accepted after the command too: every level falls through to the root.
  app.fallthrough();
  app.require_subcommand(1);
  add_global_options(app, globals);
  app.set_version_flag("--version", version_line(),
                       "Print the version and the git commit, then exit");
  // `lockbox __complete WORDS...` (the completion scripts' helper) reads the tree, never parses.
  const bool completing = argc > 1 && std::string_view(argv[1]) == kCompleteCommand;
  const std::vector<std::string> trailing =
      completing ? std::vector<std::string>{} : split_trailing(argc, argv);
  add_commands(app, globals, slot, trailing);
  add_global_footer(app);
  if (completing) {
    write_stdout(complete_words(app, std::vector<std::string>(argv + 2, argv + argc)));
    return 0;
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& error) {
    return handle_parse_error(app, error);
  }
  apply_verbosity(globals.verbosity);
  if (!slot.action) {
    print_note("lockbox: no command given (see lockbox --help)");
    return 2;
  }
  Status status;
  try {
    status = slot.action();
  } catch (const std::exception& e) {
    status = runtime_error(std::string("internal error: ") + e.what());
  }
  if (slot.exit_code) return *slot.exit_code;
  if (status.is_ok()) return 0;
  print_note("lockbox: " + single_line(status.message()));
  return exit_code_for(status);
}

}  // namespace lockbox::cli
