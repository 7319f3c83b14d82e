#!/usr/bin/env bash
# bench/serve_backends: `lockbox serve` on SQLite and on PostgreSQL, one and two replicas, in one run.
#
# Setup: a temp SQLite store seeded like bench/api.sh (50 secrets of 40 bytes for one resolve
# context, 10 in each of apikey:k1, group:g1, function:prod/fn, namespace:prod and global) plus
# --others secrets in other namespaces (default 9,950: 10,000 stored), an admin token; then
# `lockbox store copy` into a scratch database of the cluster LOCKBOX_TEST_PG_URL names, so both
# backends hold the same rows. Measured with wrk (--latency, after a warm-up), one after the other:
#   sqlite      one `serve` on the SQLite file                         (the baseline)
#   pg          one `serve` on the PostgreSQL database
#   pg x2       two `serve` replicas on that database, wrk against each at once with half the
#               connections: requests/s summed, p99 the larger of the two
# each for metadata GET (/api/v1/admin/secrets/BENCH_GLOBAL_0?scope=global) and resolve of the 50
# secrets (POST /api/v1/resolve, bench/api_resolve.lua). Prints requests/s, p50, p99, failed
# requests and the targets. The scratch database is dropped at the end. No assertion: figures only.
#
# Usage: LOCKBOX_TEST_PG_URL=postgresql://user:pw@127.0.0.1:PORT bench/serve_backends.sh
#          [--duration 10s] [--warmup 2s] [--connections 64] [--server-threads 8] [--others 9950]
# Expects build/cli/lockbox (or LOCKBOX=path), wrk and psql.
set -euo pipefail

duration=10s warmup=2s connections=64 server_threads=8 others=9950
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || { echo "bench/serve_backends.sh: $1 needs a value" >&2 && exit 2; }
  case "$1" in
    -d | --duration) duration=$2 ;;
    --warmup) warmup=$2 ;;
    -c | --connections) connections=$2 ;;
    --server-threads) server_threads=$2 ;;
    --others) others=$2 ;;
    *) echo "bench/serve_backends.sh: unknown argument $1" >&2 && exit 2 ;;
  esac
  shift 2
done

