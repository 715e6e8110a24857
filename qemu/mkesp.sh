#!/bin/bash
# Build an EFI System Partition image holding systemd-boot and one UKI, or an A/B pair.
# Usage: qemu/mkesp.sh UKI OUT
#        qemu/mkesp.sh --entry NAME=UKI [--entry NAME=UKI]... [--default ID] OUT
# The second form installs each UKI as EFI/Linux/NAME.efi (systemd-boot's entry id is that file
# name) and writes "default ID" into loader.conf: without it systemd-boot starts the entry that
# sorts newest, which for an A/B pair is the slot not yet proven.
# Made with mkfs.vfat -C and mtools only: no loop device, no mount, no root.
set -euo pipefail

usage() { echo "usage: $0 UKI OUT | $0 --entry NAME=UKI... [--default ID] OUT" >&2; exit 2; }
bootefi=${SYSTEMD_BOOT_EFI:-/usr/lib/systemd/boot/efi/systemd-bootx64.efi}
names=() ukis=() default=''
if [[ "${1:-}" == --* ]]; then
    while (($# > 1)); do
        case $1 in
            --entry) names+=("${2%%=*}") ukis+=("${2#*=}") ;;
            --default) default=$2 ;;
            *) usage ;;
        esac
        shift 2
    done
    out=${1:-}
    if [[ -z "$out" ]] || ((${#ukis[@]} == 0)); then usage; fi
else
    (($# == 2)) || usage
    names=(edgeinit) ukis=("$1") out=$2
fi
for uki in "${ukis[@]}"; do
    [[ -r "$uki" ]] || { echo "mkesp: cannot read $uki" >&2; exit 1; }
done
[[ -r "$bootefi" ]] || { echo "mkesp: cannot read $bootefi (systemd-boot-efi)" >&2; exit 1; }

# Room for the UKIs plus slack, at least 64 MiB (firmware is happiest with
# roomy FAT); the file is sparse, so the size costs nothing on the host.
need_kib=$(( ($(stat -c %s "${ukis[@]}" "$bootefi" | paste -sd+)) * 5 / 4 / 1024 + 8192 ))
size_kib=$(( need_kib > 65536 ? need_kib : 65536 ))
size_kib=$(( (size_kib + 1023) / 1024 * 1024 ))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'timeout 0\n' >"$tmp/loader.conf"
[[ -z "$default" ]] || printf 'default %s\n' "$default" >>"$tmp/loader.conf"

rm -f "$out.tmp"
# Fixed volume id so that equal inputs give a comparable filesystem.
mkfs.vfat -C -n ESP -i 0xED6E1417 "$out.tmp" "$size_kib" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$out.tmp" ::/EFI ::/EFI/BOOT ::/EFI/Linux ::/loader
mcopy -i "$out.tmp" "$bootefi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$out.tmp" "$tmp/loader.conf" ::/loader/loader.conf
for i in "${!ukis[@]}"; do
    mcopy -i "$out.tmp" "${ukis[$i]}" "::/EFI/Linux/${names[$i]}.efi"
done
mv "$out.tmp" "$out"
echo "mkesp: $out ($((size_kib / 1024)) MiB)"
