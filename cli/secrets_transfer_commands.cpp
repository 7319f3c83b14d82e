// `secrets import | export` (SPEC §5): dotenv in, env/json/yaml out. Import validates the whole
// file (names, values) before the store is opened, then writes all or nothing in one transaction.

#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <unordered_map>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "cli/export_format.hpp"
#include "core/json_writer.hpp"
#include "cli/output.hpp"
#include "cli/progress.hpp"
#include "cli/scope_flags.hpp"
#include "cli/secret_output.hpp"
#include "cli/value_input.hpp"
#include "resolver/dotenv.hpp"

namespace lockbox::cli {
namespace {

// The largest dotenv file import reads (100,000 lines of ordinary secrets are a few MiB).
constexpr std::size_t kMaxImportBytes = std::size_t{256} << 20;

struct ImportOptions {
  ScopeFlags scope;
  std::string file;
};

struct ExportOptions {
  ScopeFlags scope;
  std::optional<std::string> format;
};

// Checks every parsed entry and turns them into store entries; a name given twice keeps its last
// value (as dotenv does) at the position of its first line.
Result<std::vector<store::ImportEntry>> to_import_entries(
    std::vector<resolver::DotenvEntry>& parsed, std::string_view source,
    const store::Limits& limits, Progress& progress) {
  std::vector<store::ImportEntry> entries;
  entries.reserve(parsed.size());
  std::unordered_map<std::string, std::size_t> index;
  index.reserve(parsed.size());
  for (std::size_t i = 0; i < parsed.size(); ++i) {
    resolver::DotenvEntry& entry = parsed[i];
    const std::string where = fmt::format("{}:{}", source, entry.line);
    LOCKBOX_TRY(validate_name(entry.key, "secret name").with_context(where));
    LOCKBOX_TRY(check_value(entry.value, limits.max_value_bytes,
                            fmt::format("{}: value of {}", where, entry.key)));
    const auto [it, inserted] = index.emplace(entry.key, entries.size());
    if (inserted) {
      entries.push_back({entry.key, std::move(entry.value)});
    } else {
      entries[it->second].value = std::move(entry.value);
    }
    progress.update(i + 1);
  }
  return entries;
}

void print_import_summary(const Context& ctx, const store::ImportSummary& summary) {
  if (ctx.json()) {
    JsonWriter json;
    json.begin_object();
    json.key("created");
    json.integer(static_cast<std::int64_t>(summary.created));
    json.key("updated");
    json.integer(static_cast<std::int64_t>(summary.updated));
    json.key("unchanged");
    json.integer(static_cast<std::int64_t>(summary.unchanged));
    json.end_object();
    emit_json(json);
    return;
  }
  const std::size_t total = summary.created + summary.updated + summary.unchanged;
  print_note(fmt::format("imported {}: {} created, {} updated, {} unchanged", total,
                         summary.created, summary.updated, summary.unchanged));
}

Status run_import(const GlobalOptions& globals, const ImportOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(Scope scope, scope_from_flags(options.scope));
  const bool from_stdin = options.file == "-";
  const std::string source = from_stdin ? "<stdin>" : options.file;
  LOCKBOX_ASSIGN_OR_RETURN(SecretValue content,
                           from_stdin
                               ? read_all(STDIN_FILENO, kMaxImportBytes, "import input")
                               : read_file_bytes(options.file, kMaxImportBytes, "import file"));
  LOCKBOX_ASSIGN_OR_RETURN(std::vector<resolver::DotenvEntry> parsed,
                           resolver::parse_dotenv(content.reveal(), source));
  content.clear();
  Progress progress("checking", parsed.size());
  LOCKBOX_ASSIGN_OR_RETURN(std::vector<store::ImportEntry> entries,
                           to_import_entries(parsed, source, ctx.store_options().limits, progress));
  parsed.clear();
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  store::ImportSummary summary;
  if (!entries.empty()) {
    // Store::import is one transaction with no progress callback: show the phase, not a ratio.
    progress.phase(fmt::format("writing {} secrets", entries.size()), 0);
    LOCKBOX_ASSIGN_OR_RETURN(summary, store->import(scope, std::move(entries)));
  }
  progress.finish();
  print_import_summary(ctx, summary);
  return Status::ok();
}

Status run_export(const GlobalOptions& globals, const ExportOptions& options) {
  LOCKBOX_ASSIGN_OR_RETURN(Context ctx, Context::create(globals));
  LOCKBOX_ASSIGN_OR_RETURN(Scope scope, scope_from_flags(options.scope));
  const std::string format_text = options.format.value_or(ctx.json() ? "json" : "env");
  LOCKBOX_ASSIGN_OR_RETURN(const ExportFormat format, parse_export_format(format_text));
  LOCKBOX_ASSIGN_OR_RETURN(auto store, ctx.open_store());
  store::ListFilter filter;
  filter.scope = scope;
  LOCKBOX_ASSIGN_OR_RETURN(std::vector<store::RevealedSecret> secrets,
                           store->export_values(filter));
  LOCKBOX_ASSIGN_OR_RETURN(SecretValue document, render_export(secrets, format));
  write_stdout(document.reveal());  // the export path: values on stdout, nowhere else
  return Status::ok();
}

}  // namespace

void add_secrets_transfer_commands(CLI::App& secrets, const GlobalOptions& globals,
                                   ActionSlot& slot) {
  auto import = std::make_shared<ImportOptions>();
  CLI::App* cmd = secrets.add_subcommand("import", "Import a dotenv file (all or nothing)");
  add_scope_flags(*cmd, import->scope);
  cmd->add_option("FILE", import->file, "dotenv file, or - for stdin")->required();
  cmd->callback(
      [&, import] { slot.action = [&globals, import] { return run_import(globals, *import); }; });

  auto exp = std::make_shared<ExportOptions>();
  cmd = secrets.add_subcommand("export", "Print the values of a scope (audited)");
  add_scope_flags(*cmd, exp->scope);
  cmd->add_option("--format", exp->format, "env (default), json or yaml");
  cmd->callback([&, exp] { slot.action = [&globals, exp] { return run_export(globals, *exp); }; });
}

}  // namespace lockbox::cli
