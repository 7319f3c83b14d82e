#!/usr/bin/env bash
# `cpack -G DEB` builds lockbox_<version>_<arch>.deb, and the package, unpacked into a scratch root
# with `dpkg-deb -x`, has the layout SPEC §16 asks for: /usr/bin/lockbox (which runs), lockbox(1),
# the three completions, the systemd units (verified by systemd-analyze against the scratch root
# when it is installed) and the SDKs. Exit 77 (skipped) without cpack or dpkg-deb.
# Usage: deb_test.sh BUILD_DIR VERSION
set -uo pipefail
build=$(realpath "$1") version=$2
for tool in cpack dpkg-deb; do
  command -v "$tool" >/dev/null || { echo "SKIP: $tool is not installed"; exit 77; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
failures=0
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

if ! cpack -G DEB --config "$build/CPackConfig.cmake" -B "$work/out" >"$work/cpack.log" 2>&1; then
  cat "$work/cpack.log"; echo "FAIL: cpack -G DEB"; exit 1
fi
deb=$(find "$work/out" -maxdepth 1 -name "lockbox_${version}_*.deb" | head -1)
[ -n "$deb" ] || { ls -l "$work/out"; echo "FAIL: no lockbox_${version}_*.deb"; exit 1; }
info=$(dpkg-deb -I "$deb")
grep -q '^ Package: lockbox$' <<<"$info" || fail "control: Package is not lockbox"
grep -q "^ Version: $version\$" <<<"$info" || fail "control: Version is not $version"

root="$work/root"
dpkg-deb -x "$deb" "$root" || { echo "FAIL: dpkg-deb -x"; exit 1; }
for f in usr/bin/lockbox usr/share/man/man1/lockbox.1.gz \
         usr/share/bash-completion/completions/lockbox usr/share/zsh/vendor-completions/_lockbox \
         usr/share/fish/vendor_completions.d/lockbox.fish \
         usr/lib/systemd/system/lockbox-serve.service usr/lib/systemd/user/lockbox-agent.service \
         usr/share/lockbox/sdk/js/index.mjs usr/share/lockbox/sdk/js/index.d.ts \
         usr/share/lockbox/sdk/python/lockbox_secrets/__init__.py \
         usr/share/doc/lockbox/CLI.md usr/share/doc/lockbox/README.md; do
  [ -f "$root/$f" ] || fail "/$f is not in the package"
done
[ -x "$root/usr/bin/lockbox" ] || fail "/usr/bin/lockbox is not executable"
"$root/usr/bin/lockbox" --version | grep -q "^lockbox $version" || fail "/usr/bin/lockbox --version"
cmp -s "$root/usr/share/bash-completion/completions/lockbox" <("$root/usr/bin/lockbox" completion bash) ||
  fail "the packaged bash completion is not what the packaged binary prints"
stray=$(cd "$root" && find . -type f | grep -v -E '^\./usr/(bin|share|lib/systemd)/' || true)
[ -z "$stray" ] || fail "files outside /usr/bin, /usr/share, /usr/lib/systemd: $stray"
if command -v man >/dev/null; then
  MANWIDTH=80 man -l "$root/usr/share/man/man1/lockbox.1.gz" 2>/dev/null | grep -q '^LOCKBOX(1)' ||
    fail "the packaged man page does not render"
fi

unit="$root/usr/lib/systemd/system/lockbox-serve.service"
for directive in 'DynamicUser=yes' 'StateDirectory=lockbox' 'LoadCredential=master.key:' 'NoNewPrivileges=yes' \
                 'ProtectSystem=strict' 'ProtectHome=yes' 'PrivateTmp=yes' 'CapabilityBoundingSet=$' \
                 'RestrictAddressFamilies=' 'MemoryDenyWriteExecute=yes' 'LockPersonality=yes' \
                 'SystemCallFilter=@system-service'; do
  grep -q "^$directive" "$unit" || fail "lockbox-serve.service has no $directive"
done
if command -v systemd-analyze >/dev/null; then
  # Verified against the host's systemd (the scratch root has no sysinit.target), with ExecStart
  # pointing at the unpacked binary and --man=no (its man page is not on the host's MANPATH).
  for u in "$unit" "$root/usr/lib/systemd/user/lockbox-agent.service"; do
    mkdir -p "$work/verify" && sed "s|/usr/bin/lockbox|$root/usr/bin/lockbox|g" "$u" >"$work/verify/${u##*/}"
    user_flag=(); [[ $u == */user/* ]] && user_flag=(--user)
    # A user unit needs a runtime directory to resolve %t and RuntimeDirectory= (none in CI).
    mkdir -p -m 0700 "$work/xdg"
    verify=$(XDG_RUNTIME_DIR="$work/xdg" systemd-analyze verify "${user_flag[@]}" --man=no \
             "$work/verify/${u##*/}" 2>&1) || [ -n "$verify" ] || verify="exit status $?"
    [ -z "$verify" ] || fail "systemd-analyze verify ${u##*/} is not clean: $verify"
  done
  score=$(systemd-analyze security --offline=yes --root="$root" "$unit" 2>/dev/null |
          sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
  echo "systemd-analyze security of lockbox-serve.service: ${score:-unknown}"
  case ${score#* } in
    SAFE|OK) ;;
    *) fail "systemd-analyze security scores lockbox-serve.service '${score:-nothing}', not OK or better" ;;
  esac
else
  echo "note: systemd-analyze is not installed; the units were not verified"
fi
[ "$failures" -eq 0 ] && echo "$(basename "$deb"): layout ok ($(cd "$root" && find . -type f | wc -l) files)"
exit $((failures > 0))
