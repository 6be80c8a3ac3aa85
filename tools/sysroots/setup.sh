#!/bin/sh
# Test sysroots for the 386 and ARM tests: Debian's SQLite (static and shared) and OpenSSL
# libcrypto for i386 and armhf, unpacked (not installed: installing them next to the amd64 ones
# conflicts) into <repo>/.cache/sysroots/<arch>, which then holds usr/include/{sqlite3.h,openssl/},
# usr/include/<triplet>/openssl/ and usr/lib/<triplet>/{libsqlite3.a,libsqlite3.so*,libcrypto.so*}.
# Adds the foreign architectures to dpkg and runs apt-get update when needed (root). Idempotent: a
# sysroot unpacked from the same package list is left alone.
set -eu

root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/.cache/sysroots
mkdir -p "$out"

PACKAGES="libsqlite3-dev libsqlite3-0 libssl-dev libssl3"

updated=false
for arch in i386 armhf; do
  [ "$(cat "$out/$arch/.complete" 2>/dev/null)" = "$PACKAGES" ] && continue
  pkgs=
  for p in $PACKAGES; do pkgs="$pkgs $p:$arch"; done
  if ! dpkg --print-foreign-architectures | grep -qx "$arch"; then
    dpkg --add-architecture "$arch"
  fi
  tmp=$(mktemp -d "$out/.dl-$arch.XXXXXX")
  # shellcheck disable=SC2086 # $pkgs is a list
  if ! (cd "$tmp" && apt-get download $pkgs >/dev/null 2>&1); then
    if ! $updated; then
      apt-get update -qq >/dev/null
      updated=true
    fi
    (cd "$tmp" && apt-get download $pkgs >/dev/null)
  fi
  rm -rf "$out/$arch"
  mkdir -p "$tmp/root"
  for deb in "$tmp"/*.deb; do dpkg-deb -x "$deb" "$tmp/root"; done
  echo "$PACKAGES" >"$tmp/root/.complete"
  mv "$tmp/root" "$out/$arch"
  rm -rf "$tmp"
  echo "sysroot $out/$arch"
done
