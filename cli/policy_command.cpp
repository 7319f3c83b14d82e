// `lockbox policy check [FILE]` (SPEC §5, §9): validates a policy file, with line numbers in errors.
#include <CLI/CLI.hpp>
#include <fmt/format.h>

#include "cli/command.hpp"
#include "core/json_writer.hpp"
#include "cli/output.hpp"
#include "cli/policy_source.hpp"
#include "policies/policy_loader.hpp"

namespace lockbox::cli {

void add_policy_command(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  CLI::App* policy_cmd = parent.add_subcommand("policy", "Policy file tools");
  policy_cmd->require_subcommand(1);
  policy_cmd->fallthrough();
  CLI::App* check = policy_cmd->add_subcommand("check", "Validate a policy file");
  check->fallthrough();
  auto file = std::make_shared<std::string>();
  check->add_option("FILE", *file, "Policy file (default: --policy, LOCKBOX_POLICY or ./lockbox.yaml)");
  check->callback([&globals, &slot, file] {
    slot.action = [&globals, file]() -> Status {
      std::filesystem::path path;
      if (!file->empty()) {
        path = *file;
      } else if (auto p = policy_path(globals)) {
        path = *p;
      } else {
        return bad_input("no policy file: give FILE, --policy, or create ./lockbox.yaml");
      }
      LOCKBOX_ASSIGN_OR_RETURN(const policies::Policy policy, policies::load_policy_file(path));
      if (globals.json) {
        JsonWriter json;
        json.begin_object();
        json.key("file"); json.string(path.string());
        json.key("valid"); json.boolean(true);
        json.key("functions"); json.integer(static_cast<std::int64_t>(policy.functions.size()));
        json.key("jobs"); json.integer(static_cast<std::int64_t>(policy.jobs.size()));
        json.key("namespaces"); json.integer(static_cast<std::int64_t>(policy.namespaces.size()));
        json.key("roles"); json.integer(static_cast<std::int64_t>(policy.roles.size()));
        json.end_object();
        write_stdout(json.view());
        write_stdout("\n");
      } else {
        write_stdout(fmt::format("{}: ok ({} functions, {} jobs, {} namespaces, {} roles)\n", path.string(),
                                 policy.functions.size(), policy.jobs.size(), policy.namespaces.size(),
                                 policy.roles.size()));
      }
      return Status::ok();
    };
  });
}

}  // namespace lockbox::cli
