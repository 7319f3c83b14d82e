#!/usr/bin/env bash
# Configures and builds lockbox into BUILD_DIR (default build/). Extra arguments go to cmake.
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir="${BUILD_DIR:-build}"
# A release build: no tests, and no test seams (LOCKBOX_TEST_NOW, LOCKBOX_FAULT are ignored).
cmake -S . -B "$build_dir" -DCMAKE_BUILD_TYPE="${BUILD_TYPE:-RelWithDebInfo}" -DLOCKBOX_TESTS=OFF \
  -DLOCKBOX_TEST_SEAMS=OFF "$@" >/dev/null
cmake --build "$build_dir" -j "$(nproc)"
