#!/usr/bin/env bash
# Builds the libFuzzer harnesses (every tests/*/fuzz/*_fuzz.cpp) with the one command each header
# documents, and runs each for LOCKBOX_FUZZ_SECONDS (default 60) on its committed seed corpus
# (tests/*/fuzz/<name>_corpus/, copied: the corpus in the tree is never written), as many at once
# as there are cores (or LOCKBOX_FUZZ_JOBS). A crash, leak or sanitizer report fails the run and
# leaves the input under $LOCKBOX_FUZZ_OUT (default build-fuzz/). Needs clang with libFuzzer (Debian clang,
# libclang-rt-14-dev; scripts/install-deps.sh installs them).
# Usage: scripts/fuzz.sh [HARNESS.cpp ...]        (default: all)
#        scripts/fuzz.sh --print-command HARNESS.cpp  (the documented command, one word per line)
set -euo pipefail
cd "$(dirname "$0")/.."

# The header's command: the lines from "//   clang++" to "// (one command", comment marks removed.
documented_command() {
  sed -n '/^\/\/   clang++/,/^\/\/ (one command/p' "$1" | grep -v '^// (one command' |
    sed -e 's|^//[[:space:]]*||' | tr ' ' '\n' | grep -v '^$'
}

if [ "${1:-}" = "--print-command" ]; then
  documented_command "$2"
  exit 0
fi

seconds="${LOCKBOX_FUZZ_SECONDS:-60}"
out="${LOCKBOX_FUZZ_OUT:-build-fuzz}"
mkdir -p "$out"
if [ $# -gt 0 ]; then harnesses=("$@"); else mapfile -t harnesses < <(ls tests/*/fuzz/*_fuzz.cpp); fi

build_one() {
  local harness="$1" name; name="$(basename "$harness" .cpp)"
  local words=() args=()
  mapfile -t words < <(documented_command "$harness")
  [ "${words[0]:-}" = "clang++" ] || { echo "fuzz: $harness: no documented clang++ command" >&2; return 1; }
  for ((i = 1; i < ${#words[@]}; ++i)); do
    if [ "${words[i]}" = "-o" ]; then args+=(-o "$out/$name"); ((++i)); continue; fi
    args+=("${words[i]}")
  done
  clang++ "${args[@]}"
}

run_one() {
  local harness="$1" name; name="$(basename "$harness" .cpp)"
  local seeds="${harness%.cpp}"; seeds="${seeds%_fuzz}_corpus"
  local work="$out/$name.corpus"
  rm -rf "$work" && mkdir -p "$work"
  [ -d "$seeds" ] && cp "$seeds"/* "$work"/ 2>/dev/null || true
  if ! build_one "$harness" >"$out/$name.build.log" 2>&1; then
    cat "$out/$name.build.log" >&2
    echo "fuzz: $name: FAILED to build" >&2
    return 1
  fi
  if ! "$out/$name" -max_total_time="$seconds" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
       -artifact_prefix="$out/$name-" -print_final_stats=1 "$work" >"$out/$name.log" 2>&1; then
    tail -n 40 "$out/$name.log" >&2
    echo "fuzz: $name: FAILED (input saved as $out/$name-*)" >&2
    return 1
  fi
  local runs cov corpus
  runs="$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")"
  cov="$(grep -o 'cov: [0-9]*' "$out/$name.log" | tail -n 1 | cut -d' ' -f2)"
  corpus="$(ls "$work" | wc -l)"
  echo "fuzz: $name: ok, ${runs:-?} inputs in ${seconds}s, coverage ${cov:-?} edges, corpus $corpus"
}

jobs="${LOCKBOX_FUZZ_JOBS:-$(nproc)}"
status=0
started=0
finished=0
for harness in "${harnesses[@]}"; do
  if [ $((started - finished)) -ge "$jobs" ]; then wait -n || status=1; finished=$((finished + 1)); fi
  run_one "$harness" &
  started=$((started + 1))
done
while [ "$finished" -lt "$started" ]; do wait -n || status=1; finished=$((finished + 1)); done
exit "$status"
