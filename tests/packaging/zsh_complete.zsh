# Drives a real interactive zsh on a pseudo-terminal (zsh/zpty): compinit, `source <(lockbox completion zsh)`,
# then for each LINE types it, presses TAB and prints the line as ZLE left it.
# Usage: zsh -f zsh_complete.zsh BINDIR LINE...   (run by completion_test.sh)
zmodload zsh/zpty || exit 1
export PATH=$1:$PATH; shift
zpty z zsh -f -i || exit 1
zpty -w z "PS1='> '; autoload -Uz compinit; compinit -u -d ${TMPDIR:-/tmp}/zcd.$$; source <(lockbox completion zsh); print READY"
zpty -r -m z out $'*\nREADY*' || exit 1
for line in "$@"; do
  # TAB completes; then Ctrl-A goes to the start and turns the line into a command printing it:
  # its output is the sentinel that the completion is done.
  zpty -n -w z "$line"$'\t\C-aprint -r -- DONE: \n'
  zpty -r -m z out $'*\nDONE: *\n' || exit 1
  out=${out##*$'\n'DONE: }
  print -r -- "${out%%$'\r'*}"
done
zpty -d z
rm -f ${TMPDIR:-/tmp}/zcd.$$
