#!/usr/bin/env bash
# bench/api: what `lockbox serve` answers per second, as ratios against a baseline in the same run.
#
# Setup (a fresh temp store): 50 secrets for one resolve context, 10 in each of apikey:k1, group:g1,
# function:prod/fn, namespace:prod and global (values of 40 bytes), plus --others secrets in other
# namespaces; an admin token; `lockbox serve --listen 127.0.0.1:0 --threads N` in the background.
#
# Measured with wrk (--latency), one run after the other, each after a short warm-up:
#   health    GET  /api/v1/health                       (baseline: no auth, no store)
#   metadata  GET  /api/v1/admin/secrets/NAME?scope=global   (bearer token)
#   resolve   POST /api/v1/resolve  {namespace prod, function fn, group g1, apikey k1}: 50 secrets
# Prints requests/s, p50, p99 and failed requests of each, the ratios to the health baseline and
# the targets; then SIGTERMs the server and checks that it exits 0. No assertion on the figures.
#
# Usage: [LOCKBOX=build/cli/lockbox] bench/api.sh [--duration 10s] [--warmup 2s]
#          [--connections 64] [--wrk-threads 2] [--server-threads 8] [--others 1000]
# Expects ./scripts/build.sh to have run (it builds nothing) and wrk (scripts/install-deps.sh).
set -euo pipefail

duration=10s warmup=2s connections=64 wrk_threads=2 server_threads=8 others=1000
usage() { sed -n 's/^# \{0,1\}//; /^Usage:/,/^Expects/p' "$0"; }
while [ $# -gt 0 ]; do
  case "$1" in -h | --help) usage && exit 0 ;; esac
  [ $# -ge 2 ] || { echo "bench/api.sh: $1 needs a value" >&2 && exit 2; }
  case "$1" in
    -d | --duration) duration=$2 ;;
    --warmup) warmup=$2 ;;
    -c | --connections) connections=$2 ;;
    -t | --wrk-threads) wrk_threads=$2 ;;
    --server-threads) server_threads=$2 ;;
    --others) others=$2 ;;
    *) echo "bench/api.sh: unknown argument $1" >&2 && usage >&2 && exit 2 ;;
  esac
  shift 2
done

fail() { echo "bench/api.sh: $*" >&2 && exit 1; }
root=$(cd "$(dirname "$0")/.." && pwd)
script_dir="$root/bench"
lockbox_bin=${LOCKBOX:-$root/build/cli/lockbox}
[ -x "$lockbox_bin" ] || fail "no lockbox binary at $lockbox_bin (run ./scripts/build.sh, or set LOCKBOX=path)"
lockbox_bin=$(realpath "$lockbox_bin")
command -v wrk >/dev/null || fail "wrk is not installed (./scripts/install-deps.sh installs it)"
command -v python3 >/dev/null || fail "python3 is not installed"