fail() { echo "bench/serve_backends.sh: $*" >&2 && exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
lockbox_bin=$(realpath "${LOCKBOX:-$root/build/cli/lockbox}")
[ -x "$lockbox_bin" ] || fail "no lockbox binary at $lockbox_bin"
pg_base=${LOCKBOX_TEST_PG_URL:-}
[ -n "$pg_base" ] || fail "LOCKBOX_TEST_PG_URL is not set (scripts/pg-cluster.sh start DIR)"
command -v wrk >/dev/null || fail "wrk is not installed"
command -v psql >/dev/null || fail "psql is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/lockbox-bench-serve.XXXXXX")
pg_db=lockbox_bench_serve_$$
pids=()
stop_servers() {
  local p
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  pids=()
}
cleanup() {
  stop_servers
  psql -q "$pg_base/postgres" -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

while read -r var; do unset "$var"; done < <(compgen -e | grep '^LOCKBOX_' || true)
export LOCKBOX_DATA_DIR="$work/.lockbox"
cd "$work"
lb() { "$lockbox_bin" "$@"; }

# --- seed ---------------------------------------------------------------------------------------
echo "bench/serve_backends: seeding 50 secrets for the resolve context and $others others" >&2
lb init >/dev/null 2>&1 || fail "lockbox init failed"
scopes=(apikey:k1 group:g1 function:prod/fn namespace:prod global)
kinds=(APIKEY GROUP FUNCTION NAMESPACE GLOBAL)
pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
for i in "${!scopes[@]}"; do
  for j in 0 1 2 3 4 5 6 7 8 9; do
    printf 'BENCH_%s_%d=%s\n' "${kinds[$i]}" "$j" "bench-${kinds[$i],,}-$j-$pad"
  done | cut -c1-60 | lb secrets import - --scope "${scopes[$i]}" >/dev/null 2>&1 ||
    fail "lockbox secrets import --scope ${scopes[$i]} failed"
done
for ((k = 0; k * 1000 < others; k++)); do
  for ((j = 0; j < 1000 && k * 1000 + j < others; j++)); do printf 'OTHER_%d=%s\n' "$j" "$pad"; done |
    lb secrets import - --namespace "other$k" >/dev/null 2>&1 || fail "import --namespace other$k failed"
done
token=$(lb tokens create --name bench --role admin --json 2>/dev/null |
  sed -n 's/.*"token": *"\([^"]*\)".*/\1/p')
[ -n "$token" ] || fail "lockbox tokens create --json printed no token"
psql -q "$pg_base/postgres" -c "CREATE DATABASE $pg_db" >/dev/null || fail "cannot create $pg_db"
pg_url="$pg_base/$pg_db"
lb store copy --to "$pg_url" >/dev/null 2>&1 || fail "lockbox store copy --to PostgreSQL failed"

# --- serve --------------------------------------------------------------------------------------
# start_server LOG [ARGS...]: a `serve` in the background; sets port once it listens.
start_server() {
  local log=$1
  port=""
  shift
  "$lockbox_bin" "$@" serve --listen 127.0.0.1:0 --threads "$server_threads" >/dev/null 2>"$log" &
  pids+=($!)
  for _ in $(seq 1 100); do
    port=$(sed -n 's|^lockbox serve: listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$log")
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || fail "lockbox serve did not start listening: $(tail -n 5 "$log")"
}
metadata_path="/api/v1/admin/secrets/BENCH_GLOBAL_0?scope=global"
auth=(-H "Authorization: Bearer $token")
# check PORT: one metadata and one resolve answered 200, the resolve with 50 secrets.
check() {
  curl -fsS "${auth[@]}" "http://127.0.0.1:$1$metadata_path" >/dev/null || fail "metadata on :$1 failed"
  curl -fsS "${auth[@]}" -H 'Content-Type: application/json' \
    -d '{"namespace":"prod","function":"fn","group":"g1","apikey":"k1"}' "http://127.0.0.1:$1/api/v1/resolve" |
    python3 -c 'import json,sys; n=len(json.load(sys.stdin)["secrets"]); sys.exit(0 if n == 50 else f"{n} secrets")' ||
    fail "resolve on :$1 did not return 50 secrets"
}
# wrk_args KIND PORT: the wrk arguments of a run.
wrk_args() {
  if [ "$1" = metadata ]; then echo "http://127.0.0.1:$2$metadata_path"; else
    echo "-s $root/bench/api_resolve.lua http://127.0.0.1:$2/api/v1/resolve"; fi
}
# measure NAME KIND PORT...: wrk against each port at once (connections split between them).
measure() {
  local name=$1 kind=$2 n i=0 p w
  shift 2
  n=$#
  w=()
  for p in "$@"; do
    # shellcheck disable=SC2046
    wrk -t 1 -c $((connections / n)) -d "$warmup" "${auth[@]}" $(wrk_args "$kind" "$p") >/dev/null &
    w+=($!)
  done
  wait "${w[@]}"
  w=()
  for p in "$@"; do
    # shellcheck disable=SC2046
    wrk --latency -t $((n == 1 ? 2 : 1)) -c $((connections / n)) -d "$duration" "${auth[@]}" \
      $(wrk_args "$kind" "$p") >"$work/$name-$kind-$i.txt" &
    w+=($!)
    i=$((i + 1))
  done
  wait "${w[@]}"
}

echo "bench/serve_backends: sqlite" >&2
start_server "$work/s.log" && check "$port"
measure sqlite metadata "$port" && measure sqlite resolve "$port"
stop_servers
echo "bench/serve_backends: pg, one replica" >&2
start_server "$work/p.log" --store "$pg_url" && check "$port"
measure pg metadata "$port" && measure pg resolve "$port"
stop_servers
echo "bench/serve_backends: pg, two replicas" >&2
start_server "$work/p1.log" --store "$pg_url" && check "$port" && port1=$port
start_server "$work/p2.log" --store "$pg_url" && check "$port" && port2=$port
measure pgx2 metadata "$port1" "$port2" && measure pgx2 resolve "$port1" "$port2"
stop_servers

# --- report -------------------------------------------------------------------------------------
# summary FILES...: "requests/s(sum) p50(max) p99(max) failed(sum)" over wrk --latency reports.
summary() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /s$/) return v * 1000
      return v + 0
    }
    $1 == "50%" { v = ms($2); if (v > p50) p50 = v }
    $1 == "99%" { v = ms($2); if (v > p99) p99 = v }
    /^Requests\/sec:/ { rps += $2 }
    /Non-2xx or 3xx responses:/ { failed += $NF }
    /Socket errors:/ { gsub(",", ""); failed += $4 + $6 + $8 + $10 }
    END { printf "%.0f %.2f %.2f %d\n", rps, p50, p99, failed }
  ' "$@"
}
echo
echo "lockbox serve --threads $server_threads; wrk, $connections connections in all, $duration per run;" \
  "50 resolved secrets, $((others + 50)) stored"
printf '%-24s %-10s %10s %9s %9s %7s\n' store run requests/s "p50 ms" "p99 ms" failed
for name in sqlite pg pgx2; do
  for kind in metadata resolve; do
    read -r rps p50 p99 failed < <(summary "$work/$name-$kind"-*.txt)
    label=$([ "$name" = sqlite ] && echo "SQLite" || { [ "$name" = pg ] && echo "PostgreSQL" || echo "PostgreSQL, 2 replicas"; })
    printf '%-24s %-10s %10s %9s %9s %7s\n' "$label" "$kind" "$rps" "$p50" "$p99" "$failed"
    if [ "$failed" != 0 ]; then grep -h 'Socket errors\|Non-2xx' "$work/$name-$kind"-*.txt | sed 's/^ */    wrk: /'; fi
  done
done
echo "targets: metadata >= 10000 req/s, resolve >= 5000 req/s, p99 < 20 ms, no failed request"
