#include "cli/version.hpp"

#include "cli/version_config.hpp"

namespace lockbox::cli {

std::string_view project_version() {
  return kProjectVersion;
}

std::string version_line() {
  std::string line = "lockbox ";
  line += project_version();
  if (!build_commit().empty()) {
    line += " (commit ";
    line += build_commit();
    line += ")";
  }
  return line;
}

}  // namespace lockbox::cli
