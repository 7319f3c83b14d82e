// `store copy --to URL` (SPEC §11, exact): the current store, whole and verified, into an empty
// target of either backend (store/copy.hpp). A progress bar on stderr at a terminal for copies of
// more than 1,000 rows; nothing otherwise but the one summary line.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/secret_output.hpp"
#include "core/json_writer.hpp"
#include "store/copy.hpp"

namespace lockbox::cli {
namespace {

constexpr std::int64_t kProgressRows = 1000;

void print_summary(const Context& ctx, const store::CopySummary& s, const std::string& where) {
  if (!ctx.json()) {
    print_note(fmt::format(
        "copied {} secrets ({} versions), {} tokens and {} audit records to {}; verified",
        s.secrets, s.versions, s.tokens, s.audit_records, where));
    return;
  }
  JsonWriter json;
  json.begin_object();
  json.key("target");
  json.string(where);
  json.key("secrets");
  json.integer(s.secrets);
  json.key("versions");
  json.integer(s.versions);
  json.key("tokens");
  json.integer(s.tokens);
  json.key("audit_records");
  json.integer(s.audit_records);
  json.key("verified");
  json.boolean(true);
  json.end_object();
  emit_json(json);
}

Status run_copy(const GlobalOptions& globals, const std::string& to) {
  const std::string where = store::display_url(to);
  if (!to.starts_with("sqlite:") && !to.starts_with("postgresql://") &&
      !to.starts_with("postgres://")) {
    return bad_input("store copy --to " + where + ": expected sqlite:PATH or postgresql://...");
  }
  LOCKBOX_ASSIGN_OR_RETURN(const Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(auto key, ctx.load_master_key());
  if (!key)
    return key_error("no master key: configure one as for any command (SPEC §6) to copy the store");
  store::StoreOptions target = ctx.store_options();
  target.url = to;
  std::unique_ptr<Progress> bar;
  std::string phase;
  store::CopyOptions options;
  options.on_progress = [&](const store::CopyProgress& p) {
    if (p.total <= kProgressRows && !bar) return;
    if (!bar) bar = std::make_unique<Progress>(p.phase, static_cast<std::size_t>(p.total));
    if (p.phase != phase) {
      phase = p.phase;
      bar->phase(p.phase, static_cast<std::size_t>(p.total));
    }
    bar->update(static_cast<std::size_t>(p.done));
  };
  auto copied = store::copy_store(ctx.store_options(), target, *key, options);
  if (bar) bar->finish();
  if (!copied.is_ok()) return copied.status();
  print_summary(ctx, *copied, where);
  return Status::ok();
}

}  // namespace

void add_store_commands(CLI::App& parent, const GlobalOptions& globals, ActionSlot& slot) {
  CLI::App* group = parent.add_subcommand("store", "Move the store");
  group->require_subcommand(1);
  CLI::App* cmd = group->add_subcommand(
      "copy",
      "Copy the whole store into an empty store (sqlite:PATH or postgresql://...), verified");
  auto to = std::make_shared<std::string>();
  cmd->add_option("--to", *to, "The target store URL (must be empty)")->required();
  cmd->callback([&, to] { slot.action = [&globals, to] { return run_copy(globals, *to); }; });
}

}  // namespace lockbox::cli
