#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors and runs ctest,
# then builds and runs everything again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Set LOCKBOX_SKIP_SANITIZERS=1 to run only the normal build (a quicker local loop).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh

jobs="$(nproc)"
run_suite() {
  local dir="$1"; shift
  echo "== lockbox tests: $dir ==" >&2
  cmake -S . -B "$dir" -DLOCKBOX_WERROR=ON -DLOCKBOX_TESTS=ON -DLOCKBOX_TEST_SEAMS=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
  ctest --test-dir "$dir" -j "$jobs" --output-on-failure --timeout 600
}

# The console's browser test runs in the normal build only (in build-asan it reports SKIP).
./scripts/install-ui-test-deps.sh build-test
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
if [ "${LOCKBOX_SKIP_SANITIZERS:-0}" != "1" ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DLOCKBOX_SANITIZE=ON
fi
