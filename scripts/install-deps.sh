#!/usr/bin/env bash
# Installs the Debian 12 packages lockbox builds and tests with, only when something is missing.
# Runs apt-get as root directly, otherwise through sudo.
set -euo pipefail

packages=(
  cmake g++ make pkg-config
  libboost1.81-dev libboost-json1.81-dev libboost-filesystem1.81-dev
  libssl-dev libsqlite3-dev libyaml-cpp-dev catch2 libcli11-dev libfmt-dev sqlite3
  python3 python3-yaml wrk openssl   # python3-yaml: docs/openapi.yaml → the served JSON, at build time
  postgresql libpq-dev
  # test-time: the completion scripts under zsh and fish, `man -l` of lockbox(1), the JS SDK under node
  zsh fish man-db nodejs
  # test-time: the libFuzzer harnesses (scripts/fuzz.sh)
  clang libclang-rt-14-dev
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then as_root=(sudo); fi
echo "lockbox: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
