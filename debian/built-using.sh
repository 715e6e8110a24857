#!/bin/sh
# Built-Using for the source packages whose code is inside the static /init: every package pinned
# in deps.lock, and musl (libc.a). Debian keeps these sources available as long as the binary is.
set -eu
lock=${1:?usage: $0 deps.lock}
{
    awk '$1 == "file" { print $2 " (= " $3 ")" }' "$lock"
    dpkg-query -W -f='${source:Package} (= ${source:Version})\n' musl-dev
} | sort -u | paste -sd, - | sed 's/,/, /g'
