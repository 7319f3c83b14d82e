#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster for the test suite (issue 12):
#   scripts/pg-cluster.sh start DIR   initdb in DIR/data as an unprivileged user (lockboxpg when run
#                                     as root, else the caller), a unix socket in DIR and a free
#                                     127.0.0.1 port; prints the base URL (also in DIR/url), e.g.
#                                     postgresql://lockbox:PASSWORD@127.0.0.1:PORT
#   scripts/pg-cluster.sh stop DIR    stops it (immediate) and removes DIR/data.
# The superuser `lockbox` logs in with a password (scram-sha-256) over TCP, so the wrong-password
# tests have something to fail against; the unix socket trusts local users.
set -euo pipefail

pg_bin() {
  local d
  for d in /usr/lib/postgresql/15/bin /usr/lib/postgresql/*/bin; do
    if [ -x "$d/initdb" ]; then echo "$d"; return; fi
  done
  echo "pg-cluster: no PostgreSQL server binaries (Debian: apt-get install postgresql)" >&2
  exit 1
}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u lockboxpg -- "$@"; else "$@"; fi
}

free_port() {
  python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

start() {
  local dir="$1" bin port password
  bin="$(pg_bin)"
  mkdir -p "$dir"
  if [ "$(id -u)" -eq 0 ]; then
    id lockboxpg >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin lockboxpg
    chown lockboxpg "$dir"
  fi
  password="$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
  printf '%s\n' "$password" >"$dir/pwfile"
  chmod 600 "$dir/pwfile"
  [ "$(id -u)" -eq 0 ] && chown lockboxpg "$dir/pwfile"
  as_owner "$bin/initdb" -D "$dir/data" -U lockbox --pwfile="$dir/pwfile" -A scram-sha-256 \
    --auth-local=trust -E UTF8 --locale=C.UTF-8 >"$dir/initdb.log" 2>&1
  rm -f "$dir/pwfile"
  port="$(free_port)"
  as_owner "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
    -o "-k $dir -p $port -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200" start >/dev/null
  printf 'postgresql://lockbox:%s@127.0.0.1:%s\n' "$password" "$port" | tee "$dir/url"
}

stop() {
  local dir="$1" bin
  bin="$(pg_bin)"
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir/data" "$dir/url"
}

case "${1:-}" in
  start) start "${2:?usage: pg-cluster.sh start DIR}" ;;
  stop) stop "${2:?usage: pg-cluster.sh stop DIR}" ;;
  *) echo "usage: pg-cluster.sh start|stop DIR" >&2; exit 2 ;;
esac
