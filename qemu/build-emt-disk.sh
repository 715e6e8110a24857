#!/bin/bash
# Build the partition images of a disk laid out like a device provisioned by EMT's installer
# (Edge Microvisor Toolkit), for boot tests of edgeinit's EMT profile.
# Usage: qemu/build-emt-disk.sh MODE OUTDIR [ROOTFS_DIR]     (ROOTFS_DIR default build/rootfs)
#   MODE fde:    "FDE + DM-verity": p2..p8 and p11 LUKS2, one passphrase in keyslot 0
#                (emt-passphrase: 64 hex characters, no newline, as EMT pipes `echo -n $key`),
#                plus disk2.img, a second disk whose one partition `data` is LUKS2 too.
#   MODE verity: "DM-verity only": the same partitions, none encrypted.
#   MODE plain:  an unprovisioned image: esp, rootfs, edge_persistent, rootfs_b, swap.
# Produces in OUTDIR: pN.img for every partition but the ESP (qemu/mkesp.sh makes that and
# qemu/mkdisk-emt.sh assembles the disk), boot_uuid_a and boot_uuid_b (what boot_uuid= names:
# the LUKS UUID of the slot's partition in fde mode, its ext4 UUID otherwise), mode,
# layout.txt (number, GPT name, file, plaintext kind, encrypted, UUIDs; mkdisk-emt.sh reads
# it) and, in fde mode, emt-passphrase and disk2.img.
# Why this way: everything is built on plain files, without device-mapper or loop devices.
# The verity hash trees are computed over the plaintext ext4 images, then images are
# encrypted in place by `cryptsetup reencrypt --encrypt --reduce-device-size 16M`, which needs
# 16 MiB of spare room at the end of the file: each plaintext image is created 16 MiB larger
# than its contents. The LUKS2 header then takes 8 MiB (data offset 8 MiB, segment "whole
# device"), so an unlocked /dev/mapper/<name> is its contents followed by 8 MiB of noise.
# Keyslots use PBKDF2 with 1000 iterations to keep TCG boots fast (the secret has full
# entropy); real EMT devices use the cryptsetup default, argon2id.
# Deterministic: fixed UUIDs, hash seeds, verity salts and a fake mkfs time, so the plaintext
# images are byte-for-byte repeatable; LUKS2 volume keys and keyslot salts are random.
# The passphrase is generated once and kept across rebuilds.
# Cached: skipped while all outputs are newer than ROOTFS_DIR.stamp, this script and the
# passphrase.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(dirname "$here")
usage() { echo "usage: $0 fde|verity|plain OUTDIR [ROOTFS_DIR]" >&2; exit 2; }
mode=${1:-}
outdir=${2:-}
rootfs=${3:-$top/build/rootfs}
[[ -n "$outdir" ]] || usage
# The mode is also the middle of every fixed UUID, so that disks of two modes never share one.
case $mode in
    fde) mcode=0001 ;;
    verity) mcode=0002 ;;
    plain) mcode=0003 ;;
    *) usage ;;
esac
stampfile="$rootfs.stamp"
[[ -d "$rootfs" && -f "$stampfile" ]] || { echo "build-emt-disk: no rootfs at $rootfs (run qemu/build-rootfs.sh)" >&2; exit 1; }
kernel_dir=${KERNEL_DIR:-$top/build/kernel}
kver=$(cat "$kernel_dir/kver" 2>/dev/null) || { echo "build-emt-disk: no kernel in $kernel_dir (run make kernel)" >&2; exit 1; }

# Partitions: number -> GPT name, as EMT's installer lays them out.
declare -A pname
if [[ $mode == plain ]]; then
    pname=([1]=esp [2]=rootfs [3]=edge_persistent [4]=rootfs_b [5]=swap)
    slot_a=2 slot_b=4 swap=5 nums=(2 3 4 5)
else
    pname=([1]=esp [2]=rootfs [3]=edge_persistent [4]=hashmap_a [5]=hashmap_b [6]=rootfs_b
        [7]=roothash [8]=swap [9]=tep [10]=reserved [11]=lvm)
    slot_a=2 slot_b=6 swap=8 nums=(2 3 4 5 6 7 8 9 10 11)
fi
encrypted=()
[[ $mode != fde ]] || encrypted=(2 3 4 5 6 7 8 11)
is_encrypted() { [[ " ${encrypted[*]} " == *" $1 "* ]]; }

