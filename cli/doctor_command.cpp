#include <CLI/CLI.hpp>

#include "cli/command.hpp"

namespace lockbox::cli {

void add_doctor_command(CLI::App&, const GlobalOptions&, ActionSlot&) {}

}  // namespace lockbox::cli
