#pragma once
// Shell completion (SPEC §16): `lockbox completion bash|zsh|fish` prints a script that, at each
// TAB, runs `lockbox __complete WORDS...` (hidden; never in --help). That answer is computed from
// the very CLI11 tree the parser uses, so completions cannot drift from the commands: command and
// option names (the command's own, then the global ones), option values that are a fixed set, and
// the function and job names of the policy file (--policy on the line being completed, else
// LOCKBOX_POLICY, else ./lockbox.yaml). It never opens the store and never reads a key.
//
// Protocol of `__complete`: the arguments are the words after the program name, the last one the
// word being completed (possibly empty; bash's separate "=" words are joined back). Output, one per
// line: "CANDIDATE\tDESCRIPTION" (already filtered by the word's prefix), or a directive the shell
// acts on: ":files", ":dirs" or ":commands". Exit 0, even when nothing matches.

#include <string>
#include <string_view>
#include <vector>

#include "cli/command.hpp"

namespace lockbox::cli {

inline constexpr std::string_view kCompleteCommand = "__complete";

// Adds `completion SHELL` under `root`. REQUIRES: `root`, `globals`, `slot` outlive the run.
void add_completion_command(CLI::App& root, const GlobalOptions& globals, ActionSlot& slot);

// The `__complete` answer for `words` (see above), as printed.
std::string complete_words(const CLI::App& root, std::vector<std::string> words);

// The script for `shell` ("bash", "zsh" or "fish"); empty for anything else.
std::string completion_script(std::string_view shell);

}  // namespace lockbox::cli
