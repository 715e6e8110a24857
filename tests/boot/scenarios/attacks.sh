# shellcheck shell=bash disable=SC2034,SC2154 # sourced by run.sh, which sets and reads these
# Issue 10, "a disk attacker gets nothing": disks rewritten by someone who has the disk but
# not the TPM (qemu/build-hostile.sh builds the hostile partitions from copies of the build's
# images). Each refusal asserts the FATAL naming device and reason, that the system never
# started (no EDGEINIT-TEST: BEGIN), the bounded time, and that no secret was released.

all_scenarios+=(emt-downgrade emt-downgrade-control emt-supplanted-persist emt-partial-passphrase emt-fifo-roothash
    emt-latch-early supplanted-token recovery-lockdown recovery-no-lockdown)

# Build a hostile partition into the scenario's dir; the log goes to build.log.
hostile() {
    "$top/qemu/build-hostile.sh" "$@" >>"$dir/build.log" 2>&1 ||
        { echo "FAIL $name: could not build the hostile disk (see $dir/build.log)"; return 1; }
}
# Enroll a systemd-tpm2 token into a LUKS2 image against this scenario's TPM.
enroll() {
    "$top/qemu/enroll-token.sh" "$dir/machine/tpm" "$1" "$image/emt-passphrase" "$2" >>"$dir/build.log" 2>&1 ||
        { echo "FAIL $name: could not enroll the token (see $dir/build.log)"; return 1; }
}
# The attacker's passphrase (typed at prompts, keyslot 0 of their volume).
attacker_passphrase() {
    [[ -s "$dir/attacker-passphrase" ]] || printf 'attacker-5eb1d0c1' >"$dir/attacker-passphrase"
    cat "$dir/attacker-passphrase"
}
# The LUKS UUID of partition N of the EMT FDE build (layout.txt's sixth column).
emt_fde_luks_uuid() {
    awk -v n="$1" '$1 == n { print $6 }' "$build/emt-fde/layout.txt"
}
# Line number of the first console line matching $1 (empty when none).
first_line() {
    grep -anE -m1 -- "$1" "$clean" | cut -d: -f1
}
# $1 (a description) must come before $3: both lines present, first_line($2) < first_line($4).
expect_before() {
    local a b
    a=$(first_line "$2") b=$(first_line "$4")
    [[ -n "$a" ]] || { fail "no line for $1"; return; }
    [[ -n "$b" ]] || { fail "no line for $3"; return; }
    ((a < b)) || fail "$1 (line $a) does not come before $3 (line $b)"
}

# Finding 2: EMT's FDE slot A rewritten as "DM-verity only" in clear: the ext4 UUID is the
# signed boot_uuid= (the victim's LUKS UUID), a fresh hash tree in partition 4, its root hash in
# partition 7, everything self-consistent. The TPM still holds EMT's sealed key: refused before
# anything is mounted.
setup_emt-downgrade() {
    emt_setup verity
    seal_passphrase=$build/emt-fde/emt-passphrase
    passphrase=$(cat "$seal_passphrase")
    tpm_seal=(emt)
    emt_boot_uuid=$(cat "$build/emt-fde/boot_uuid_a")
    boots=("report:a")
    timeout_s=120
    hostile downgrade "$build/emt-verity" "$emt_boot_uuid" "$dir/hostile"
    mkdisk_args=(--replace "2=$dir/hostile/p2.img" --replace "4=$dir/hostile/p4.img"
        --replace "7=$dir/hostile/p7.img")
}
check_emt-downgrade() {
    check_exited
    expect "edgeinit: The TPM holds EMT's sealed key \(handle 0x81000000\), but /dev/vda2 is not LUKS2 \(EMT verity mode\): refusing a disk rewritten without encryption\." \
        "no refusal of the disk rewritten without encryption"
    expect "edgeinit: FATAL: stage 'emt' failed" "no FATAL message for the emt stage"
    expect_fatal_within 20
    reject 'Unlocked' "a volume was unlocked"
    reject 'Root hash of slot|The root hash comes from' "the roothash partition was read"
    reject 'EDGEINIT-TEST: BEGIN' "the unencrypted root booted"
    reject_passphrase
}