# Fixed identities. NN is the partition number in decimal (valid hex digits all the same).
nn() { printf '%012d' "$1"; }
luks_uuid() { echo "1c5e2000-$mcode-4000-8000-$(nn "$1")"; }
ext4_uuid() { echo "e4e40000-$mcode-4000-8000-$(nn "$1")"; }
ext4_seed() { echo "e4e40000-$mcode-4000-9000-$(nn "$1")"; }
swap_uuid() { echo "5a4b0000-$mcode-4000-8000-$(nn "$1")"; }
verity_uuid() { echo "7e417000-$mcode-4000-8000-$(nn "$1")"; }
verity_salt() { printf '7e417000%s%048d' "$mcode" "$1"; } # 32 bytes
disk2_luks_uuid=1c5e2000-$mcode-4000-8000-000000000d21
disk2_guid=E3700000-$mcode-4000-8000-000000000D20
disk2_part_guid=E3700000-$mcode-4000-8000-000000000D21

pass=$outdir/emt-passphrase
outputs=(mode boot_uuid_a boot_uuid_b layout.txt)
for n in "${nums[@]}"; do outputs+=("p$n.img"); done
[[ $mode != fde ]] || outputs+=(disk2.img)
fresh=1
for f in "${outputs[@]}"; do
    [[ "$outdir/$f" -nt "$stampfile" && "$outdir/$f" -nt "${BASH_SOURCE[0]}" ]] || fresh=0
    [[ $mode != fde || "$outdir/$f" -nt "$pass" ]] || fresh=0
done
if ((fresh)); then
    echo "build-emt-disk: $mode cached in $outdir"
    exit 0
fi
mkdir -p "$outdir"
rm -f "${outputs[@]/#/$outdir/}"
work=$outdir/.build
rm -rf "$work"
mkdir -p "$work"
trap 'rm -rf "$work"' EXIT

# mke2fs and debugfs take "now" from E2FSPROGS_FAKE_TIME, but only when it is not 0 (0 means
# unset to e2fsprogs 1.47: crtimes and debugfs-written inodes would carry the real time).
export E2FSPROGS_FAKE_TIME=${SOURCE_DATE_EPOCH:-1}
mib=$((1024 * 1024))

if [[ $mode == fde ]]; then
    if ! grep -qxE '[0-9a-f]{64}' "$pass" 2>/dev/null || (($(stat -c %s "$pass") != 64)); then
        od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$pass.tmp"
        mv "$pass.tmp" "$pass"
    fi
fi

# One slot's root filesystem, as qemu/build-image.sh builds rootfs.img (4 KiB blocks for
# dm-verity, no journal on a read-only root), plus the marker file that tells the slots apart,
# written after mkfs without copying the tree again.
used_kib=$(du -sk --apparent-size "$rootfs" | cut -f1)
root_mib=$(( (used_kib * 115 / 100) / 1024 + 32 ))
make_slot() {
    local n=$1 slot=$2 img=$work/p$1.img
    : >"$img" # an existing file: mke2fs says "Creating regular file" even with -q
    mkfs.ext4 -q -F -b 4096 -O ^has_journal -m 0 -L "${pname[$n]}" \
        -U "$(ext4_uuid "$n")" -E "hash_seed=$(ext4_seed "$n"),root_owner=0:0" \
        -d "$rootfs" "$img" "${root_mib}M"
    printf '%s\n' "$slot" >"$work/slot"
    debugfs -w -f - "$img" >/dev/null 2>&1 <<EOF
write $work/slot /usr/share/edgeinit-test/slot
sif /usr/share/edgeinit-test/slot mode 0100644
sif /usr/share/edgeinit-test/slot uid 0
sif /usr/share/edgeinit-test/slot gid 0
EOF
    [[ "$(debugfs -R "cat /usr/share/edgeinit-test/slot" "$img" 2>/dev/null)" == "$slot" ]] ||
        { echo "build-emt-disk: no slot marker in p$n.img" >&2; exit 1; }
    add_fat_modules "$img"
}

