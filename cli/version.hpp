#pragma once
// What `lockbox --version` prints: the CMake project version and, when the build knew it, the git
// commit it was built from. The commit lives in one generated translation unit
// (build/cli/version_commit.cpp, written by cli/version_commit.cmake only when it changes), so a
// new commit recompiles that one file and relinks; nothing else is rebuilt.

#include <string>
#include <string_view>

namespace lockbox::cli {

// "0.1.0" (the project() version of CMakeLists.txt).
std::string_view project_version();
// The short commit hash, with "-dirty" when the tree had changes, or "" when unknown (a build
// outside a git checkout).
std::string_view build_commit();
// "lockbox 0.1.0 (commit 0123abcd4567)" or "lockbox 0.1.0".
std::string version_line();

}  // namespace lockbox::cli
