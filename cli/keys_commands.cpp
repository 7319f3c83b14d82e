#include <CLI/CLI.hpp>

#include "cli/command.hpp"

namespace lockbox::cli {

void add_keys_commands(CLI::App&, const GlobalOptions&, ActionSlot&) {}

}  // namespace lockbox::cli
