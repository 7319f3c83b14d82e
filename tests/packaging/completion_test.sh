#!/usr/bin/env bash
# Black-box test of `lockbox completion bash|zsh|fish` (SPEC §16): each script is loaded by the
# real shell, which is then asked for completions of a few command lines (a command, a subcommand,
# an option, a policy function and job name, an option's fixed values). A shell that is not
# installed is skipped with a message (scripts/install-deps.sh installs all three); with none of
# them the test reports itself skipped (exit 77).
# Usage: completion_test.sh LOCKBOX_BINARY SAMPLES_DIR
set -uo pipefail
lockbox=$(realpath "$1")
samples=$(realpath "$2")
bindir=$(dirname "$lockbox")
here=$(dirname "$(realpath "${BASH_SOURCE[0]}")")
failures=0 ran=0
export LOCKBOX_POLICY="$samples/lockbox.yaml"
cd "$(mktemp -d)" || exit 1
trap 'rm -rf "$PWD"' EXIT
touch my-policy.yaml  # for the FILE positional of `policy check`

expect() {  # SHELL LINE OUTPUT WANTED...
  local shell=$1 line=$2 out=$3 want
  shift 3
  for want in "$@"; do
    if ! grep -qxF -- "$want" <<<"$out"; then
      echo "FAIL [$shell] '$line' does not offer '$want'; it offered:"; sed 's/^/    /' <<<"$out"
      failures=$((failures + 1))
    fi
  done
}

# bash: the completion function registered by `complete -F`, called the way readline calls it.
bash_complete() {  # WORDS... (the last one is the word being completed)
  bash --norc --noprofile -c '
    source <("$1" completion bash) || exit 1
    fn=$(complete -p lockbox | sed -n "s/.*-F \([^ ]*\) lockbox$/\1/p")
    [ -n "$fn" ] || { echo "no complete -F for lockbox"; exit 1; }
    shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1))
    COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}
    "$fn" lockbox "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
    printf "%s\n" "${COMPREPLY[@]}"' _ "$lockbox" "$lockbox" "$@"
}
if command -v bash >/dev/null; then
  ran=$((ran + 1))
  expect bash "lockbox secr" "$(bash_complete secr)" secrets
  expect bash "lockbox secrets se" "$(bash_complete secrets se)" set
  expect bash "lockbox run --de" "$(bash_complete run --de)" --deliver
  expect bash "lockbox run --deliver " "$(bash_complete run --deliver '')" env file
  expect bash "lockbox run " "$(bash_complete run '')" send-email hello-sh
  expect bash "lockbox job run " "$(bash_complete job run '')" sync-data
  expect bash "lockbox --data-dir x keys st" "$(bash_complete --data-dir x keys st)" status
  expect bash "lockbox secrets list --js" "$(bash_complete secrets list --js)" --json
  expect bash "lockbox completion " "$(bash_complete completion '')" bash zsh fish
  expect bash "lockbox policy check my" "$(bash_complete policy check my)" my-policy.yaml
  expect bash "lockbox --policy=my" "$(bash_complete --policy = my)" my-policy.yaml
  expect bash "lockbox run -- bas" "$(bash_complete run -- bas)" bash
else
  echo "SKIP bash: not installed"
fi

# fish: `complete -C LINE` asks fish's own completion engine.
if command -v fish >/dev/null; then
  ran=$((ran + 1))
  fish_complete() {
    PATH="$bindir:$PATH" fish --no-config -c 'lockbox completion fish | source; complete -C $argv[1] | string replace -r "\t.*" ""' "$1"
  }
  expect fish "lockbox secr" "$(fish_complete 'lockbox secr')" secrets
  expect fish "lockbox secrets se" "$(fish_complete 'lockbox secrets se')" set
  expect fish "lockbox run --deliver " "$(fish_complete 'lockbox run --deliver ')" env file
  expect fish "lockbox run " "$(fish_complete 'lockbox run ')" send-email read-files
  expect fish "lockbox job run " "$(fish_complete 'lockbox job run ')" sync-data
  expect fish "lockbox tokens --js" "$(fish_complete 'lockbox tokens --js')" --json
  expect fish "lockbox policy check my" "$(fish_complete 'lockbox policy check my')" my-policy.yaml
  expect fish "lockbox run --deliver=f" "$(fish_complete 'lockbox run --deliver=f')" --deliver=file
else
  echo "SKIP fish: not installed"
fi

# zsh: a real interactive zsh on a pseudo-terminal (zsh_complete.zsh) types each line and presses
# TAB; the line ZLE is left with shows the completion (each case has one match, so it is inserted).
if command -v zsh >/dev/null; then
  ran=$((ran + 1))
  mapfile -t got < <(timeout 60 zsh -f "$here/zsh_complete.zsh" "$bindir" "lockbox secr" "lockbox secrets se" \
    "lockbox run --deliver f" "lockbox run send" "lockbox job run sy" "lockbox audit --js" "lockbox policy check my-" | sed 's/ *$//')
  expect zsh "lockbox secr" "${got[0]:-}" "lockbox secrets"
  expect zsh "lockbox secrets se" "${got[1]:-}" "lockbox secrets set"
  expect zsh "lockbox run --deliver f" "${got[2]:-}" "lockbox run --deliver file"
  expect zsh "lockbox run send" "${got[3]:-}" "lockbox run send-email"
  expect zsh "lockbox job run sy" "${got[4]:-}" "lockbox job run sync-data"
  expect zsh "lockbox audit --js" "${got[5]:-}" "lockbox audit --json"
  expect zsh "lockbox policy check my-" "${got[6]:-}" "lockbox policy check my-policy.yaml"
else
  echo "SKIP zsh: not installed"
fi

# The store is never opened: no data directory appeared in the working directory.
if [ -e .lockbox ]; then echo "FAIL completion created a data directory"; failures=$((failures + 1)); fi
if [ "$ran" -eq 0 ]; then echo "SKIP: none of bash, zsh, fish is installed"; exit 77; fi
[ "$failures" -eq 0 ] && echo "completion: $ran shell(s) passed"
exit $((failures > 0))
