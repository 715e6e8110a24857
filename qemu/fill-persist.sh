#!/bin/bash
# Make a copy of an ext4 persistent partition image that is full: not one block free, even for
# root (edgeinit runs as root and may use the reserved blocks), for the full-/opt boot tests.
# Usage: qemu/fill-persist.sh IN_IMAGE OUT_IMAGE
# The layout's target directories (/.mount/tmpfs, /.mount/persistence) are created first, as
# any earlier boot leaves them, so that the tmpfs overlays still work and the seeding of every
# bind path is what meets the full partition. The filler is /filler*, non-zero data (debugfs
# would store zero blocks as holes). No mount: debugfs writes the image directly.
set -euo pipefail

in=${1:?usage: $0 IN_IMAGE OUT_IMAGE}
out=${2:?usage: $0 IN_IMAGE OUT_IMAGE}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

cp --sparse=always "$in" "$out"
debugfs -w -R "mkdir /.mount" "$out" >/dev/null 2>&1
debugfs -w -R "mkdir /.mount/tmpfs" "$out" >/dev/null 2>&1
debugfs -w -R "mkdir /.mount/persistence" "$out" >/dev/null 2>&1

free_blocks() { dumpe2fs -h "$out" 2>/dev/null | sed -n 's/^Free blocks: *//p'; }
bs=$(dumpe2fs -h "$out" 2>/dev/null | sed -n 's/^Block size: *//p')
# Each pass writes what is free minus room for its own extent blocks; small passes finish.
for pass in $(seq 1 40); do
    free=$(free_blocks)
    ((free > 0)) || break
    n=$((free > 64 ? free - free / 256 - 8 : free))
    ((n > 0)) || n=1
    head -c $((n * bs)) /dev/zero | tr '\0' 'F' >"$tmp/filler"
    debugfs -w -R "write $tmp/filler /filler$pass" "$out" >/dev/null 2>&1 || true
done
free=$(free_blocks)
((free == 0)) || { echo "fill-persist: $free blocks still free in $out" >&2; exit 1; }
echo "fill-persist: $out is full ($(dumpe2fs -h "$out" 2>/dev/null | sed -n 's/^Block count: *//p') blocks of $bs bytes)"