# The rootfs carries no kernel; a slot gets the few modules its system loads itself: vfat and its
# code pages, for the ESP that systemd-bless-boot needs mounted on a counted boot (an image's
# real root has all its kernel's modules). depmod indexes just these.
fat_modules=(fs/fat/fat.ko fs/fat/vfat.ko fs/nls/nls_cp437.ko fs/nls/nls_ascii.ko fs/nls/nls_utf8.ko)
add_fat_modules() {
    local img=$1 tree=$work/modtree m d f cmds=()
    local src=$kernel_dir/lib/modules/$kver dst=/usr/lib/modules/$kver
    if [[ ! -d "$tree" ]]; then
        mkdir -p "$tree/lib/modules/$kver"
        for m in "${fat_modules[@]}"; do install -D -m 0644 "$src/kernel/$m" "$tree/lib/modules/$kver/kernel/$m"; done
        cp "$src"/modules.order "$src"/modules.builtin "$src"/modules.builtin.modinfo "$tree/lib/modules/$kver/"
        depmod -b "$tree" "$kver"
    fi
    for d in /usr/lib/modules "$dst" "$dst/kernel" "$dst/kernel/fs" "$dst/kernel/fs/fat" "$dst/kernel/fs/nls"; do
        cmds+=("mkdir $d")
    done
    while IFS= read -r f; do
        cmds+=("write $tree/lib/modules/$kver/$f $dst/$f" "sif $dst/$f mode 0100644" "sif $dst/$f uid 0" "sif $dst/$f gid 0")
    done < <(cd "$tree/lib/modules/$kver" && find . -type f -printf '%P\n' | LC_ALL=C sort)
    printf '%s\n' "${cmds[@]}" | debugfs -w -f - "$img" >/dev/null 2>&1
    [[ -n "$(debugfs -R "stat $dst/kernel/fs/fat/vfat.ko" "$img" 2>/dev/null)" ]] ||
        { echo "build-emt-disk: no vfat module in $img" >&2; exit 1; }
}

# dm-verity hash tree of slot N's plaintext image into partition H, the hash tree at offset 0
# with its superblock (veritysetup's default format, as EMT runs it). Prints the root hash.
make_hash() {
    local n=$1 h=$2 root
    veritysetup format --uuid "$(verity_uuid "$h")" --salt "$(verity_salt "$h")" \
        "$work/p$n.img" "$work/p$h.img" >"$work/verity-$h.txt"
    # EMT: veritysetup format ... | grep Root | cut -f2 > part_x_roothash
    root=$(grep Root "$work/verity-$h.txt" | cut -f2)
    [[ "$root" =~ ^[0-9a-f]{64}$ ]] || { echo "build-emt-disk: no root hash for p$n" >&2; exit 1; }
    # Cheap (one read of the image): the tree must verify before anything encrypts it.
    veritysetup verify "$work/p$n.img" "$work/p$h.img" "$root" >/dev/null ||
        { echo "build-emt-disk: veritysetup verify failed for p$n" >&2; exit 1; }
    chmod 0644 "$work/p$h.img" # veritysetup creates it 0600
    echo "$root"
}

# Encrypt an image in place into LUKS2 with the fixed UUID of partition N; its last 16 MiB
# must be spare (they make room for the header).
encrypt() {
    local n=$1 img=$2 uuid=${3:-$(luks_uuid "$1")}
    cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode \
        --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-slot 0 --key-file "$pass" \
        --uuid "$uuid" "$img" >/dev/null
    if [[ "$(cryptsetup luksUUID "$img")" != "$uuid" ]] ||
        ! cryptsetup open --test-passphrase --key-slot 0 --key-file "$pass" "$img"; then
        echo "build-emt-disk: $img is not LUKS2 $uuid opening with the passphrase" >&2
        exit 1
    fi
}

t0=$(date +%s)
kind=() fsid=()
make_slot "$slot_a" a
make_slot "$slot_b" b
kind[slot_a]=ext4-root-a fsid[slot_a]=$(ext4_uuid "$slot_a")
kind[slot_b]=ext4-root-b fsid[slot_b]=$(ext4_uuid "$slot_b")

if [[ $mode != plain ]]; then
    root_a=$(make_hash 2 4)
    root_b=$(make_hash 6 5)
    kind[4]=verity-hash-a fsid[4]=$(verity_uuid 4)
    kind[5]=verity-hash-b fsid[5]=$(verity_uuid 5)
    # The roothash partition: a small ext4 (with a journal, mkfs's default) holding the
    # root hashes as lowercase hex and a newline, as EMT writes them.
    # Written with debugfs, not mkfs -d: files' times then come from the fake time (mkfs -d
    # copies ctimes from the host, which touch cannot set).
    echo "$root_a" >"$work/part_a_roothash"
    echo "$root_b" >"$work/part_b_roothash"
    : >"$work/p7.img"
    mkfs.ext4 -q -F -L roothash -U "$(ext4_uuid 7)" -E "hash_seed=$(ext4_seed 7),root_owner=0:0" \
        "$work/p7.img" 8M
    for f in part_a_roothash part_b_roothash; do
        printf 'write %s %s\nsif %s mode 0100644\nsif %s uid 0\nsif %s gid 0\n' "$work/$f" "$f" "$f" "$f" "$f"
    done | debugfs -w -f - "$work/p7.img" >/dev/null 2>&1
    [[ "$(debugfs -R "cat part_b_roothash" "$work/p7.img" 2>/dev/null)" == "$root_b" ]] ||
        { echo "build-emt-disk: no root hash files in p7.img" >&2; exit 1; }
    kind[7]=ext4-roothash fsid[7]=$(ext4_uuid 7)
    # tep and reserved: small, unformatted, never encrypted. lvm: 16 MiB of zeros.
    truncate -s 2M "$work/p9.img" "$work/p10.img"
    truncate -s 16M "$work/p11.img"
    kind[9]=raw kind[10]=raw kind[11]=zeros
