#!/bin/bash
# Assemble an attacker's disk: a GPT whose partitions carry whatever names and file-system UUIDs
# the attacker chose (copied from the victim, which anyone holding the device can read).
# Usage: qemu/mkdisk-hostile.sh --out DISK --part N:NAME:ext4[:UUID] ... [--part N:NAME:file:IMG]
#   N:NAME:ext4[:UUID]  partition N, GPT name NAME, a fresh 16 MiB ext4 (file-system UUID UUID
#                       if given, e.g. the victim's boot_uuid=)
#   N:NAME:file:IMG     partition N, GPT name NAME, a copy of IMG
# Numbers may leave gaps (no partition 1: no ESP, so the firmware never boots this disk).
# Partition GUIDs are A77AC000-0000-4000-8000-0000000000NN (NN the number), the disk's
# A77AC000-0000-4000-8000-00000000D15C: never the victim's, so the loader's PARTUUID names the
# victim's ESP alone. No root needed: mkfs.ext4 on files, sfdisk, dd.
set -euo pipefail

usage() { echo "usage: $0 --out DISK --part N:NAME:ext4[:UUID]|N:NAME:file:IMG ..." >&2; exit 2; }

out='' parts=()
while (($#)); do
    (($# >= 2)) || usage
    case $1 in
        --out) out=$2 ;;
        --part) parts+=("$2") ;;
        *) usage ;;
    esac
    shift 2
done
[[ -n "$out" && ${#parts[@]} -gt 0 ]] || usage

tmpdir=$(mktemp -d)
trap 'rm -rf "$tmpdir"' EXIT
mib=$((1024 * 1024))
tmp=$out.tmp # its name ends in a letter: sfdisk names partition N "${tmp}N"
start=1
script=$'label: gpt\nunit: sectors\nfirst-lba: 2048\nlabel-id: A77AC000-0000-4000-8000-00000000D15C\n'
imgs=() starts=()
for p in "${parts[@]}"; do
    IFS=: read -r n name kind arg <<<"$p"
    [[ "$n" =~ ^[0-9]+$ && -n "$name" ]] || usage
    case $kind in
        ext4)
            img=$tmpdir/p$n.img
            truncate -s 16M "$img"
            mkfs.ext4 -q -F -b 4096 ${arg:+-U "$arg"} -L "$name" "$img"
            ;;
        file)
            img=$arg
            [[ -r "$img" ]] || { echo "mkdisk-hostile: cannot read $img" >&2; exit 1; }
            ;;
        *) usage ;;
    esac
    size=$(( ($(stat -c %s "$img") + mib - 1) / mib ))
    script+="$tmp$n : start=$((start * 2048)), size=$((size * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, "
    script+="uuid=A77AC000-0000-4000-8000-$(printf '%012d' "$n"), name=\"$name\""$'\n'
    imgs+=("$img") starts+=("$start")
    start=$((start + size))
done

rm -f "$tmp"
truncate -s $(( (start + 1) * mib )) "$tmp"
sfdisk --quiet --no-reread --no-tell-kernel "$tmp" <<<"$script"
for i in "${!imgs[@]}"; do
    dd if="${imgs[$i]}" of="$tmp" bs=1M seek="${starts[$i]}" conv=sparse,notrunc status=none
done
mv "$tmp" "$out"
echo "mkdisk-hostile: $out ($((start + 1)) MiB, ${#parts[@]} partitions)"
