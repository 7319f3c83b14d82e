#pragma once
// The web console's files (ui/), compiled into the binary at build time by
// cmake/EmbedFiles.cmake (SPEC §14: nothing loads from another origin, nothing is downloaded).
// Thread-safety: immutable after static initialisation.

#include <cstddef>
#include <string_view>
#include <vector>

namespace lockbox::api {

struct UiAsset {
  std::string_view path;  // relative to ui/: "index.html", "app.js"
  const unsigned char* data;
  std::size_t size;
};

// Every embedded file (generated source).
const std::vector<UiAsset>& ui_assets();

}  // namespace lockbox::api
