# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # run.sh defines and reads the variables (sourced)
# LUKS2 headers as untrusted input (issue 10): a header outside the allow-list is refused before
# any key (the TPM's, a typed one) is offered to it. Sourced by tests/boot/run.sh. The hostile
# headers are made from cryptsetup-made volumes with qemu/craft-luks2.py.

all_scenarios+=(null-cipher-token emt-null-cipher emt-absurd-pbkdf)

# An attacker's own LUKS2 volume of $2 bytes at $1 whose keyslot 0 is cipher_null: the AF-split
# volume key lies in the clear, so libcryptsetup before 2.8.1 (Debian 12 has 2.6.1) opens it
# with ANY passphrase. $3 (optional): a token JSON to import, bound to keyslot 0.
luks_header_null_volume() {
    local img=$1 size=$2 token=${3:-} pass=$dir/attacker-passphrase
    printf 'attacker-passphrase' >"$pass"
    rm -f "$img"
    truncate -s "$size" "$img"
    cryptsetup luksFormat -q --type luks2 --pbkdf pbkdf2 --pbkdf-force-iterations 1000 \
        --key-file "$pass" "$img"
    if [[ -n "$token" ]]; then
        python3 -c 'import json, sys
t = json.load(open(sys.argv[1])); t["keyslots"] = ["0"]; json.dump(t, open(sys.argv[1], "w"))' "$token"
        cryptsetup token import --json-file "$token" --token-id 0 "$img"
    fi
    "$top/qemu/craft-luks2.py" null-keyslot "$img" --keyslot 0 --key-file "$pass"
    "$top/qemu/craft-luks2.py" verify-null-keyslot "$img" --keyslot 0
}

# The scenario's setup failed: say so in its result instead of booting something else.
luks_header_setup_ok() {
    [[ -z "${luks_header_setup_error:-}" ]] || fail "setup: $luks_header_setup_error (see build.log)"
}

# Verity profile. The persistent partition is the attacker's cipher_null volume carrying a
# systemd-tpm2 token copied from a volume enrolled against THIS machine's TPM (PCR 15, all zeros
# before the unlock): without the allow-list, edgeinit would unseal the real secret and
# "unlock" the attacker's volume with it, then boot with the attacker's /opt.
setup_null-cipher-token() {
    fde_setup
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=150
    luks_header_setup_error=''
    local enrolled=$dir/enrolled.img
    {
        cp --sparse=always "$image/persist-luks.img" "$enrolled" &&
            "$top/qemu/enroll-token.sh" "$dir/machine/tpm" "$enrolled" "$image/emt-passphrase" 15 &&
            cryptsetup token export --token-id 0 "$enrolled" >"$dir/token.json" &&
            luks_header_null_volume "$dir/attacker.img" "$(stat -c %s "$enrolled")" "$dir/token.json"
    } >>"$dir/build.log" 2>&1 || luks_header_setup_error="could not build the attacker's volume"
    rm -f "$enrolled"
    persist_image=$dir/attacker.img
}
check_null-cipher-token() {
    luks_header_setup_ok
    check_exited
    expect 'The LUKS2 header of the persistent partition /dev/vda3 \(LUKS UUID [0-9a-f-]{36}\) is refused: keyslot 0: area cipher cipher_null-ecb is not allowed' \
        "no refusal naming /dev/vda3 and the cipher_null keyslot"
    expect 'edgeinit: FATAL' "no FATAL"
    expect_fatal_within 30
    reject 'Unlocked' "the attacker's volume was unlocked"
    reject 'TPM refused|released|does not open its keyslots|opens no keyslot' "the TPM was asked to unseal for the attacker's header"
    reject 'recovery passphrase' "a passphrase was asked for the attacker's header"
    reject 'EDGEINIT-TEST: BEGIN' "the system started"
}

