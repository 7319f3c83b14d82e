#!/usr/bin/env bash
# The function SDKs (SPEC §16) under the real `lockbox run`, with both deliveries: a fresh store
# holds two secrets, and a probe in each language (probe.mjs under node, probe.py under python3)
# checks get, the fallback, getRequired/get_required and all(). Exit 77 (skipped) when the
# runtime is not installed, or for --deliver file when no tmpfs is available.
# Usage: sdk_test.sh LOCKBOX_BINARY SOURCE_DIR js|python env|file
set -uo pipefail
lockbox=$(realpath "$1") src=$(realpath "$2") lang=$3 mode=$4
here="$src/tests/sdk"
case $lang in
  js) runtime=node probe=("$here/probe.mjs" "$mode" "$src/sdk/js/index.mjs") ;;
  python) runtime=python3 probe=("$here/probe.py" "$mode" "$src/sdk/python") ;;
  *) echo "unknown language $lang"; exit 2 ;;
esac
command -v "$runtime" >/dev/null || { echo "SKIP: $runtime is not installed"; exit 77; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for v in $(env | sed -n 's/^\(FLUXBASE_SECRET[A-Za-z0-9_]*\)=.*/\1/p; s/^\(LOCKBOX_[A-Za-z0-9_]*\)=.*/\1/p'); do unset "$v"; done
export LOCKBOX_DATA_DIR="$work/.lockbox"
cd "$work" || exit 1
"$lockbox" init >/dev/null 2>&1 || exit 1
printf '%s' 'postgres://u:p@db.invalid/app' | "$lockbox" secrets set DB_URL >/dev/null 2>&1 || exit 1
printf 'k-123\n' | "$lockbox" secrets set API_KEY >/dev/null 2>&1 || exit 1
"$lockbox" run --deliver "$mode" -- "$runtime" "${probe[@]}"
rc=$?
if [ "$mode" = file ] && [ "$rc" -eq 125 ]; then
  echo "SKIP: lockbox could not deliver files here (no tmpfs?)"; exit 77
fi
exit "$rc"
