#!/bin/bash
# An encrypted persistent partition, as EMT's "FDE" provisioning leaves it: LUKS2 around ext4,
# its passphrase 64 hex characters in keyslot 0 (EMT seals that passphrase in the TPM). The
# keyslot uses PBKDF2 with 1000 iterations: the secret has full entropy, and argon2id's memory
# cost would dominate a TCG boot (real devices use argon2id).
# Usage: qemu/build-fde.sh IMAGE_DIR   -> IMAGE_DIR/persist-luks.img, IMAGE_DIR/emt-passphrase
# Built entirely on files: cryptsetup reencrypt --encrypt works offline, no device-mapper.
set -euo pipefail

dir=${1:?usage: $0 IMAGE_DIR}
out=$dir/persist-luks.img pass=$dir/emt-passphrase
if [[ -s "$out" && -s "$pass" && "$out" -nt "${BASH_SOURCE[0]}" ]]; then
    echo "build-fde: cached in $dir"
    exit 0
fi
tmp=$out.tmp
rm -f "$tmp"
od -An -tx1 -N32 /dev/urandom | tr -d ' \n' >"$pass.tmp"
# ext4 in the first 48 MiB; reencrypt moves it up by the 16 MiB LUKS2 header.
truncate -s 64M "$tmp"
E2FSPROGS_FAKE_TIME=${SOURCE_DATE_EPOCH:-0} mkfs.ext4 -q -F -L edge_persistent "$tmp" 48M
cryptsetup reencrypt --encrypt --type luks2 --reduce-device-size 16M --batch-mode \
    --pbkdf pbkdf2 --pbkdf-force-iterations 1000 --key-slot 0 --key-file "$pass.tmp" "$tmp"
mv "$pass.tmp" "$pass"
mv "$tmp" "$out"
echo "build-fde: $out ($(cryptsetup luksUUID "$out"))"
