#!/usr/bin/env bash
# The man page lockbox(1), generated from docs/CLI.md, renders with `man -l` without a groff
# warning and carries every command of docs/CLI.md. Exit 77 (skipped) when man is not installed.
# Usage: man_test.sh LOCKBOX_1 DOCS_CLI_MD
set -uo pipefail
page=$1 doc=$2
command -v man >/dev/null || { echo "SKIP: man is not installed (apt-get install man-db)"; exit 77; }
[ -s "$page" ] || { echo "FAIL: $page is missing or empty"; exit 1; }
out=$(MANWIDTH=100 LC_ALL=C.UTF-8 man --warnings -l "$page" 2>"${TMPDIR:-/tmp}/man_test.$$")
warnings=$(cat "${TMPDIR:-/tmp}/man_test.$$"); rm -f "${TMPDIR:-/tmp}/man_test.$$"
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }
[ -z "$warnings" ] || fail "man/groff warned: $warnings"
grep -q '^LOCKBOX(1)' <<<"$out" || fail "no LOCKBOX(1) header"
for section in NAME SYNOPSIS 'GLOBAL OPTIONS' 'EXIT CODES' 'JSON SHAPES' COMMANDS 'SEE ALSO'; do
  grep -q "^$section\$" <<<"$out" || fail "no $section section"
done
while IFS= read -r cmd; do
  grep -q "^   $cmd\$" <<<"$out" || fail "no subsection for '$cmd'"
done < <(sed -n 's/^### `\(lockbox [a-z -]*\)`$/\1/p' "$doc")
grep -q -- '--deliver env|file' <<<"$out" || fail "an option row is not rendered"
[ "$failures" -eq 0 ] && echo "lockbox(1) renders: $(wc -l <<<"$out") lines"
exit $((failures > 0))
