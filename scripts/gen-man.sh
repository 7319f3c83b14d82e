#!/usr/bin/env bash
# Generates the man page lockbox(1) from docs/CLI.md, its one source, so the two never disagree.
# Needs only bash and awk (no pandoc): the subset of Markdown docs/CLI.md uses — headings, fenced
# code, two-column tables, paragraphs, `code`, **bold** and [links](...) — becomes roff.
# Usage: scripts/gen-man.sh [CLI.md [VERSION]] > lockbox.1   (the build runs it; see cli/CMakeLists.txt)
set -euo pipefail
src=${1:-"$(dirname "$0")/../docs/CLI.md"}
version=${2:-}
awk -v version="$version" '
function esc(s) {
  gsub(/\\/, "\\e", s)
  gsub(/-/, "\\-", s)
  return s
}
# Inline markup: `code` and **bold** in bold, [text](target) as text, then a line that would
# start with a roff control character is protected.
function inline(s,   out, m) {
  s = esc(s)
  while (match(s, /\[[^]]*\]\([^)]*\)/)) {
    m = substr(s, RSTART, RLENGTH); sub(/\]\(.*$/, "", m); sub(/^\[/, "", m)
    s = substr(s, 1, RSTART - 1) m substr(s, RSTART + RLENGTH)
  }
  while (match(s, /\*\*[^*]+\*\*/)) s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 2, RLENGTH - 4) "\\fR" substr(s, RSTART + RLENGTH)
  while (match(s, /`[^`]+`/)) s = substr(s, 1, RSTART - 1) "\\fB" substr(s, RSTART + 1, RLENGTH - 2) "\\fR" substr(s, RSTART + RLENGTH)
  if (s ~ /^[.\047]/) s = "\\&" s
  return s
}
BEGIN {
  print ".\\\" Generated from docs/CLI.md by scripts/gen-man.sh; do not edit."
  print ".TH LOCKBOX 1 \"\" \"lockbox " version "\" \"User Commands\""
  print ".SH NAME"
  print "lockbox \\- encrypted secrets for functions and jobs"
  print ".SH SYNOPSIS"
  print ".B lockbox"
  print "[\\fIGLOBAL OPTIONS\\fR] \\fICOMMAND\\fR [\\fISUBCOMMAND\\fR] [\\fIOPTIONS\\fR] [\\fIARGS\\fR]"
  print ".SH DESCRIPTION"
}
/^```/ { if (code) { print ".EE"; print ".RE"; code = 0 } else { print ".RS 4"; print ".EX"; code = 1 }; next }
code { line = esc($0); if (line ~ /^[.\047]/) line = "\\&" line; print line; next }
/^# / { next }
/^## / { t = substr($0, 4); print ".SH " toupper(inline(t)); next }
/^### / { t = substr($0, 5); gsub(/`/, "", t); print ".SS \"" esc(t) "\""; next }
/^\|/ {
  n = split($0, cell, /[ ]*\|[ ]*/)
  # cell[1] and cell[n] are empty (the outer bars); \| inside a cell is an escaped bar.
  row = $0; gsub(/\\\|/, "\001", row); n = split(row, cell, /[ ]*\|[ ]*/)
  if (cell[2] ~ /^-+$/) next
  if (!table) { table = 1; next }  # the header row
  tag = cell[2]; body = cell[3]
  for (i = 4; i < n; i++) body = body " | " cell[i]
  gsub(/\001/, "|", tag); gsub(/\001/, "|", body)
  print ".TP"; print inline(tag); print inline(body)
  next
}
/^$/ { if (table) { table = 0 }; print ".PP"; next }
{ print inline($0) }
END {
  print ".SH SEE ALSO"
  print "The documentation of lockbox: docs/CLI.md (this page), docs/LAUNCHING.md, docs/KEYS.md,"
  print "docs/AUDIT.md, docs/API.md and docs/SECURITY.md in its source tree, or /usr/share/doc/lockbox."
}
' "$src"
