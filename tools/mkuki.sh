#!/bin/bash
# Assemble a Unified Kernel Image from the systemd EFI stub with objcopy.
# Usage: tools/mkuki.sh --stub STUB --kernel K --initrd I --cmdline "..." \
#                       --osrel FILE --out UKI
# Sections go after the stub's last section, each page-aligned, in the order
# .osrel .cmdline .initrd .linux: .linux last so that the kernel, which the stub
# hands over in place, is not followed by anything it might overwrite.
# Deterministic: the inputs alone decide the output. objcopy (binutils 2.40)
# stamps the PE header with the current time whatever SOURCE_DATE_EPOCH says, so
# the stamp is reset afterwards to SOURCE_DATE_EPOCH (0 if unset, as the stub
# ships) and the PE checksum recomputed; the files we write carry no dates.
set -euo pipefail

usage() { echo "usage: $0 --stub STUB --kernel K --initrd I --cmdline CMDLINE --osrel FILE --out UKI" >&2; exit 2; }

stub=/usr/lib/systemd/boot/efi/linuxx64.efi.stub kernel='' initrd='' cmdline='' osrel='' out=''
cmdline_set=0
while (($#)); do
    (($# >= 2)) || usage
    case $1 in
        --stub) stub=$2 ;;
        --kernel) kernel=$2 ;;
        --initrd) initrd=$2 ;;
        --cmdline) cmdline=$2; cmdline_set=1 ;;
        --osrel) osrel=$2 ;;
        --out) out=$2 ;;
        *) usage ;;
    esac
    shift 2
done
[[ -n "$kernel" && -n "$initrd" && -n "$osrel" && -n "$out" && $cmdline_set == 1 ]] || usage
for f in "$stub" "$kernel" "$initrd" "$osrel"; do
    [[ -r "$f" ]] || { echo "mkuki: cannot read $f" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
printf '%s' "$cmdline" >"$tmp/cmdline"

page=4096
align() { echo $(( ($1 + page - 1) / page * page )); }

# End of the stub's last section (VMA + size), from objdump's section table:
# rows are "Idx Name Size VMA LMA FileOff Algn" (flags rows are skipped).
end=0
while read -r idx _name size vma_hex _lma _off _algn; do
    [[ "$idx" =~ ^[0-9]+$ ]] || continue
    e=$((0x$vma_hex + 0x$size))
    ((e > end)) && end=$e
done < <(objdump -h "$stub")
[[ "$end" =~ ^[0-9]+$ && "$end" -gt 0 ]] || { echo "mkuki: cannot read sections of $stub" >&2; exit 1; }

args=()
vma=$(align "$end")
for sect in osrel:"$osrel" cmdline:"$tmp/cmdline" initrd:"$initrd" linux:"$kernel"; do
    name=.${sect%%:*} file=${sect#*:}
    args+=(--add-section "$name=$file" --change-section-vma "$name=$(printf '0x%x' "$vma")")
    vma=$(align $((vma + $(stat -c %s "$file"))))
done

objcopy "${args[@]}" "$stub" "$tmp/uki.efi"
"$(dirname "${BASH_SOURCE[0]}")/pe-set-timestamp.py" "$tmp/uki.efi" "${SOURCE_DATE_EPOCH:-0}"
mv "$tmp/uki.efi" "$out"
echo "mkuki: $out ($(stat -c %s "$out") bytes)"
