#!/usr/bin/env bash
# A fuzz harness builds with the one command its header documents (the lines from "//   clang++"
# to "// (one command)"), run from the source root. With clang's libFuzzer available the command
# runs as written and the fuzzer then runs 300 inputs; without it the same source list is compiled
# by CXX against tests/cli/fuzz_main.cpp (a plain main feeding a few inputs), so the list is still
# proved complete.
# Usage: fuzz_link_test.sh SOURCE_DIR HARNESS_PATH CXX
set -euo pipefail
src="$1" harness="$2" cxx="$3"
fail() { echo "fuzz link ($harness): $*" >&2; exit 1; }
cd "$src"
command="$(sed -n '/^\/\/   clang++/,/^\/\/ (one command/p' "$harness" | grep -v '^// (one command' |
           sed -e 's|^//[[:space:]]*||' | tr '\n' ' ')"
[ -n "$command" ] || fail "no documented build command in the header"
read -r -a words <<<"$command"
[ "${words[0]}" = "clang++" ] || fail "the documented command does not start with clang++"
grep -q -- "$harness" <<<"$command" || fail "the documented command does not compile $harness"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT

# -o NAME goes to the temp dir, not the source tree.
out=""
args=()
for ((i = 1; i < ${#words[@]}; ++i)); do
  if [ "${words[i]}" = "-o" ]; then out="$tmp/${words[i + 1]}"; args+=(-o "$out"); ((++i)); continue; fi
  args+=("${words[i]}")
done
[ -n "$out" ] || fail "the documented command has no -o NAME"

if command -v clang++ >/dev/null &&
   echo 'extern "C" int LLVMFuzzerTestOneInput(const char*, unsigned long) { return 0; }' |
     clang++ -x c++ -fsanitize=fuzzer -o "$tmp/probe" - 2>/dev/null; then
  clang++ "${args[@]}" || fail "the documented command does not build"
  mkdir "$tmp/corpus"
  "$out" -runs=300 -max_len=4096 "$tmp/corpus" >"$tmp/run.log" 2>&1 ||
    { tail -n 30 "$tmp/run.log" >&2; fail "the fuzzer failed"; }
  echo "fuzz link: $harness builds as documented and ran 300 inputs"
  exit 0
fi

plain=()
for word in "${args[@]}"; do
  case "$word" in -fsanitize=*) ;; *) plain+=("$word") ;; esac
done
"$cxx" "${plain[@]}" "$src/tests/cli/fuzz_main.cpp" || fail "the documented sources do not link"
printf 'A=1\nversion: 1\n' >"$tmp/input"
"$out" "$tmp/input" </dev/null || fail "the harness failed on a plain input"
echo "fuzz link: $harness links with the documented sources (no libFuzzer: plain main)"
