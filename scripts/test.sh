#!/usr/bin/env bash
# The whole test suite: installs what is missing, builds with warnings as errors and runs ctest,
# then builds and runs everything again under AddressSanitizer + UndefinedBehaviorSanitizer.
# Set LOCKBOX_SKIP_SANITIZERS=1 to run only the normal build (a quicker local loop), and
# LOCKBOX_SKIP_FUZZ=1 to skip the libFuzzer harnesses (scripts/fuzz.sh, 60 s each).
# The normal build's ctest also runs the store and black-box suites on PostgreSQL (the [pg] tests):
# a throwaway cluster (scripts/pg-cluster.sh) is started for it and stopped on any exit. The ASan
# build runs SQLite only, to keep CI within its time budget (the [pg] tests report SKIP there).
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
pg_dir="$(mktemp -d /tmp/lockbox-pg.XXXXXX)"
chmod 755 "$pg_dir"
trap './scripts/pg-cluster.sh stop "$pg_dir"; rm -rf "$pg_dir"' EXIT
LOCKBOX_TEST_PG_URL="$(./scripts/pg-cluster.sh start "$pg_dir")"
export LOCKBOX_TEST_PG_URL
run_suite build-test -DCMAKE_BUILD_TYPE=RelWithDebInfo
unset LOCKBOX_TEST_PG_URL
# The libFuzzer harnesses, 60 s each on their seed corpora (CONTRIBUTING.md, "Fuzz").
if [ "${LOCKBOX_SKIP_FUZZ:-0}" != "1" ]; then
  echo "== lockbox fuzz: ${LOCKBOX_FUZZ_SECONDS:-60}s per harness ==" >&2
  # In CI all harnesses run at once: each still runs its 60 s, in a quarter of the wall time.
  if [ "${CI:-}" = "true" ]; then export LOCKBOX_FUZZ_JOBS="${LOCKBOX_FUZZ_JOBS:-8}"; fi
  ./scripts/fuzz.sh
fi
if [ "${LOCKBOX_SKIP_SANITIZERS:-0}" != "1" ]; then
  ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
    run_suite build-asan -DCMAKE_BUILD_TYPE=Debug -DLOCKBOX_SANITIZE=ON
fi