# The control: the same disk on a machine whose TPM holds no EMT key (a device installed as
# verity-only) boots slot A from the attacker's root hash, the TPM locked down: the disk is
# self-consistent, and only the sealed key in the TPM tells the downgrade apart.
setup_emt-downgrade-control() {
    setup_emt-downgrade
    tpm_seal=()
    timeout_s=300
}
check_emt-downgrade-control() {
    check_exited
    expect 'edgeinit: TPM lockdown \(EMT disk without encryption\): extended PCRs 0-15' "no TPM lockdown for the unencrypted disk"
    expect 'edgeinit: The root hash comes from /dev/vda7, which nothing authenticates' "no warning about the unauthenticated root hash"
    expect 'EDGEINIT-TEST: slot a' "the attacker's slot A did not boot"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
}

# Findings 6 and 11: EMT's key is released, but partition 3 is the attacker's LUKS2 volume with
# the victim's LUKS UUID. The key opening nothing there is an attack, not a forgotten
# passphrase: no recovery prompt (which would let the attacker's passphrase open their /opt).
setup_emt-supplanted-persist() {
    emt_setup fde
    boots=("report:a")
    timeout_s=120
    attacker_passphrase >/dev/null
    hostile luks "$dir/attacker-persist.img" "$(emt_fde_luks_uuid 3)" "$dir/attacker-passphrase"
    mkdisk_args=(--replace "3=$dir/attacker-persist.img")
}
check_emt-supplanted-persist() {
    check_exited
    expect 'edgeinit: The key the TPM released opens 3 of the 4 volumes slot a needs; opening none\.' \
        "the sealed key was not reported as opening all but the supplanted volume"
    expect "edgeinit: The TPM released the sealed key at handle 0x81000000, but it does not open EMT's volumes \\(/dev/vda\\): this LUKS2 header is not the one the key was sealed for\\." \
        "no refusal of the supplanted persistent volume"
    expect "edgeinit: FATAL: stage 'emt' failed" "no FATAL message for the emt stage"
    expect_fatal_within 30
    reject 'Please enter the recovery passphrase' "the recovery prompt appeared"
    reject 'Unlocked' "the boot reported unlocked volumes"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on"
    reject_passphrase
}

# Finding 6: the TPM refuses (another PCR 15), the attacker types their own passphrase: it
# opens their partition 3 only. Nothing is opened, every try, then the fatal policy.
setup_emt-partial-passphrase() {
    emt_setup fde
    boots=("report:a")
    tpm_seal=(emt 00000000000000000000000000000000000000000000000000000000000000ff)
    timeout_s=240
    local ap
    ap=$(attacker_passphrase)
    hostile luks "$dir/attacker-persist.img" "$(emt_fde_luks_uuid 3)" "$dir/attacker-passphrase"
    mkdisk_args=(--replace "3=$dir/attacker-persist.img")
    answers=("recovery passphrase for EMT's volumes" "$ap"
        "recovery passphrase for EMT's volumes" "$ap"
        "recovery passphrase for EMT's volumes" "$ap")
}
check_emt-partial-passphrase() {
    check_exited
    expect 'edgeinit: TPM refused the sealed key at handle 0x81000000: PCR 15 does not match' "no refusal message"
    expect "Please enter the recovery passphrase for EMT's volumes \(/dev/vda\)" "no recovery prompt"
    expect 'edgeinit: The passphrase opens 1 of the 4 volumes slot a needs; opening none\.' \
        "the attacker's passphrase was not reported as opening only their volume"
    local n
    n=$(grep -acE 'The passphrase opens 1 of the 4 volumes slot a needs; opening none' "$clean")
    ((n == 3)) || fail "the partial passphrase was reported $n times, want 3 (one per try)"
    expect "edgeinit: FATAL: stage 'emt' failed" "no FATAL message for the emt stage"
    # Three tries, each typed about a second after its prompt.
    expect_fatal_within 60
    reject 'Unlocked' "a volume was unlocked with the attacker's passphrase"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on"
    ! grep -aqF -- "$(attacker_passphrase)" "$clean" || fail "the attacker's passphrase appears on the console"
}

