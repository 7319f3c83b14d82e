#!/usr/bin/env bash
# A plain configure (`cmake -S . -B build`, no LOCKBOX_* option given; LOCKBOX_TESTS defaults to ON)
# has no test seams: LOCKBOX_TEST_SEAMS is OFF and the core library built from it holds neither the
# LOCKBOX_TEST_NOW clock nor the LOCKBOX_FAULT injector, so its binary ignores both variables.
# As a control, the seam strings must be present in this build's own core library when it was
# configured with -DLOCKBOX_TEST_SEAMS=ON (scripts/test.sh asks for it).
# Usage: default_configure_test.sh SOURCE_DIR GENERATOR CXX_COMPILER LAUNCHER THIS_CORE_LIB THIS_SEAMS
set -euo pipefail
src="$1" generator="$2" cxx="$3" launcher="$4" this_core="$5" this_seams="$6"
fail() { echo "default configure: $*" >&2; exit 1; }
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

extra=()
[ -n "$launcher" ] && extra+=("-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher")
cmake -S "$src" -B "$tmp" -G "$generator" -DCMAKE_CXX_COMPILER="$cxx" "${extra[@]}" >"$tmp.log" 2>&1 ||
  { cat "$tmp.log" >&2; rm -f "$tmp.log"; fail "configure failed"; }
rm -f "$tmp.log"
grep -qx 'LOCKBOX_TESTS:BOOL=ON' "$tmp/CMakeCache.txt" || fail "LOCKBOX_TESTS is not ON by default"
grep -qx 'LOCKBOX_TEST_SEAMS:BOOL=OFF' "$tmp/CMakeCache.txt" ||
  fail "LOCKBOX_TEST_SEAMS is not OFF in a default configure"
cmake --build "$tmp" --target lockbox_core >/dev/null || fail "building lockbox_core failed"
core="$(find "$tmp" -name 'liblockbox_core.a' | head -n 1)"
# Whole outputs in variables: `strings | grep -q` would die of SIGPIPE under pipefail.
default_strings="$(strings -a "$core")"
this_strings="$(strings -a "$this_core")"
for seam in LOCKBOX_TEST_NOW LOCKBOX_FAULT; do
  if grep -q "$seam" <<<"$default_strings"; then fail "a default build still reads $seam"; fi
  if [ "$this_seams" = "ON" ] && ! grep -q "$seam" <<<"$this_strings"; then
    fail "control: the seams build has no $seam (the check above proves nothing)"
  fi
done
echo "default configure: no test seams (LOCKBOX_TEST_NOW and LOCKBOX_FAULT are ignored)"
