#!/bin/sh
# EMT's FDE unlock, re-created for make bench: find the OS disk, select the slot by boot_uuid=,
# unseal the passphrase (handle 0x81000000, PolicyPCR sha256:15), open every LUKS2 volume one
# after the other under EMT's names, read the slot's root hash from the roothash file system,
# open rootfs_verity. No PCR 15 latch: EMT's hook does none.
say() { echo "emt-fde: $*" >/dev/kmsg; }

disk=''
for d in /sys/block/sd* /sys/block/nvme* /sys/block/vd*; do
    [ -e "$d" ] || continue
    if blkid /dev/"${d##*/}"* 2>/dev/null | grep -qi 'PARTLABEL="rootfs"'; then
        disk=/dev/${d##*/}
        break
    fi
done
[ -n "$disk" ] || { say "no disk with a partition named rootfs"; exit 1; }
case $disk in *nvme*|*mmcblk*) sfx=p ;; *) sfx='' ;; esac
part() { echo "$disk$sfx$1"; }

boot_uuid=$(sed -n 's/.*boot_uuid=\([^ ]*\).*/\1/p' /proc/cmdline)
slot_dev=$(blkid -U "$boot_uuid" 2>/dev/null)
case $slot_dev in
    "$(part 2)") slot=a slot_nr=2 hash_nr=4 ;;
    "$(part 6)") slot=b slot_nr=6 hash_nr=5 ;;
    *) say "boot_uuid=$boot_uuid is neither partition 2 nor 6"; exit 1 ;;
esac

if ! cryptsetup isLuks "$(part 2)"; then
    say "partition 2 is not LUKS2: not an FDE disk"
    exit 1
fi
key=$(TPM2TOOLS_TCTI=device:/dev/tpmrm0 tpm2_unseal -c 0x81000000 -p pcr:sha256:15) ||
    { say "unseal failed"; exit 1; }

open() { # device name
    [ -e "/dev/mapper/$2" ] && return 0
    cryptsetup isLuks "$1" 2>/dev/null || return 0
    printf %s "$key" | cryptsetup open --type luks "$1" "$2" --key-file - || say "cannot open $1 as $2"
}
open "$(part 2)" rootfs_a
open "$(part 4)" root_a_ver_hash_map
open "$(part 7)" ver_roothash
open "$(part 6)" rootfs_b
open "$(part 5)" root_b_ver_hash_map

mkdir -p /run/emt-roothash
mount /dev/mapper/ver_roothash /run/emt-roothash
roothash=$(cat "/run/emt-roothash/part_${slot}_roothash")
umount /run/emt-roothash
hash_name=root_${slot}_ver_hash_map
veritysetup open "/dev/mapper/rootfs_$slot" rootfs_verity "/dev/mapper/$hash_name" "$roothash" ||
    say "veritysetup failed (slot $slot, partitions $slot_nr and $hash_nr)"

open "$(part 8)" swap_crypt
open "$(part 3)" edge_persistent
[ -e "$(part 11)" ] && open "$(part 11)" lvmvg_crypt
for d in /sys/block/sd* /sys/block/nvme* /sys/block/vd*; do
    if [ ! -e "$d" ] || [ "/dev/${d##*/}" = "$disk" ]; then continue; fi
    for p in "$d"/"${d##*/}"*; do
        [ -e "$p" ] || continue
        if cryptsetup isLuks "/dev/${p##*/}" 2>/dev/null; then
            open "/dev/${p##*/}" "${d##*/}_crypt"
            break
        fi
    done
done
key=''
udevadm trigger