# Finding 7: the roothash partition of an EMT verity-only disk (clear ext4) has
# part_b_roothash as a FIFO: opening it would block for ever.
setup_emt-fifo-roothash() {
    emt_setup verity
    boots=("report:b")
    timeout_s=120
    hostile fifo-roothash "$build/emt-verity/p7.img" part_b_roothash "$dir/p7-fifo.img"
    mkdisk_args=(--replace "7=$dir/p7-fifo.img")
}
check_emt-fifo-roothash() {
    check_exited
    expect 'edgeinit: EMT verity disk /dev/vda: booting slot b' "slot b not selected"
    expect 'edgeinit: part_b_roothash on the roothash partition /dev/vda7 is not a regular file\.' \
        "no refusal of the FIFO"
    expect "edgeinit: FATAL: stage 'emt' failed" "no FATAL message for the emt stage"
    expect_fatal_within 30
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on"
}

# Finding 8: PCR 15 is extended right after EMT's key is unsealed, before anything the disk
# controls is read as a file (the roothash partition) or mounted.
setup_emt-latch-early() {
    emt_setup fde
    boots=("report:a")
}
check_emt-latch-early() {
    check_exited
    local latch='edgeinit: Extended PCR 15 right after the unseal: EMT.s sealed key cannot be unsealed again in this boot\.'
    expect "$latch" "no PCR 15 latch line"
    expect_before "the PCR 15 latch" "$latch" "the roothash partition's root hash" 'edgeinit: Root hash of slot a from the roothash partition'
    expect_before "the PCR 15 latch" "$latch" "the first mount" 'EXT4-fs \([^)]*\): mounted filesystem|Mounted '
    expect_before "the PCR 15 latch" "$latch" "the unlock report" "edgeinit: Unlocked the 4 LUKS2 volumes slot a needs"
    expect 'EDGEINIT-TEST: measure-log .*"string":"edgeinit:emt-key-unsealed" .*"string":"cryptsetup:' \
        "the measure log lacks edgeinit:emt-key-unsealed followed by the cryptsetup records"
    reject 'EDGEINIT-TEST: measure-log .*"string":"cryptsetup:.*"string":"edgeinit:emt-key-unsealed"' \
        "a cryptsetup record comes before edgeinit:emt-key-unsealed in the measure log"
    reject 'EDGEINIT-TEST: pcr15 0{64}' "PCR 15 was not extended"
    expect 'EDGEINIT-TEST: slot a' "the root is not slot a"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
    reject_passphrase
}

# Finding 11, verity profile: the attacker's LUKS2 volume with the victim's LUKS UUID carries
# the victim's systemd-tpm2 token (copied from the real header, enrolled against this TPM to
# PCR 15, which is all zeros until the unlock). The TPM releases the key; it opens no keyslot
# of the attacker's header: refused, no prompt.
setup_supplanted-token() {
    fde_setup
    cmdline=$(happy_cmdline "$roothash")
    boots=("report:$image")
    timeout_s=120
    attacker_passphrase >/dev/null
    cp --sparse=always "$image/persist-luks.img" "$dir/victim.img"
    enroll "$dir/victim.img" 15
    cryptsetup token export --token-id 0 "$dir/victim.img" >"$dir/victim-token.json"
    hostile luks "$dir/attacker-persist.img" "$(cryptsetup luksUUID "$dir/victim.img")" \
        "$dir/attacker-passphrase" "$dir/victim-token.json"
    persist_image=$dir/attacker-persist.img
}
check_supplanted-token() {
    check_exited
    expect 'edgeinit: The TPM released the key of LUKS token 0, but it opens no keyslot of /dev/vda3: this LUKS2 header is not the one the key was sealed for\.' \
        "no refusal of the supplanted header"
    expect "edgeinit: FATAL: stage 'luks' failed" "no FATAL message for the luks stage"
    expect_fatal_within 30
    reject 'Please enter the recovery passphrase' "the recovery prompt appeared"
    reject 'Unlocked' "a volume was unlocked"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on"
    reject_passphrase
}

