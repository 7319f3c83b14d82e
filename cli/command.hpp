#pragma once
// What the command files share: the global options (SPEC §5, exact) and the registration
// functions that add each command to the CLI11 tree.
//
// A command's CLI11 callback does no work: it only stores an Action in the ActionSlot. app.cpp
// runs that Action after the whole command line parsed, so a parse error never leaves a command
// half done, and every error reaches main as a Status.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/status.hpp"

namespace CLI {
class App;
}  // namespace CLI

namespace lockbox::cli {

struct GlobalOptions {
  std::string data_dir = "./.lockbox";  // --data-dir, LOCKBOX_DATA_DIR
  std::string store_url;                // --store, LOCKBOX_STORE
  std::string policy_file;              // --policy, LOCKBOX_POLICY
  bool builtin_policy = false;          // ignore any policy file (doctor, after a broken one)
  std::string master_key_file;          // --master-key-file
  std::string busy_timeout = "10s";     // --busy-timeout
  bool json = false;                    // --json
  int verbosity = 0;                    // -v (repeatable)
};

using Action = std::function<Status()>;

// Holds the Action of the command that was selected on the command line.
struct ActionSlot {
  Action action;
  // Set by commands whose exit code is not a Status (run, job run: the child's code).
  std::optional<int> exit_code;
};

// Each adds its commands under `parent`; their actions read `globals` when they run.
// REQUIRES: `globals` and `slot` outlive the parse and the run.
void add_init_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);
void add_secrets_read_commands(CLI::App& secrets, const GlobalOptions& globals, ActionSlot& slot);
void add_secrets_write_commands(CLI::App& secrets, const GlobalOptions& globals, ActionSlot& slot);
void add_secrets_transfer_commands(CLI::App& secrets, const GlobalOptions& globals,
                                   ActionSlot& slot);
// run and job run; `trailing` holds the arguments after the first "--" (split off before parsing).
void add_run_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot,
                      const std::vector<std::string>& trailing);
void add_resolve_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);
void add_policy_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);
// keys status|rotate|reencrypt|rewrap|generate (SPEC §6).
void add_keys_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);
// audit list|verify|checkpoint (SPEC §7).
void add_audit_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);
// tokens create|list|revoke (SPEC §5, §8).
void add_tokens_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);
// serve (SPEC §8): the REST API and scheduled key rotation.
void add_serve_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);
// store copy --to URL (SPEC §11).
void add_store_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);
// doctor (SPEC §5).
void add_doctor_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot);

}  // namespace lockbox::cli
