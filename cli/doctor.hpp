#pragma once
// Private to lockbox_cli: what `lockbox doctor` collects (findings with a severity and a fix) and
// its file and master-key checks (doctor_files.cpp); the command itself is doctor_command.cpp.

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/command.hpp"
#include "cli/context.hpp"
#include "store/master_key.hpp"

namespace lockbox::cli::doctor {

inline constexpr std::string_view kKeyPlacementFix =
    "fine for local development; in production keep the master key elsewhere, e.g. "
    "LOCKBOX_MASTER_KEY from a secrets manager or a file on another volume";

enum class Severity { kAction, kWarning };

struct Finding {
  Severity severity;
  std::string check;  // data_dir, database, master_key, store, policy, secrets, keys
  std::string message;
  std::string fix;
};

struct Report {
  std::vector<Finding> findings;

  void action(std::string check, std::string message, std::string fix) {
    findings.push_back({Severity::kAction, std::move(check), std::move(message), std::move(fix)});
  }
  void warning(std::string check, std::string message, std::string fix) {
    findings.push_back({Severity::kWarning, std::move(check), std::move(message), std::move(fix)});
  }
  [[nodiscard]] std::size_t count(Severity s) const {
    return static_cast<std::size_t>(std::count_if(
        findings.begin(), findings.end(), [s](const Finding& f) { return f.severity == s; }));
  }
};


// Owner and group/other bits of the data dir, and the .gitignore in it.
void check_data_dir(const Context& ctx, Report& report);
// The database file and its -wal/-shm companions: owner and group/other bits.
void check_database_files(const Context& ctx, Report& report);
// Loads the master key once (main() scrubbed LOCKBOX_MASTER_* into a one-shot capture, so a second
// load would no longer see an environment key), checking the key file's owner, mode and place.
// nullopt (with a finding) when there is no usable key.
std::optional<store::MasterKey> check_master_key(const Context& ctx, const GlobalOptions& globals,
                                                 Report& report);

}  // namespace lockbox::cli::doctor
