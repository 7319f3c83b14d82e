#pragma once
// The lockbox command line (SPEC §5): CLI11 wiring of the global options and the commands, and
// the mapping of every outcome to an exit code.
//
// Exit codes: 0 done; CLI11 parse errors (unknown option, missing argument ...) are 2, never
// CLI11's own codes; --help is 0; every other error prints one line "lockbox: <message>" on
// stderr and exits with exit_code_for(status). Messages never contain a secret value.

namespace lockbox::cli {

// Parses argv, runs the selected command and returns the process exit code.
int run(int argc, char** argv);

}  // namespace lockbox::cli
