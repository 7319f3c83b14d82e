#pragma once
// Finding the command to exec (SPEC §4: direct exec, PATH lookup, no shell).
// Not Boost.Process's find_executable: it cannot tell "not found" (127) from "found but not
// executable" (126), which the exit-code contract needs.

#include <filesystem>
#include <string>
#include <string_view>

#include "core/status.hpp"

namespace lockbox::launcher {

struct CommandLookup {
  enum class Outcome { kFound, kNotFound, kNotExecutable };
  Outcome outcome = Outcome::kNotFound;
  std::filesystem::path path;
};

// A command containing '/' is used as is (relative to the working directory); otherwise each
// directory of `path_env` (":"-separated, empty entries mean ".") is searched for a regular file
// with execute permission. A matching file without it (or a directory) is kNotExecutable unless
// an executable one appears later in PATH (as execvp and bash do).
// `workdir`, when not empty, is the directory the child will run in: relative names (the command
// itself, relative PATH entries) are taken against it, as the exec after the chdir will.
CommandLookup find_command(std::string_view command, std::string_view path_env,
                           const std::filesystem::path& workdir = {});

}  // namespace lockbox::launcher
