#!/usr/bin/env bash
# bench/copy.sh: `lockbox store copy` of a store with N secret versions (default 100,000: 50,000
# secrets imported twice, so every secret has two versions), SQLite to SQLite, and when
# LOCKBOX_TEST_PG_URL names a cluster (scripts/pg-cluster.sh) SQLite to PostgreSQL (a scratch
# database, dropped at the end) and back. Prints the wall time of each copy.
# Usage: bench/copy.sh [LOCKBOX_BIN] [VERSIONS]
set -euo pipefail
bin=${1:-build/cli/lockbox}
versions=${2:-100000}
secrets=$((versions / 2))
dir=$(mktemp -d)
pg_db=lockbox_bench_copy_$$
cleanup() {
  rm -rf "$dir"
  if [[ -n "${LOCKBOX_TEST_PG_URL:-}" ]]; then
    psql -q "$LOCKBOX_TEST_PG_URL/postgres" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  fi
}
trap cleanup EXIT
"$bin" --data-dir "$dir/d" init >/dev/null 2>&1
for round in 1 2; do
  awk -v n="$secrets" -v r="$round" 'BEGIN { for (i = 0; i < n; i++) printf "S_%06d=value-%d-%d\n", i, r, i }' >"$dir/env"
  "$bin" --data-dir "$dir/d" secrets import "$dir/env" >/dev/null 2>&1
done
secs() { date +%s.%N; }
t0=$(secs)
"$bin" --data-dir "$dir/d" store copy --to "sqlite:$dir/copy.db" 2>&1 | tail -1
t1=$(secs)
printf 'store copy sqlite -> sqlite, %d versions: %.2f s\n' "$versions" "$(echo "$t1 - $t0" | bc)"
if [[ -n "${LOCKBOX_TEST_PG_URL:-}" ]]; then
  psql -q "$LOCKBOX_TEST_PG_URL/postgres" -c "CREATE DATABASE $pg_db" >/dev/null
  t0=$(secs)
  "$bin" --data-dir "$dir/d" store copy --to "$LOCKBOX_TEST_PG_URL/$pg_db" 2>&1 | tail -1
  t1=$(secs)
  printf 'store copy sqlite -> postgresql, %d versions: %.2f s\n' "$versions" "$(echo "$t1 - $t0" | bc)"
  t0=$(secs)
  "$bin" --data-dir "$dir/d" store copy --store "$LOCKBOX_TEST_PG_URL/$pg_db" --to "sqlite:$dir/back.db" 2>&1 | tail -1
  t1=$(secs)
  printf 'store copy postgresql -> sqlite, %d versions: %.2f s\n' "$versions" "$(echo "$t1 - $t0" | bc)"
fi
