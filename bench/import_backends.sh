#!/usr/bin/env bash
# bench/import_backends: `lockbox secrets import` of N dotenv lines (default 100,000) into a fresh
# SQLite store and into a fresh database of the PostgreSQL cluster LOCKBOX_TEST_PG_URL names, then
# the same import again with every value changed (N updates), each timed as one process. Prints the
# wall times and pg/sqlite. The scratch database is dropped at the end. No assertion: figures only.
#
# Usage: LOCKBOX_TEST_PG_URL=postgresql://user:pw@127.0.0.1:PORT bench/import_backends.sh [N]
# Expects build/cli/lockbox (or LOCKBOX=path) and psql.
set -euo pipefail
n=${1:-100000}
root=$(cd "$(dirname "$0")/.." && pwd)
bin=$(realpath "${LOCKBOX:-$root/build/cli/lockbox}")
pg_base=${LOCKBOX_TEST_PG_URL:?LOCKBOX_TEST_PG_URL is not set (scripts/pg-cluster.sh start DIR)}
work=$(mktemp -d "${TMPDIR:-/tmp}/lockbox-bench-import.XXXXXX")
pg_db=lockbox_bench_import_$$
cleanup() {
  psql -q "$pg_base/postgres" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
while read -r var; do unset "$var"; done < <(compgen -e | grep '^LOCKBOX_' || true)
export LOCKBOX_DATA_DIR="$work/.lockbox"
cd "$work"
python3 -c "
import sys
for round_ in (1, 2):
    with open(f'round{round_}.env', 'w') as f:
        for i in range($n):
            f.write(f'IMPORTED_{i}=value-{round_}-{i:08d}-xxxxxxxxxxxxxxxxxxxxxxxx\n')
"
"$bin" init >/dev/null 2>&1
psql -q "$pg_base/postgres" -c "CREATE DATABASE $pg_db" >/dev/null
pg_url="$pg_base/$pg_db"
"$bin" --store "$pg_url" init >/dev/null 2>&1
# timed LABEL ARGS...: wall seconds of one lockbox process.
timed() {
  local label=$1 t0 t1
  shift
  t0=$(date +%s.%N)
  "$bin" "$@" >/dev/null 2>"$work/err" || { echo "$label failed: $(tail -n 2 "$work/err")" >&2 && exit 1; }
  t1=$(date +%s.%N)
  echo "$t1 - $t0" | bc
}
declare -A secs
for round_ in 1 2; do
  secs[sqlite$round_]=$(timed "sqlite round $round_" secrets import "round$round_.env" --namespace bench)
  secs[pg$round_]=$(timed "pg round $round_" --store "$pg_url" secrets import "round$round_.env" --namespace bench)
done
echo "lockbox secrets import of $n lines into namespace:bench (one transaction each)"
printf '%-28s %10s %12s %9s\n' run sqlite postgresql pg/sqlite
for round_ in 1 2; do
  label=$([ "$round_" = 1 ] && echo "$n created" || echo "$n updated")
  awk -v l="$label" -v s="${secs[sqlite$round_]}" -v p="${secs[pg$round_]}" \
    'BEGIN { printf "%-28s %9.2fs %11.2fs %8.2fx\n", l, s, p, p / s }'
done