# EMT FDE: partition 3 (edge_persistent) replaced by an attacker's cipher_null volume, which EMT's
# TPM-sealed key would "open". Refused before the TPM is asked.
setup_emt-null-cipher() {
    emt_setup fde
    boots=("report:a")
    timeout_s=120
    luks_header_setup_error=''
    local p3
    p3=$(awk '$1 == 3 { print $3 }' "$build/emt-fde/layout.txt")
    {
        [[ -n "$p3" && -r "$build/emt-fde/$p3" ]] &&
            luks_header_null_volume "$dir/attacker-p3.img" "$(stat -c %s "$build/emt-fde/$p3")"
    } >>"$dir/build.log" 2>&1 || luks_header_setup_error="could not build the attacker's partition 3"
    mkdisk_args=(--persist "$dir/attacker-p3.img")
}
check_emt-null-cipher() {
    luks_header_setup_ok
    check_exited
    expect 'The LUKS2 header of /dev/vda3 \(for /dev/mapper/edge_persistent\) is refused: keyslot 0: area cipher cipher_null-ecb is not allowed' \
        "no refusal naming /dev/vda3 and the cipher_null keyslot"
    expect 'edgeinit: FATAL' "no FATAL"
    expect_fatal_within 30
    reject 'TPM refused|Extended PCR 15 right after the unseal|released' "the TPM was asked to unseal"
    reject 'Unlocked' "volumes were unlocked"
    reject 'EDGEINIT-TEST: BEGIN' "the system started"
}

# EMT FDE: the second disk's optional volume (vdb_crypt) has PBKDF2 iterations 2^32-1 (hours of
# PBKDF2 before libcryptsetup even says no). Refused, left closed, the system boots.
setup_emt-absurd-pbkdf() {
    emt_setup fde
    boots=("report:a")
    timeout_s=300
    luks_header_setup_error=''
    local f parts=$dir/parts
    mkdir -p "$parts"
    for f in "$build/emt-fde"/*; do
        [[ "$(basename "$f")" == disk2.img ]] || ln -sfn "$f" "$parts/$(basename "$f")"
    done
    {
        # disk2.img: GPT, partition 1 "data" at 1 MiB, 32 MiB, LUKS2 (qemu/build-emt-disk.sh).
        cp --sparse=always "$build/emt-fde/disk2.img" "$parts/disk2.img" &&
            dd if="$parts/disk2.img" of="$dir/data.img" bs=1M skip=1 count=32 status=none &&
            "$top/qemu/craft-luks2.py" pbkdf2-iterations "$dir/data.img" --keyslot 0 --iterations 4294967295 &&
            cryptsetup luksDump "$dir/data.img" | grep -q 'Iterations: *4294967295' &&
            dd if="$dir/data.img" of="$parts/disk2.img" bs=1M seek=1 conv=notrunc status=none &&
            rm -f "$dir/data.img"
    } >>"$dir/build.log" 2>&1 || luks_header_setup_error="could not build the second disk"
    # mkdisk-emt.sh takes the last --parts: the same partitions, this disk2.img.
    mkdisk_args=(--parts "$parts")
}
check_emt-absurd-pbkdf() {
    luks_header_setup_ok
    check_exited
    expect 'The LUKS2 header of /dev/vdb1 is refused \(keyslot 0: pbkdf2 iterations 4294967295 exceed the bound 16777216\), leaving it closed\.' \
        "no refusal naming /dev/vdb1 and the iterations"
    expect 'Unlocked 8 of 9 LUKS2 volumes' "not exactly the other 8 volumes unlocked"
    reject 'EDGEINIT-TEST: dm vdb_crypt' "vdb_crypt was opened"
    local s
    s=$(log_seconds 'The LUKS2 header of /dev/vdb1 is refused')
    [[ -z "$s" ]] || ((s <= 60)) || fail "the refusal came ${s}s after the kernel started (want <= 60 s)"
    reject 'edgeinit: FATAL' "the boot failed"
    expect 'EDGEINIT-TEST: BEGIN' "the system did not start"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
}
