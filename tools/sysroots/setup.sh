#!/bin/sh
# Test sysroots for the 386 and ARM tests: Debian's libsqlite3-dev for i386 and armhf, unpacked
# (not installed: installing them next to the amd64 one conflicts) into
# <repo>/.cache/sysroots/<arch>, which then holds usr/include/sqlite3.h and
# usr/lib/<triplet>/libsqlite3.a. Adds the foreign architectures to dpkg and runs apt-get update
# when needed (root). Idempotent: an unpacked sysroot is left alone.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/.cache/sysroots
mkdir -p "$out"

updated=false
for arch in i386 armhf; do
  [ -f "$out/$arch/.complete" ] && continue
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    dpkg --add-architecture "$arch"
  fi
  tmp=$(mktemp -d "$out/.dl-$arch.XXXXXX")
  if ! (cd "$tmp" && apt-get download "libsqlite3-dev:$arch" >/dev/null 2>&1); then
    if ! $updated; then
      apt-get update -qq >/dev/null
      updated=true
    fi
    (cd "$tmp" && apt-get download "libsqlite3-dev:$arch" >/dev/null)
  fi
  rm -rf "$out/$arch"
  mkdir -p "$tmp/root"
  dpkg-deb -x "$tmp"/libsqlite3-dev_*.deb "$tmp/root"
  touch "$tmp/root/.complete"
  mv "$tmp/root" "$out/$arch"
  rm -rf "$tmp"
  echo "sysroot $out/$arch"
done
