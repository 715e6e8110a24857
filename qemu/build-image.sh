#!/bin/bash
# Build the partition images from the rootfs tree.
# Usage: qemu/build-image.sh [ROOTFS_DIR [OUTDIR]]   (default build/rootfs build/image)
# Produces in OUTDIR: rootfs.img (ext4, read-only root), hashmap_a.img
# (dm-verity hash tree), roothash, persist.img (empty ext4), and canary-offset
# (byte offset of the canary's first block inside rootfs.img, for corruption
# tests); for a root built by qemu/build-image-root.sh, also the kernel and
# initrd it made (ROOTFS_DIR.boot/: vmlinuz, initrd.img, kver). Cached: skipped
# while all outputs are newer than the rootfs stamp.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
rootfs=${1:-$top/build/rootfs}
outdir=${2:-$top/build/image}
stampfile="$rootfs.stamp"
[[ -d "$rootfs" && -f "$stampfile" ]] || { echo "build-image: no rootfs at $rootfs (run qemu/build-rootfs.sh)" >&2; exit 1; }

outputs=(rootfs.img hashmap_a.img roothash persist.img canary-offset)
boot_files=()
[[ ! -d "$rootfs.boot" ]] || boot_files=(vmlinuz initrd.img kver)
outputs+=(${boot_files[@]+"${boot_files[@]}"})
fresh=1
for f in "${outputs[@]}"; do
    [[ "$outdir/$f" -nt "$stampfile" && "$outdir/$f" -nt "${BASH_SOURCE[0]}" ]] || fresh=0
done
if ((fresh)); then
    echo "build-image: cached in $outdir"
    exit 0
fi
mkdir -p "$outdir"
rm -f "${outputs[@]/#/$outdir/}"

# Fixed UUIDs/hash seed and a fake "now" make mke2fs's own metadata repeatable.
export E2FSPROGS_FAKE_TIME=${SOURCE_DATE_EPOCH:-0}

# Size: content plus 15% and 32 MiB slack for metadata, whole MiB.
used_kib=$(du -sk --apparent-size "$rootfs" | cut -f1)
size_mib=$(( (used_kib * 115 / 100) / 1024 + 32 ))
# 4 KiB blocks: dm-verity's data block size must match the filesystem's, and
# small images would otherwise default to 1 KiB. No journal on a read-only root.
mkfs.ext4 -q -F -b 4096 -O ^has_journal -m 0 -L rootfs \
    -U 8f7e6d5c-0000-4000-8000-00000000ed01 -E hash_seed=8f7e6d5c-0000-4000-8000-00000000ed02,root_owner=0:0 \
    -d "$rootfs" "$outdir/rootfs.img.tmp" "${size_mib}M"

# Hash tree in its own image (its own partition, hashmap_a). The root hash is
# what the kernel command line carries; it is the one trust anchor.
veritysetup format "$outdir/rootfs.img.tmp" "$outdir/hashmap_a.img.tmp" >"$outdir/verity.txt"
roothash=$(sed -n 's/^Root hash:[[:space:]]*//p' "$outdir/verity.txt")
[[ "$roothash" =~ ^[0-9a-f]{64}$ ]] || { echo "build-image: no root hash in veritysetup output" >&2; exit 1; }

# Physical block of the canary's first 4 KiB, as a byte offset in the partition.
canary=/usr/share/edgeinit-test/canary
block=$(debugfs -R "bmap $canary 0" "$outdir/rootfs.img.tmp" 2>/dev/null | tail -n1)
[[ "$block" =~ ^[0-9]+$ && "$block" -gt 0 ]] || { echo "build-image: cannot locate $canary in rootfs.img" >&2; exit 1; }

mkfs.ext4 -q -F -b 4096 -L edge_persistent \
    -U 8f7e6d5c-0000-4000-8000-00000000ed03 -E hash_seed=8f7e6d5c-0000-4000-8000-00000000ed04,root_owner=0:0 \
    "$outdir/persist.img.tmp" 64M

for f in ${boot_files[@]+"${boot_files[@]}"}; do cp "$rootfs.boot/$f" "$outdir/$f.tmp"; done
for f in rootfs.img hashmap_a.img persist.img ${boot_files[@]+"${boot_files[@]}"}; do mv "$outdir/$f.tmp" "$outdir/$f"; done
echo "$((block * 4096))" >"$outdir/canary-offset"
echo "$roothash" >"$outdir/roothash"
echo "build-image: rootfs.img $size_mib MiB, root hash $roothash, canary at byte $((block * 4096))"
