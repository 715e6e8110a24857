#!/bin/bash
# Partition images an attacker with the disk (but not the TPM) can write, for the boot tests of
# issue 10 ("a disk attacker gets nothing"). Everything is built on plain files (no
# device-mapper): the inputs are copied, never modified.
# Usage:
#   qemu/build-hostile.sh luks OUT UUID PASSFILE [TOKEN_JSON]
#       The attacker's own LUKS2 volume carrying the victim's LUKS UUID: ext4 (label
#       edge_persistent, a file "attacker" at its root) encrypted with PASSFILE in keyslot 0,
#       PBKDF2 1000 iterations like the victim's. TOKEN_JSON (a token exported from the victim's
#       header) is imported as token 0; the keyslots it names are added with PASSFILE, so the
#       header is valid and the token points at keyslots the TPM's key does not open.
#   qemu/build-hostile.sh downgrade VERITY_PARTS BOOT_UUID OUTDIR
#       EMT's FDE slot A rewritten as "DM-verity only", everything in clear: OUTDIR/p2.img is
#       VERITY_PARTS/p2.img with the ext4 UUID set to BOOT_UUID (what the signed boot_uuid=
#       names: the victim's LUKS UUID), OUTDIR/p4.img its new hash tree and OUTDIR/p7.img the
#       roothash partition with the new part_a_roothash: a self-consistent unverified root.
#   qemu/build-hostile.sh fifo-roothash P7_IMG FILE OUT
#       A copy of the (clear) roothash partition P7_IMG whose FILE (part_a_roothash or
#       part_b_roothash) is a FIFO: open() for reading blocks until a writer comes, i.e. for ever.
set -euo pipefail

export E2FSPROGS_FAKE_TIME=${SOURCE_DATE_EPOCH:-1}
die() { echo "build-hostile: $*" >&2; exit 1; }
usage() { sed -n '5,22p' "${BASH_SOURCE[0]}" >&2; exit 2; }

hostile_luks() {
    local out=$1 uuid=$2 pass=$3 token=${4:-} tmp=$1.tmp ks
    [[ -r "$pass" ]] || die "cannot read $pass"
    rm -f "$tmp"
    truncate -s 64M "$tmp"
    echo "planted by the attacker" >"$tmp.marker"
    mkfs.ext4 -q -F -b 4096 -L edge_persistent "$tmp" 48M
    debugfs -w -R "write $tmp.marker attacker" "$tmp" >/dev/null 2>&1
    rm -f "$tmp.marker"
    cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode \
        --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-slot 0 --key-file "$pass" \
        --uuid "$uuid" "$tmp" >/dev/null
    if [[ -n "$token" ]]; then
        for ks in $(python3 -c 'import json, sys; print(" ".join(json.load(open(sys.argv[1]))["keyslots"]))' "$token"); do
            [[ "$ks" == 0 ]] && continue
            cryptsetup luksAddKey --batch-mode --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
                --key-file "$pass" --new-key-slot "$ks" "$tmp" "$pass"
        done
        cryptsetup token import --token-id 0 --json-file "$token" "$tmp"
    fi
    [[ "$(cryptsetup luksUUID "$tmp")" == "$uuid" ]] || die "$tmp does not carry LUKS UUID $uuid"
    cryptsetup open --test-passphrase --key-file "$pass" "$tmp" || die "$tmp does not open with $pass"
    mv "$tmp" "$out"
    echo "build-hostile: $out: attacker's LUKS2 volume, LUKS UUID $uuid${token:+, token 0 from $token}"
}

hostile_downgrade() {
    local parts=$1 uuid=$2 out=$3 root
    [[ "$(cat "$parts/mode")" == verity ]] || die "$parts is not an EMT verity-only build"
    mkdir -p "$out"
    cp --sparse=always "$parts/p2.img" "$out/p2.img.tmp"
    # tune2fs refuses -U on a file system it has not seen checked.
    e2fsck -fy "$out/p2.img.tmp" >/dev/null 2>&1 || true
    tune2fs -U "$uuid" "$out/p2.img.tmp" >/dev/null
    [[ "$(blkid -p -o value -s UUID "$out/p2.img.tmp")" == "$uuid" ]] || die "p2 does not carry ext4 UUID $uuid"
    mv "$out/p2.img.tmp" "$out/p2.img"
    rm -f "$out/p4.img"
    root=$(veritysetup format "$out/p2.img" "$out/p4.img" | sed -nE 's/^Root hash:[[:space:]]+([0-9a-f]{64})$/\1/p')
    [[ -n "$root" ]] || die "no root hash for $out/p2.img"
    chmod 0644 "$out/p4.img"
    cp --sparse=always "$parts/p7.img" "$out/p7.img.tmp"
    echo "$root" >"$out/part_a_roothash"
    printf 'rm part_a_roothash\nwrite %s part_a_roothash\nsif part_a_roothash uid 0\nsif part_a_roothash gid 0\n' \
        "$out/part_a_roothash" | debugfs -w -f - "$out/p7.img.tmp" >/dev/null 2>&1
    [[ "$(debugfs -R "cat part_a_roothash" "$out/p7.img.tmp" 2>/dev/null)" == "$root" ]] ||
        die "part_a_roothash not rewritten in $out/p7.img"
    mv "$out/p7.img.tmp" "$out/p7.img"
    echo "build-hostile: $out: slot A in clear, ext4 UUID $uuid, root hash $root"
}

hostile_fifo() {
    local p7=$1 file=$2 out=$3
    [[ "$file" =~ ^part_[ab]_roothash$ ]] || die "FILE must be part_a_roothash or part_b_roothash"
    cp --sparse=always "$p7" "$out.tmp"
    printf 'rm %s\nmknod %s p\nsif %s mode 010644\nsif %s uid 0\nsif %s gid 0\n' \
        "$file" "$file" "$file" "$file" "$file" | debugfs -w -f - "$out.tmp" >/dev/null 2>&1
    debugfs -R "stat $file" "$out.tmp" 2>/dev/null | grep -q 'Type: FIFO' || die "$file is not a FIFO in $out.tmp"
    mv "$out.tmp" "$out"
    echo "build-hostile: $out: $file is a FIFO"
}

case ${1:-} in
    luks) (($# == 4 || $# == 5)) || usage; shift; hostile_luks "$@" ;;
    downgrade) (($# == 4)) || usage; shift; hostile_downgrade "$@" ;;
    fifo-roothash) (($# == 4)) || usage; shift; hostile_fifo "$@" ;;
    *) usage ;;
esac