# Finding 11, second half: the attacker's volume (victim's UUID, no token) as the persistent
# partition, the victim's real volume moved to a second disk (/dev/vdb, whole-disk LUKS2) with
# a systemd-tpm2 token enrolled against this TPM. The attacker's passphrase opens their /opt
# and the system starts, but the TPM is locked down first: code in that system cannot unseal
# the real volume's token. The token is bound to PCR 14 (nothing in this boot chain extends it:
# no shim), not PCR 7: systemd-cryptenroll 252 seals to the PCRs' current values, and the host's
# swtpm has none of OVMF's PCR 7 measurements. recovery-no-lockdown is the control: the same
# boot with edgeinit.tpm2.lockdown=no (which still extends PCR 15) unseals that token.
lockdown_setup() {
    fde_setup
    cmdline=$(happy_cmdline "$roothash")
    boots=("try-unseal:$image")
    timeout_s=300
    local ap
    ap=$(attacker_passphrase)
    cp --sparse=always "$image/persist-luks.img" "$dir/disk2.img"
    enroll "$dir/disk2.img" 14
    hostile luks "$dir/attacker-persist.img" "$(cryptsetup luksUUID "$dir/disk2.img")" "$dir/attacker-passphrase"
    persist_image=$dir/attacker-persist.img
    disk2_args=(--disk2 "$dir/disk2.img")
    answers=('recovery passphrase for edge_persistent' "$ap")
}
setup_recovery-lockdown() {
    lockdown_setup
}
check_recovery-lockdown() {
    check_exited
    expect 'edgeinit: Unlocked /dev/vda3 as /dev/mapper/edge_persistent with the recovery passphrase' \
        "the attacker's volume was not opened by their passphrase"
    expect "edgeinit: TPM lockdown \(.*\): extended PCRs 0-15; nothing sealed to this boot's PCRs can be unsealed any more\." \
        "no TPM lockdown"
    expect_before "the TPM lockdown" 'edgeinit: TPM lockdown' "the system's start" 'EDGEINIT-TEST: BEGIN'
    expect 'EDGEINIT-TEST: mount /opt /dev/mapper/edge_persistent ext4' "/opt is not the attacker's volume"
    expect 'EDGEINIT-TEST: measure-log .*"string":"edgeinit:tpm-lockdown"' "the measure log lacks the lockdown record"
    expect 'EDGEINIT-TEST: unseal /dev/vdb refused' "the real volume's token was not refused"
    reject 'EDGEINIT-TEST: unseal /dev/vdb ok' "code in the attacker's system unsealed the real volume's token"
    reject_passphrase
}
setup_recovery-no-lockdown() {
    lockdown_setup
    cmdline+=" edgeinit.tpm2.lockdown=no"
}
check_recovery-no-lockdown() {
    check_exited
    expect 'edgeinit: Unlocked /dev/vda3 as /dev/mapper/edge_persistent with the recovery passphrase' \
        "the attacker's volume was not opened by their passphrase"
    # lockdown=no keeps PCR 15's extension (volume keys), not PCRs 0-14's.
    expect "edgeinit: TPM lockdown \(.*\): extended PCRs 15; nothing sealed" "PCR 15 was not extended with edgeinit.tpm2.lockdown=no"
    reject 'extended PCRs 0-15' "PCRs 0-15 were extended with edgeinit.tpm2.lockdown=no"
    expect 'EDGEINIT-TEST: unseal /dev/vdb ok' "the control failed: the real volume's token does not unseal even without the lockdown"
}
