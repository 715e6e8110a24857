#!/bin/bash
# Assemble the GPT disk of an EMT-provisioned device from an ESP image and the partition images
# that qemu/build-emt-disk.sh built (its layout.txt names them).
# Usage: qemu/mkdisk-emt.sh --esp ESP --parts OUTDIR --out DISK [--omit N]... [--persist IMG]
#                           [--rename N=NAME]... [--disk2 OUT] [--replace N=IMG]...
# Partitions keep EMT's NUMBERS whatever is omitted: --omit 7 leaves no partition 7 (a gap in
# the table) while 8.. keep theirs, as on a device where one went missing. --persist IMG
# replaces p3's image (edge_persistent; boot tests carry it from one boot's disk to the next).
# --rename N=NAME changes a GPT name (failure-path tests). --replace N=IMG puts IMG in partition N
# instead of the layout's image (hostile-disk tests: one partition rewritten by an attacker). --disk2 OUT also copies the second
# disk (fde mode only: OUTDIR/disk2.img, already a whole GPT disk) to OUT, for QEMU to write
# on: qemu/run.sh --disk DISK --disk2 OUT makes it /dev/vdb.
# GPT types: EFI System for the ESP, Linux swap for swap, generic Linux data for the rest
# (EMT finds partitions by name). Disk and partition GUIDs are fixed (E3700000-<mode>-4000-
# 8000-0000000000NN, NN the partition number), so equal inputs give equal disks. The disk is a
# sparse file, each partition the size of its image rounded up to a MiB, copied with dd
# conv=sparse.
set -euo pipefail

usage() { echo "usage: $0 --esp ESP --parts OUTDIR --out DISK [--omit N]... [--persist IMG] [--rename N=NAME]... [--disk2 OUT] [--replace N=IMG]..." >&2; exit 2; }

esp='' parts='' out='' persist='' disk2=''
declare -A omit=() newname=() replace=()
while (($#)); do
    (($# >= 2)) || usage
    case $1 in
        --esp) esp=$2 ;;
        --parts) parts=$2 ;;
        --out) out=$2 ;;
        --omit) omit[$2]=1 ;;
        --persist) persist=$2 ;;
        --rename) newname[${2%%=*}]=${2#*=} ;;
        --disk2) disk2=$2 ;;
        --replace) replace[${2%%=*}]=${2#*=} ;;
        *) usage ;;
    esac
    shift 2
done
[[ -n "$esp" && -n "$parts" && -n "$out" ]] || usage
layout=$parts/layout.txt
[[ -r "$layout" && -r "$parts/mode" ]] || { echo "mkdisk-emt: no layout.txt in $parts (run qemu/build-emt-disk.sh)" >&2; exit 1; }
mode=$(cat "$parts/mode")
case $mode in
    fde) mcode=0001 ;;
    verity) mcode=0002 ;;
    plain) mcode=0003 ;;
    *) echo "mkdisk-emt: unknown mode '$mode' in $parts/mode" >&2; exit 1 ;;
esac

# layout.txt rows: number, GPT name, file (p1: "-", the ESP), then descriptions.
nums=()
declare -A name=() img=()
while read -r n pn file _; do
    [[ "$n" =~ ^[0-9]+$ ]] || continue
    nums+=("$n") name[$n]=$pn
    if ((n == 1)); then img[$n]=$esp; else img[$n]=$parts/$file; fi
done <"$layout"
((${#nums[@]})) || { echo "mkdisk-emt: no partitions in $layout" >&2; exit 1; }
for n in "${!omit[@]}" "${!newname[@]}" "${!replace[@]}"; do
    [[ -n "${name[$n]:-}" ]] || { echo "mkdisk-emt: no partition $n in the $mode layout" >&2; exit 1; }
done
if [[ -n "$disk2" && ! -r "$parts/disk2.img" ]]; then
    echo "mkdisk-emt: no disk2.img in $parts (fde mode only)" >&2
    exit 1
fi
if [[ -n "$persist" ]]; then
    [[ "${name[3]:-}" == edge_persistent ]] || { echo "mkdisk-emt: partition 3 is not edge_persistent" >&2; exit 1; }
    img[3]=$persist
fi
for n in "${!replace[@]}"; do img[$n]=${replace[$n]}; done

mib=$((1024 * 1024))
tmp=$out.tmp # its name ends in a letter: sfdisk names partition N "${tmp}N"
start=1 # MiB; the first MiB holds the protective MBR and the GPT
script=$'label: gpt\nunit: sectors\nfirst-lba: 2048\n'
script+="label-id: E3700000-$mcode-4000-8000-000000000D15"$'\n'
copy_imgs=() copy_starts=()
count=0
for n in "${nums[@]}"; do
    [[ -z "${omit[$n]:-}" ]] || continue
    f=${img[$n]}
    [[ -r "$f" ]] || { echo "mkdisk-emt: cannot read $f (partition $n, ${name[$n]})" >&2; exit 1; }
    size=$(( ($(stat -c %s "$f") + mib - 1) / mib ))
    ((size > 0)) || size=1
    case ${name[$n]} in
        esp) type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B ;;
        swap) type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F ;;
        *) type=0FC63DAF-8483-4772-8E79-3D69D8477DE4 ;;
    esac
    # The device name fixes the partition number; omitted numbers stay free.
    script+="$tmp$n : start=$((start * 2048)), size=$((size * 2048)), type=$type, "
    script+="uuid=E3700000-$mcode-4000-8000-$(printf '%012d' "$n"), name=\"${newname[$n]:-${name[$n]}}\""$'\n'
    copy_imgs+=("$f") copy_starts+=("$start")
    start=$((start + size))
    count=$((count + 1))
done

rm -f "$tmp"
# One spare MiB at the end for the backup GPT.
truncate -s $(( (start + 1) * mib )) "$tmp"
sfdisk --quiet --no-reread --no-tell-kernel "$tmp" <<<"$script"
for i in "${!copy_imgs[@]}"; do
    dd if="${copy_imgs[$i]}" of="$tmp" bs=1M seek="${copy_starts[$i]}" conv=sparse,notrunc status=none
done
mv "$tmp" "$out"
echo "mkdisk-emt: $out ($mode, $((start + 1)) MiB, $count partitions${omit[*]:+, omitted ${!omit[*]}})"

if [[ -n "$disk2" ]]; then
    cp --sparse=always "$parts/disk2.img" "$disk2.tmp"
    mv "$disk2.tmp" "$disk2"
    echo "mkdisk-emt: $disk2 (second disk, $(($(stat -c %s "$disk2") / mib)) MiB)"
fi
