#!/usr/bin/env bash
# The README's main job: install what is missing, build, then seed a fresh store and launch the
# sample functions through `lockbox run`, showing which variables they received (names only).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# Only the binary: the test suite is built by scripts/test.sh.
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo -DLOCKBOX_TESTS=OFF -DLOCKBOX_TEST_SEAMS=OFF >/dev/null
cmake --build build -j "$(nproc)" --target lockbox >/dev/null
lockbox="$PWD/build/cli/lockbox"

work="$(mktemp -d "${TMPDIR:-/tmp}/lockbox-demo-XXXXXX")"
trap 'rm -rf "$work"' EXIT
export LOCKBOX_DATA_DIR="$work/.lockbox" LOCKBOX_POLICY="$PWD/samples/lockbox.yaml"
unset LOCKBOX_MASTER_KEY LOCKBOX_MASTER_KEY_FILE LOCKBOX_MASTER_PASSPHRASE LOCKBOX_STORE

step() { printf '\n\033[1m$ %s\033[0m\n' "$*"; }
run() { step "lockbox $*"; "$lockbox" "$@"; }

run init
step "lockbox secrets import samples/seed.env --namespace production"
"$lockbox" secrets import samples/seed.env --namespace production
step "printf '%s' 'staging-token' | lockbox secrets set API_TOKEN --namespace staging"
printf '%s' 'staging-token' | "$lockbox" secrets set API_TOKEN --namespace staging --description "demo token"
step "printf '%s' 'global-flag' | lockbox secrets set FEATURE_FLAGS"
printf '%s' 'global-flag' | "$lockbox" secrets set FEATURE_FLAGS
run secrets list
run resolve --function send-email --namespace production
run run send-email
run run hello-sh
run run --deliver file read-files
step "echo '{\"since\": \"2026-01-01\"}' | lockbox job run sync-data --payload -"
echo '{"since": "2026-01-01"}' | "$lockbox" job run sync-data --payload -
if command -v node >/dev/null 2>&1; then run run hello-node; fi
step "the data dir holds no plaintext value:"
if grep -rqa 'SG.sample-not-a-real-key' "$LOCKBOX_DATA_DIR"; then echo "FOUND PLAINTEXT" >&2; exit 1; fi
echo "  grep for the SendGrid sample key in $LOCKBOX_DATA_DIR: no match"
run keys rotate
run keys reencrypt
run keys status
run audit list --action launch --no-pager
run audit verify
