#!/bin/bash
# Assemble a GPT disk image from partition images.
# Usage: qemu/mkdisk.sh --esp ESP --rootfs IMG --persist IMG --hashmap IMG --out DISK
#                       [--omit NAME]... [--rename NAME=NEWNAME]... [--append NAME=IMG]...
# Partitions, in order (p1..p4), named as in EMT images: esp, rootfs,
# edge_persistent, hashmap_a. --omit drops one (later ones move up a number);
# --rename changes a GPT name; both exist for failure-path tests. --append adds a
# partition named NAME holding IMG after those (p5, p6, ...), e.g. a second
# edge_persistent.
# The disk is a sparse file, partitions are copied with dd conv=sparse.
set -euo pipefail

usage() { echo "usage: $0 --esp ESP --rootfs IMG --persist IMG --hashmap IMG --out DISK [--omit NAME] [--rename OLD=NEW]" >&2; exit 2; }

declare -A src=() newname=() omit=()
appended=()
out=''
while (($#)); do
    (($# >= 2)) || usage
    case $1 in
        --esp) src[esp]=$2 ;;
        --rootfs) src[rootfs]=$2 ;;
        --persist) src[edge_persistent]=$2 ;;
        --hashmap) src[hashmap_a]=$2 ;;
        --out) out=$2 ;;
        --omit) omit[$2]=1 ;;
        --rename) newname[${2%%=*}]=${2#*=} ;;
        --append) appended+=("$2") ;;
        *) usage ;;
    esac
    shift 2
done
[[ -n "$out" ]] || usage

order=(esp rootfs edge_persistent hashmap_a)
# GPT type GUIDs: EFI System for the ESP, generic Linux data for the rest
# (edgeinit finds partitions by name, not by type).
declare -A ptype=(
    [esp]=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
    [rootfs]=0FC63DAF-8483-4772-8E79-3D69D8477DE4
    [edge_persistent]=0FC63DAF-8483-4772-8E79-3D69D8477DE4
    [hashmap_a]=0FC63DAF-8483-4772-8E79-3D69D8477DE4
)

# Appended partitions get keys extra<i>; their GPT name is set through newname.
for i in "${!appended[@]}"; do
    key=extra$i
    src[$key]=${appended[$i]#*=}
    newname[$key]=${appended[$i]%%=*}
    ptype[$key]=0FC63DAF-8483-4772-8E79-3D69D8477DE4
    order+=("$key")
done

mib=$((1024 * 1024))
start=1 # MiB; the first MiB holds the protective MBR and the GPT
script=$'label: gpt\nunit: sectors\nfirst-lba: 2048\n'
# Fixed disk and partition GUIDs keep the disk reproducible.
script+=$'label-id: 6F0E6C0A-0E1D-4B1F-9C1B-0000ED6E1417\n'
parts=() starts=()
n=0
for name in "${order[@]}"; do
    [[ -z "${omit[$name]:-}" ]] || continue
    img=${src[$name]:-}
    [[ -n "$img" && -r "$img" ]] || { echo "mkdisk: no readable image for $name" >&2; exit 1; }
    n=$((n + 1))
    size=$(( ($(stat -c %s "$img") + mib - 1) / mib ))
    label=${newname[$name]:-$name}
    script+="start=$((start * 2048)), size=$((size * 2048)), type=${ptype[$name]}, "
    script+="uuid=6F0E6C0A-0E1D-4B1F-9C1B-$(printf '%012d' "$n"), name=\"$label\""$'\n'
    parts+=("$img") starts+=("$start")
    start=$((start + size))
done

rm -f "$out.tmp"
# One spare MiB at the end for the backup GPT.
truncate -s $(( (start + 1) * mib )) "$out.tmp"
sfdisk --quiet --no-reread --no-tell-kernel "$out.tmp" <<<"$script"
for i in "${!parts[@]}"; do
    dd if="${parts[$i]}" of="$out.tmp" bs=1M seek="${starts[$i]}" conv=sparse,notrunc status=none
done
mv "$out.tmp" "$out"
echo "mkdisk: $out ($((start + 1)) MiB, $n partitions)"
