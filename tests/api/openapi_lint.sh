#!/usr/bin/env bash
# Lints docs/openapi.yaml with a real validator, npm @redocly/cli (pinned by
# tests/api/openapi-lint/package-lock.json), installed into DEST by scripts/install-ui-test-deps.sh;
# installs it itself when it is missing. Skipped (exit 77) only when npm is absent.
# Usage: openapi_lint.sh SOURCE_DIR DEST
set -euo pipefail
src="$1"
dest="$2"
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
  echo "openapi_lint: SKIPPED: npm (or node) is not installed" >&2
  exit 77
fi
bin="$dest/node_modules/.bin/redocly"
if [ ! -x "$bin" ] || ! cmp -s "$src/tests/api/openapi-lint/package-lock.json" "$dest/node_modules/.package-lock.json.installed"; then
  mkdir -p "$dest"
  cp "$src/tests/api/openapi-lint/package.json" "$src/tests/api/openapi-lint/package-lock.json" "$dest/"
  (cd "$dest" && npm ci --no-audit --no-fund --ignore-scripts >&2)
  cp "$src/tests/api/openapi-lint/package-lock.json" "$dest/node_modules/.package-lock.json.installed"
fi
# The "recommended" rule set; errors fail the test, warnings are printed.
cd "$src"
REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true "$bin" lint --extends=recommended docs/openapi.yaml
