#pragma once
// Runs the real lockbox binary (or any program) for black-box tests: argv, extra environment,
// stdin bytes; captures exit code, stdout and stderr. No shell is involved.

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace lockbox::testing {

struct ProcessResult {
  int exit_code = -1;       // 128+N when killed by signal N
  std::string out;
  std::string err;
};

struct ProcessOptions {
  std::map<std::string, std::string> env;  // added to (or replacing) the inherited environment
  std::vector<std::string> unset_env;      // removed from the inherited environment
  std::optional<std::string> stdin_data;   // nullopt: stdin is /dev/null
  std::string cwd;                         // empty: inherit
  int timeout_ms = 60000;                  // SIGKILL after this
};

ProcessResult run_process(const std::vector<std::string>& argv, const ProcessOptions& options = {});

// Runs LOCKBOX_BIN with `args`.
ProcessResult run_lockbox(const std::vector<std::string>& args, const ProcessOptions& options = {});

}  // namespace lockbox::testing