fi

# edge_persistent: empty ext4, 64 MiB, with a journal (read-write).
: >"$work/p3.img"
mkfs.ext4 -q -F -b 4096 -L edge_persistent -U "$(ext4_uuid 3)" \
    -E "hash_seed=$(ext4_seed 3),root_owner=0:0" "$work/p3.img" 64M
kind[3]=ext4-persistent fsid[3]=$(ext4_uuid 3)
truncate -s 16M "$work/p$swap.img"
mkswap -q -L swap -U "$(swap_uuid "$swap")" "$work/p$swap.img"
kind[swap]=swap fsid[swap]=$(swap_uuid "$swap")

if [[ $mode == fde ]]; then
    for n in "${encrypted[@]}"; do
        # Whole MiB of contents (hash trees are not), then the 16 MiB for the header.
        size=$(stat -c %s "$work/p$n.img")
        truncate -s $(( (size + mib - 1) / mib * mib + 16 * mib )) "$work/p$n.img"
        encrypt "$n" "$work/p$n.img"
    done
    # The second disk: GPT, one partition "data", LUKS2 around 16 MiB of zeros. edgeinit
    # opens it as vdb_crypt.
    truncate -s 32M "$work/data.img"
    encrypt d2 "$work/data.img" "$disk2_luks_uuid"
    truncate -s $(( (1 + 32 + 1) * mib )) "$work/disk2.img"
    sfdisk --quiet --no-reread --no-tell-kernel "$work/disk2.img" <<EOF
label: gpt
unit: sectors
first-lba: 2048
label-id: $disk2_guid
start=2048, size=$((32 * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, uuid=$disk2_part_guid, name="data"
EOF
    dd if="$work/data.img" of="$work/disk2.img" bs=1M seek=1 conv=sparse,notrunc status=none
    rm -f "$work/data.img"
fi

# boot_uuid= names the slot's LUKS UUID (fde) or its ext4 UUID.
if [[ $mode == fde ]]; then
    boot_a=$(luks_uuid "$slot_a") boot_b=$(luks_uuid "$slot_b")
else
    boot_a=$(ext4_uuid "$slot_a") boot_b=$(ext4_uuid "$slot_b")
fi

{
    echo "# EMT $mode disk (qemu/build-emt-disk.sh); p1 comes from qemu/mkesp.sh."
    echo "# boot_uuid a=$boot_a b=$boot_b${root_a:+ roothash a=$root_a b=$root_b}"
    printf '%-3s %-16s %-8s %-16s %-9s %-36s %s\n' '#nr' name file plaintext encrypted luks_uuid fs_uuid
    printf '%-3s %-16s %-8s %-16s %-9s %-36s %s\n' 1 esp - vfat-esp no - -
    for n in "${nums[@]}"; do
        enc=no luks=-
        if is_encrypted "$n"; then enc=yes luks=$(luks_uuid "$n"); fi
        printf '%-3s %-16s %-8s %-16s %-9s %-36s %s\n' "$n" "${pname[$n]}" "p$n.img" "${kind[$n]}" "$enc" "$luks" "${fsid[$n]:--}"
    done
    if [[ $mode == fde ]]; then
        echo "# disk2.img (second disk, /dev/vdb): GPT $disk2_guid, partition 1 \"data\" $disk2_part_guid,"
        echo "#   LUKS2 $disk2_luks_uuid around 16 MiB of zeros; edgeinit opens it as vdb_crypt."
    fi
} >"$work/layout.txt"
echo "$boot_a" >"$work/boot_uuid_a"
echo "$boot_b" >"$work/boot_uuid_b"
echo "$mode" >"$work/mode"

# Move into place, layout.txt last: it is what make watches.
for f in "${outputs[@]}"; do
    [[ $f == layout.txt ]] || mv "$work/$f" "$outdir/$f"
done
mv "$work/layout.txt" "$outdir/layout.txt"
echo "build-emt-disk: $mode in $outdir ($(du -sm --apparent-size "$outdir" | cut -f1) MiB, $(($(date +%s) - t0)) s), boot_uuid a=$boot_a b=$boot_b"
