#!/bin/bash
# Build an EFI System Partition image holding systemd-boot and one UKI.
# Usage: qemu/mkesp.sh UKI OUT
# Made with mkfs.vfat -C and mtools only: no loop device, no mount, no root.
set -euo pipefail

uki=${1:?usage: $0 UKI OUT}
out=${2:?usage: $0 UKI OUT}
bootefi=${SYSTEMD_BOOT_EFI:-/usr/lib/systemd/boot/efi/systemd-bootx64.efi}
[[ -r "$uki" ]] || { echo "mkesp: cannot read $uki" >&2; exit 1; }
[[ -r "$bootefi" ]] || { echo "mkesp: cannot read $bootefi (systemd-boot-efi)" >&2; exit 1; }

# Room for the UKI plus slack, at least 64 MiB (firmware is happiest with
# roomy FAT); the file is sparse, so the size costs nothing on the host.
need_kib=$(( ($(stat -c %s "$uki") + $(stat -c %s "$bootefi")) * 5 / 4 / 1024 + 8192 ))
size_kib=$(( need_kib > 65536 ? need_kib : 65536 ))
size_kib=$(( (size_kib + 1023) / 1024 * 1024 ))

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf 'timeout 0\n' >"$tmp/loader.conf"

rm -f "$out.tmp"
# Fixed volume id so that equal inputs give a comparable filesystem.
mkfs.vfat -C -n ESP -i 0xED6E1417 "$out.tmp" "$size_kib" >/dev/null
export MTOOLS_SKIP_CHECK=1
mmd -i "$out.tmp" ::/EFI ::/EFI/BOOT ::/EFI/Linux ::/loader
mcopy -i "$out.tmp" "$bootefi" ::/EFI/BOOT/BOOTX64.EFI
mcopy -i "$out.tmp" "$tmp/loader.conf" ::/loader/loader.conf
mcopy -i "$out.tmp" "$uki" ::/EFI/Linux/edgeinit.efi
mv "$out.tmp" "$out"
echo "mkesp: $out ($((size_kib / 1024)) MiB)"