work=$(mktemp -d "${TMPDIR:-/tmp}/lockbox-bench-api.XXXXXX")
server_pid=""
# stop_server SECONDS: SIGTERM, then SIGKILL if the server has not exited within SECONDS; sets
# server_status to its exit status (137 when killed).
stop_server() {
  kill -TERM "$server_pid" 2>/dev/null || true
  for ((tenths = 0; tenths < $1 * 10; tenths++)); do
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$server_pid" 2>/dev/null || true
  server_status=0
  wait "$server_pid" || server_status=$?
  server_pid=""
}
cleanup() {
  if [ -n "$server_pid" ]; then stop_server 5; fi
  rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP
trap 'exit 141' PIPE

# A clean environment: no master key, store or policy of the caller's; the temp dir as working
# directory so no ./lockbox.yaml is picked up.
while read -r var; do unset "$var"; done < <(compgen -e | grep '^LOCKBOX_' || true)
export LOCKBOX_DATA_DIR="$work/.lockbox"
cd "$work"
lb() { "$lockbox_bin" "$@"; }

# --- seed ---------------------------------------------------------------------------------------
echo "bench/api: seeding 50 secrets for the resolve context and $others others" >&2
lb init >/dev/null 2>&1 || fail "lockbox init failed"
scopes=(apikey:k1 group:g1 function:prod/fn namespace:prod global)
kinds=(APIKEY GROUP FUNCTION NAMESPACE GLOBAL)
pad=xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
for i in "${!scopes[@]}"; do
  for j in 0 1 2 3 4 5 6 7 8 9; do
    value="bench-${kinds[$i],,}-$j-$pad"
    printf '%s' "${value:0:40}" | lb secrets set "BENCH_${kinds[$i]}_$j" --scope "${scopes[$i]}" \
      >/dev/null 2>&1 || fail "lockbox secrets set BENCH_${kinds[$i]}_$j --scope ${scopes[$i]} failed"
  done
done
# The others, 100 per namespace (one import each: setup time is not what is measured).
for ((k = 0; k * 100 < others; k++)); do
  for ((j = 0; j < 100 && k * 100 + j < others; j++)); do
    printf 'OTHER_%d_%d=%s\n' "$k" "$j" "$pad"
  done | lb secrets import - --namespace "other$k" >/dev/null 2>&1 ||
    fail "lockbox secrets import --namespace other$k failed"
done
# {"token":"lbx_<id>_<secret>",...}: the token's characters need no JSON unescaping.
token=$(lb tokens create --name bench --role admin --json 2>/dev/null |
  sed -n 's/.*"token": *"\([^"]*\)".*/\1/p') || fail "lockbox tokens create failed"
[ -n "$token" ] || fail "lockbox tokens create --json printed no token"

# --- serve --------------------------------------------------------------------------------------
"$lockbox_bin" serve --listen 127.0.0.1:0 --threads "$server_threads" >/dev/null 2>"$work/serve.log" &
server_pid=$!
port=""
for _ in $(seq 1 100); do
  port=$(sed -n 's|^lockbox serve: listening on http://127\.0\.0\.1:\([0-9][0-9]*\)$|\1|p' "$work/serve.log")
  [ -n "$port" ] && break
  kill -0 "$server_pid" 2>/dev/null || break
  sleep 0.1
done
[ -n "$port" ] || fail "lockbox serve did not start listening: $(tail -n 5 "$work/serve.log")"
base="http://127.0.0.1:$port"
target_name=BENCH_GLOBAL_0
metadata_path="/api/v1/admin/secrets/$target_name?scope=global"

# check KIND...: one request of each run KIND (health, metadata, resolve; metrics prints the page)
# answered as expected, or a message and a non-zero exit. health waits up to 10 s for the server.
# python3 rather than curl: no new dependency; one process for all (its start-up is not free).
check() {
  BENCH_TOKEN=$token python3 - "$base" "$metadata_path" "$target_name" "$@" <<'EOF'
import json, os, sys, time, urllib.error, urllib.request
base, metadata_path, name = sys.argv[1:4]
resolve_body = b'{"namespace":"prod","function":"fn","group":"g1","apikey":"k1"}'
paths = {"health": "/api/v1/health", "metadata": metadata_path, "resolve": "/api/v1/resolve",
         "metrics": "/metrics"}

def get(kind):
    body = resolve_body if kind == "resolve" else None
    request = urllib.request.Request(base + paths[kind], data=body, method="POST" if body else "GET")
    if kind != "health":
        request.add_header("Authorization", "Bearer " + os.environ["BENCH_TOKEN"])
    if body:
        request.add_header("Content-Type", "application/json")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError as e:
        return 0, str(e).encode()

for kind in sys.argv[4:]:
    status, data = get(kind)
    deadline = time.monotonic() + 10
    while kind == "health" and status != 200 and time.monotonic() < deadline:
        time.sleep(0.1)
        status, data = get(kind)
    if status != 200:
        sys.exit(f"{paths[kind]}: HTTP {status}: {data[:300].decode(errors='replace')}")
    if kind == "metrics":
        sys.stdout.write(data.decode())
    elif kind == "metadata" and json.loads(data).get("name") != name:
        sys.exit(f"metadata: unexpected body {data[:300]!r}")
    elif kind == "resolve" and len(json.loads(data)["secrets"]) != 50:
        sys.exit(f"resolve: {len(json.loads(data)['secrets'])} secrets instead of 50")
EOF
}
check health metadata resolve || fail "the server does not answer as expected (above)"

# --- measure ------------------------------------------------------------------------------------
# run NAME ARGS...: wrk against the server (warm-up first), its --latency report in NAME.txt.
run() {
  local name=$1
  shift
  if [ "$warmup" != 0 ] && [ "$warmup" != 0s ]; then
    wrk -t "$wrk_threads" -c "$connections" -d "$warmup" "$@" >/dev/null
  fi
  echo "bench/api: $name, $duration" >&2
  wrk --latency -t "$wrk_threads" -c "$connections" -d "$duration" "$@" >"$work/$name.txt"
}
auth=(-H "Authorization: Bearer $token")
run health "$base/api/v1/health"
run metadata "${auth[@]}" "$base$metadata_path"
run resolve "${auth[@]}" -s "$script_dir/api_resolve.lua" "$base/api/v1/resolve"

# summary FILE: "requests/s p50-ms p99-ms failed requests" from a wrk --latency report; failed
# counts non-2xx/3xx answers and socket errors (connect, read, write, timeout).
summary() {
  awk '
    function ms(v) {
      if (v ~ /us$/) return v / 1000
      if (v ~ /ms$/) return v + 0
      if (v ~ /s$/) return v * 1000
      if (v ~ /m$/) return v * 60000
      return v + 0
    }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    / requests in / { requests = $1 }
    /^Requests\/sec:/ { rps = $2 }
    /Non-2xx or 3xx responses:/ { failed += $NF }
    /Socket errors:/ { gsub(",", ""); failed += $4 + $6 + $8 + $10 }
    END { printf "%s %s %s %d %s\n", rps, p50, p99, failed, requests }
  ' "$1"
}
read -r h_rps _ h_p99 _ h_requests < <(summary "$work/health.txt")
[ -n "$h_requests" ] || fail "could not read wrk's report: $(cat "$work/health.txt")"

echo
echo "lockbox serve --threads $server_threads; wrk $wrk_threads threads, $connections connections," \
  "$duration per run; 50 resolved secrets, $others others"
printf '%-22s %10s %9s %9s %11s %10s %10s\n' run requests/s "p50 ms" "p99 ms" failed/total \
  "rps/health" "p99/health"
declare -A rps_of p99_of failed_of
for name in health metadata resolve; do
  read -r rps p50 p99 failed requests < <(summary "$work/$name.txt")
  rps_of[$name]=$rps p99_of[$name]=$p99 failed_of[$name]=$failed
  awk -v n="$name" -v r="$rps" -v a="$p50" -v b="$p99" -v f="$failed" -v t="$requests" \
    -v hr="$h_rps" -v hp="$h_p99" 'BEGIN {
      label = n == "health" ? "health (baseline)" : n == "metadata" ? "metadata GET" : "resolve (50 secrets)"
      printf "%-22s %10.0f %9.2f %9.2f %5d/%-6s %9.2fx %9.2fx\n", label, r, a, b, f, t, r / hr, b / hp
    }'
done
awk -v m="${rps_of[metadata]}" -v mp="${p99_of[metadata]}" -v mf="${failed_of[metadata]}" \
  -v r="${rps_of[resolve]}" -v rp="${p99_of[resolve]}" -v rf="${failed_of[resolve]}" 'BEGIN {
    ok = "met"; ko = "MISSED"
    printf "targets: metadata >= 10000 req/s %s, resolve >= 5000 req/s %s, p99 < 20 ms %s, " \
      "no failed requests %s\n", (m >= 10000) ? ok : ko, (r >= 5000) ? ok : ko,
      (mp < 20 && rp < 20) ? ok : ko, (mf + rf == 0) ? ok : ko
  }'

echo
echo "the server's own count (GET /metrics):"
check metrics | grep '^lockbox_http_requests_total{\|^lockbox_resolve' | sed 's/^/  /' ||
  echo "  (GET /metrics did not answer)"

# --- stop ---------------------------------------------------------------------------------------
stop_server 35
[ "$server_status" -eq 0 ] ||
  fail "lockbox serve exited $server_status after SIGTERM: $(tail -n 5 "$work/serve.log")"
echo "lockbox serve exited 0 after SIGTERM"
