#include "launcher/command_lookup.hpp"

#include <sys/stat.h>
#include <unistd.h>

namespace lockbox::launcher {
namespace {

CommandLookup::Outcome probe(const std::filesystem::path& candidate) {
  struct stat st {};
  if (::stat(candidate.c_str(), &st) != 0) return CommandLookup::Outcome::kNotFound;
  if (!S_ISREG(st.st_mode) || ::access(candidate.c_str(), X_OK) != 0) {
    return CommandLookup::Outcome::kNotExecutable;
  }
  return CommandLookup::Outcome::kFound;
}

}  // namespace

CommandLookup find_command(std::string_view command, std::string_view path_env,
                           const std::filesystem::path& workdir) {
  if (command.empty()) return {};
  if (command.find('/') != std::string_view::npos) {
    const std::filesystem::path p = workdir / std::filesystem::path(command);  // absolute stays
    return {probe(p), p};
  }
  CommandLookup best;
  std::size_t start = 0;
  while (start <= path_env.size()) {
    std::size_t end = path_env.find(':', start);
    if (end == std::string_view::npos) end = path_env.size();
    const std::string_view dir = path_env.substr(start, end - start);
    const std::filesystem::path candidate = workdir / std::filesystem::path(dir.empty() ? "." : dir) / command;
    const auto outcome = probe(candidate);
    if (outcome == CommandLookup::Outcome::kFound) return {outcome, candidate};
    if (outcome == CommandLookup::Outcome::kNotExecutable && best.outcome == CommandLookup::Outcome::kNotFound) {
      best = {outcome, candidate};
    }
    start = end + 1;
  }
  return best;
}

}  // namespace lockbox::launcher
