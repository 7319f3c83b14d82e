#!/usr/bin/env bash
# Installs what the browser tests of the web console need (tests/ui/console.test.mjs):
# Debian's chromium (apt-get, when /usr/bin/chromium is missing) and npm's playwright-core,
# (and, for tests/api/openapi_lint.sh, npm's @redocly/cli into BUILD_DIR/openapi-lint)
# pinned by tests/ui/package-lock.json, into BUILD_DIR/ui-test/node_modules (a folder the test
# owns; nothing global, no browser download). Usage: scripts/install-ui-test-deps.sh [BUILD_DIR]
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${1:-$here/build}"
dest="$build/ui-test"

if [ ! -x /usr/bin/chromium ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y --no-install-recommends chromium || {
    $sudo apt-get update && $sudo apt-get install -y --no-install-recommends chromium; }
fi
if ! command -v npm >/dev/null; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get install -y --no-install-recommends nodejs npm || {
    $sudo apt-get update && $sudo apt-get install -y --no-install-recommends nodejs npm; }
fi

mkdir -p "$dest"
cp "$here/tests/ui/package.json" "$here/tests/ui/package-lock.json" "$dest/"
if [ ! -f "$dest/node_modules/playwright-core/index.mjs" ] ||
   ! cmp -s "$here/tests/ui/package-lock.json" "$dest/node_modules/.package-lock.json.installed"; then
  # PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: playwright-core downloads nothing anyway; the test uses /usr/bin/chromium.
  (cd "$dest" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --ignore-scripts)
  cp "$here/tests/ui/package-lock.json" "$dest/node_modules/.package-lock.json.installed"
fi
# The OpenAPI linter of tests/api/openapi_lint.sh: npm @redocly/cli, pinned by its lock file.
lint="$build/openapi-lint"
mkdir -p "$lint"
cp "$here/tests/api/openapi-lint/package.json" "$here/tests/api/openapi-lint/package-lock.json" "$lint/"
if [ ! -x "$lint/node_modules/.bin/redocly" ] ||
   ! cmp -s "$here/tests/api/openapi-lint/package-lock.json" "$lint/node_modules/.package-lock.json.installed"; then
  (cd "$lint" && npm ci --no-audit --no-fund --ignore-scripts)
  cp "$here/tests/api/openapi-lint/package-lock.json" "$lint/node_modules/.package-lock.json.installed"
fi
echo "install-ui-test-deps: chromium $(/usr/bin/chromium --version 2>/dev/null | awk '{print $2}'), playwright-core in $dest/node_modules, @redocly/cli in $lint/node_modules"
