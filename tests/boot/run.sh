#!/bin/bash
# QEMU boot tests: boot the image under scenarios and assert on what the guest
# printed on its serial console (never on what we hoped it would do).
# Usage: tests/boot/run.sh [SCENARIO...]     (default: all)
# Needs: build/initrd.img, build/kernel (make kernel), build/image (make image).
# Each scenario builds its own UKI (its own command line), ESP and disk, so
# scenarios are independent and can run in parallel (BOOT_TEST_JOBS, default 2:
# each QEMU/TCG uses one core). Logs: build/boot-tests/<scenario>/serial.log.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$top/build}
[[ "$build" == /* ]] || build=$top/$build
image=${IMAGE_DIR:-$build/image}
# The image's own kernel and initrd: kernel-install made them inside the image root
# (qemu/build-image-root.sh). INITRD=build/initrd.img boots the checkout's instead (make initrd:
# seconds, where the image needs a package build).
initrd=${INITRD:-$image/initrd.img}
kernel=${KERNEL_IMAGE:-$image/vmlinuz}
kernel_dir=${KERNEL_DIR:-$build/kernel}
stub=${UKI_STUB:-/usr/lib/systemd/boot/efi/linuxx64.efi.stub}
jobs=${BOOT_TEST_JOBS:-2}
outroot=$build/boot-tests

all_scenarios=(happy wrong-roothash corrupt-data missing-persist layout bad-layout emt-fde token enroll token-pcr-changed foreign-tpm no-tpm-wrong
    emt-disk-fde emt-disk-verity emt-disk-plain emt-wrong-boot-uuid emt-missing-roothash emt-foreign-tpm
    emt-recovery)

for f in "$initrd:make image" "$kernel:make image" "$kernel_dir/kver:make kernel" \
    "$image/rootfs.img:make image" "$image/roothash:make image" \
    "$image/canary-offset:make image" "$build/emt-fde/layout.txt:make emt-images" \
    "$build/emt-verity/layout.txt:make emt-images" "$build/emt-plain/layout.txt:make emt-images"; do
    if [[ ! -s "${f%%:*}" ]]; then
        echo "boot-test: missing ${f%%:*} (run '${f#*:}')" >&2
        exit 2
    fi
done

roothash=$(cat "$image/roothash")
# States a guest never leaves: stop QEMU early instead of waiting for the timeout.
hang_re='Freezing execution|Kernel panic - not syncing|end Kernel panic'

# The reference command line, shared with the Makefile's UKI.
happy_cmdline() {
    sed "s/@ROOTHASH@/$1/" "$top/qemu/cmdline.happy"
}

# A root hash with its first hex digit changed: well-formed, but wrong.
wrong_hash() {
    local h=$1 first=0
    [[ "${h:0:1}" != 0 ]] || first=1
    echo "$first${h:1}"
}

# --- assertions on the serial log -------------------------------------------
# Each records a failure and carries on, so one run reports every broken
# expectation. The log is read with CRs stripped (the console emits CRLF).

failures=()
fail() { failures+=("$1"); }
log_has() { grep -aqE -- "$1" "$clean"; }
log_has_i() { grep -aqiE -- "$1" "$clean"; }
expect() { log_has "$1" || fail "${2:-expected /$1/}"; }
expect_i() { log_has_i "$1" || fail "${2:-expected /$1/ (any case)}"; }
reject() { ! log_has "$1" || fail "${2:-unexpected /$1/}"; }

# The LUKS passphrase the host used appears nowhere on the console (fixed string, all boots).
reject_passphrase() { ! grep -aqF -- "$passphrase" "$clean" || fail "the passphrase appears on the console"; }

# Assertions on the log of boot N of a multi-boot scenario.
expect_boot() { grep -aqE -- "$2" "$dir/serial-$1.txt" || fail "boot $1: ${3:-expected /$2/}"; }
reject_boot() { ! grep -aqE -- "$2" "$dir/serial-$1.txt" || fail "boot $1: ${3:-unexpected /$2/}"; }

# Fields of the probe's "mount <target> <source> <fstype> <options>" line. The line may follow
# other console output ("edgeinit-test login: " from the getty): the fields count from the tag.
mount_field() {
    awk -v t="$1" -v n="$2" '{
        for (i = 1; i <= NF && $i != "EDGEINIT-TEST:"; i++) ;
        if (i <= NF && $(i + 1) == "mount" && $(i + 2) == t) { print $(i + n + 1); exit }
    }' "$clean"
}
has_option() { [[ ",$1," == *",$2,"* ]]; }

check_exited() {
    if ((qemu_rc == 125)); then
        fail "guest hung: $(grep -aoE -m1 -- "$stop_re" "$clean")"
    elif ((qemu_rc == 124)); then
        fail "QEMU hit the ${timeout_s}s timeout (guest did not power off or reboot)"
    elif ((qemu_rc != 0)); then
        fail "QEMU failed (exit $qemu_rc: $(grep -av '^run:' "$dir/run.stderr" 2>/dev/null | head -n 2 | tr '\n' ' '))"
    fi
}

# --- scenarios --------------------------------------------------------------
# setup_<name>: sets cmdline, timeout_s, mkdisk_args, and may set corrupt=1,
#   extra_layout (a layout.env that replaces the initrd's), boots (a list of
#   "<guest mode>:<image dir>" booted one after the other on the same
#   persistent partition; default one boot of the reference image).
# check_<name>: assertions on $clean (all boots' logs) and $qemu_rc (the last).

setup_happy() {
    # A module option on the command line reaches the module /init inserts (the kernel names it).
    cmdline="$(happy_cmdline "$roothash") dm_verity.edgeinit_probe=1"
    timeout_s=300
}
check_happy() {
    check_exited
    expect 'EDGEINIT-TEST: BEGIN' "test unit did not start (no 'EDGEINIT-TEST: BEGIN')"
    expect 'EDGEINIT-TEST: END' "test unit did not finish (no 'EDGEINIT-TEST: END')"
    # Every module of the initrd declares its size and is inflated in one call, none by libkmod,
    # and none failed; the command line's option for dm_verity was passed to it.
    expect "edgeinit: Inserted [1-9][0-9]* kernel modules: [1-9][0-9]* inflated in one call \\([1-9][0-9]* KiB\\), 0 through libkmod; 0 failed\\. CPU: [0-9]+ ms inflating, [1-9][0-9]* ms in the kernel's module loader \\(most: [a-z0-9_]+, [1-9][0-9]* ms\\)\\." \
        "no line saying the modules were inflated in one call, none through libkmod, none failed"
    expect "dm_verity: unknown parameter 'edgeinit_probe' ignored" "the command line's dm_verity.edgeinit_probe=1 did not reach the module"
    local src opts
    src=$(mount_field / 2) opts=$(mount_field / 4)
    [[ "$src" == /dev/mapper/rootfs_verity ]] || fail "/ source is '${src:-none}', want /dev/mapper/rootfs_verity"
    has_option "$opts" ro || fail "/ options '$opts' lack ro"
    src=$(mount_field /opt 2) opts=$(mount_field /opt 4)
    [[ "$src" == /dev/vda3 ]] || fail "/opt source is '${src:-none}', want /dev/vda3"
    has_option "$opts" rw || fail "/opt options '$opts' lack rw"
    expect 'EDGEINIT-TEST: opt writable yes' "/opt not writable"
    expect 'EDGEINIT-TEST: canary ok' "canary not ok"
    expect 'EDGEINIT-TEST: analyze .*\(initrd\)' "systemd-analyze line lacks '(initrd)'"
    expect 'systemd 252' "no 'systemd 252' on the console"
    expect 'EDGEINIT-TEST: exists /sysroot no' "/sysroot still exists"
    # Of the initramfs only the exitrd is left: /run/initramfs/shutdown and its mount points.
    expect 'EDGEINIT-TEST: initramfs-dir \./dev,\./oldroot,\./proc,\./run,\./shutdown,\./sys$' "/run/initramfs holds more than the exitrd"
    reject 'EDGEINIT-TEST: boot.json absent' "/run/edgeinit/boot.json absent"
    expect 'EDGEINIT-TEST: boot.json .*"outcome": *"ok"' "boot.json lacks \"outcome\": \"ok\""
    # Nothing of the initramfs is left behind: everything deleted, something freed.
    expect 'EDGEINIT-TEST: boot.json .*"entries_left": 0}' "boot.json: initramfs entries left"
    reject 'EDGEINIT-TEST: boot.json .*"freed_bytes": 0,' "boot.json: no initramfs bytes freed"
    local stage
    for stage in early-setup cmdline modules devices verity mounts switch-root; do
        expect "edgeinit: stage $stage done in [0-9]+ ms \\([0-9]+ ms of CPU\\)" "no timing line for stage $stage"
    done
    # The CPU of /init's threads is counted from its exec, not from the kernel's initcalls that
    # PID 1 ran before: on the guest's one vCPU it cannot exceed the stages' wall time.
    local cpu_line cpu_ms stages_ms
    cpu_line=$(grep -aoE "All stages done in [0-9]+ ms \\([0-9]+ ms since the kernel started; /init's threads used [0-9]+ ms of CPU\\)" "$clean" | head -n1)
    [[ -n "$cpu_line" ]] || fail "no summary line with the CPU of /init's threads"
    stages_ms=$(sed -E 's/All stages done in ([0-9]+) ms.*/\1/' <<<"$cpu_line")
    cpu_ms=$(sed -E 's/.*used ([0-9]+) ms of CPU.*/\1/' <<<"$cpu_line")
    ((cpu_ms > 0 && cpu_ms <= stages_ms + 1)) || fail "/init's CPU ($cpu_ms ms) is not between 0 and the stages' wall time ($stages_ms ms, one vCPU)"
    # systemd in the new root must not try to set up the verity root again.
    expect 'EDGEINIT-TEST: state running' "system state is not 'running' (failed units?)"
    reject 'EDGEINIT-TEST: failed-unit' "a unit failed"
}

setup_wrong-roothash() {
    cmdline=$(happy_cmdline "$(wrong_hash "$roothash")")
    timeout_s=180
}
check_wrong-roothash() {
    expect 'edgeinit:' "no 'edgeinit:' message"
    expect 'edgeinit: Root hash mismatch: roothash=' "no root hash mismatch message"
    expect "edgeinit: FATAL: stage 'verity' failed" "no FATAL message for the verity stage"
    reject 'Activated dm-verity' "the mapping was activated with a wrong root hash"
    reject 'EDGEINIT-TEST: BEGIN' "the unverified root booted (test unit ran)"
    reject 'systemd 252' "systemd started ('systemd 252')"
    reject 'running in system mode' "systemd started ('running in system mode')"
}

setup_corrupt-data() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=300
    corrupt=1
}
check_corrupt-data() {
    check_exited
    reject 'EDGEINIT-TEST: canary ok' "corrupted canary read as ok"
    log_has_i 'verity.*corrupted' || fail "no dm-verity 'corrupted' kernel message"
    # restart-on-corruption: the kernel restarts the machine at the bad read.
    expect 'reboot: Restarting system' "no kernel restart after the corrupted read"
    reject 'EDGEINIT-TEST: END' "the test unit finished after reading corrupted data"
}

setup_missing-persist() {
    cmdline="$(happy_cmdline "$roothash") rd.timeout=3"
    timeout_s=180
    mkdisk_args=(--omit edge_persistent)
}
# layout.env (EMT's default, from the initrd): a file written under the bind
# path /etc/ssh survives reboots, /etc/motd and /var (overlays on a tmpfs) do
# not, and an updated image's new file appears while the device's change wins.
setup_layout() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=300
    build_image_v2
    boots=("layout-write:$image" "layout-check:$image" "layout-check:$build/image-v2")
}
check_layout() {
    check_exited
    local b
    for b in 1 2 3; do
        expect_boot $b 'EDGEINIT-TEST: END' "test unit did not finish"
        expect_boot $b 'edgeinit: stage layout done in [0-9]+ ms' "no layout stage"
        expect_boot $b 'EDGEINIT-TEST: mount /etc/ssh /dev/vda3\[/\.mount/persistence/etc-ssh\.bind\]' "/etc/ssh is not the persistent bind"
        expect_boot $b 'EDGEINIT-TEST: mount /var overlay overlay' "/var is not an overlay"
        expect_boot $b 'EDGEINIT-TEST: mount /etc overlay overlay' "/etc is not an overlay"
        expect_boot $b 'EDGEINIT-TEST: state running' "system state is not 'running'"
    done
    expect_boot 1 'EDGEINIT-TEST: var writable yes' "/var not writable"
    expect_boot 1 'EDGEINIT-TEST: layout written' "the guest did not write its files"
    expect_boot 2 'EDGEINIT-TEST: ssh device-file written on the device' "/etc/ssh file did not survive the reboot"
    expect_boot 2 'EDGEINIT-TEST: ssh ssh_config # changed on the device' "the device's change under /etc/ssh was lost"
    reject_boot 2 'EDGEINIT-TEST: motd changed on the device' "/etc/motd (overlay) kept a change across a reboot"
    expect_boot 2 'EDGEINIT-TEST: var file absent' "/var (tmpfs overlay) kept a file across a reboot"
    expect_boot 2 'EDGEINIT-TEST: ssh new-in-v2 missing' "image v1 has a v2 file"
    expect_boot 3 'EDGEINIT-TEST: ssh new-in-v2 new in image v2' "the updated image's new file did not appear"
    expect_boot 3 'EDGEINIT-TEST: ssh ssh_config # changed on the device' "the updated image overwrote the device's file"
    expect_boot 3 'EDGEINIT-TEST: ssh device-file written on the device' "/etc/ssh file lost after the update"
}

# A layout.env that would need a shell stops the boot, naming file and line.
setup_bad-layout() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=180
    extra_layout=$'# edgeinit boot test\nTMPFS_OVERLAYS_PATHS="/var $(touch /tmp/pwned)"\n'
}
check_bad-layout() {
    check_exited
    expect 'edgeinit: /layout.env \(initrd\):2:[0-9]+: ' "no error naming the file and line"
    expect "edgeinit: FATAL: stage 'layout' failed" "no FATAL message for the layout stage"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on with an invalid layout.env"
}

# LUKS2 persistent partition, EMT's sealed key at 0x81000000 (PolicyPCR sha256:15).
fde_setup() {
    cmdline="$(happy_cmdline "$roothash") edgeinit.tpm2.emt-handle=0x81000000"
    timeout_s=300
    persist_image=$image/persist-luks.img
    passphrase=$(cat "$image/emt-passphrase")
    boots=("secrets:$image")
}
setup_emt-fde() {
    fde_setup
    tpm_seal=(emt)
}
check_emt-fde() {
    check_exited
    expect "edgeinit: Unlocked /dev/vda3 as /dev/mapper/edge_persistent with EMT's sealed key" "not unlocked by the sealed key"
    expect 'EDGEINIT-TEST: mount /opt /dev/mapper/edge_persistent ext4' "/opt is not the unlocked volume"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
    reject 'recovery passphrase' "the recovery prompt appeared"
    # PCR 15 moved: the key sealed to its boot value can no longer be unsealed.
    expect 'EDGEINIT-TEST: pcr15 [0-9A-F]{64}' "no PCR 15 value"
    reject 'EDGEINIT-TEST: pcr15 0{64}' "PCR 15 was not extended"
    # PCR 15 moves right after the unseal, before anything from the disk is read with the key.
    expect 'EDGEINIT-TEST: measure-log "string":"enter-initrd" "string":"edgeinit:emt-key-unsealed" "string":"cryptsetup:edge_persistent:[0-9a-f-]+" "string":"leave-initrd"' \
        "tpm2-measure.log lacks enter-initrd, the PCR 15 extend after the unseal, the volume key latch or leave-initrd"
    expect 'EDGEINIT-TEST: secret in /run no' "the passphrase is in /run"
    reject_passphrase
}

# A systemd-tpm2 token written by systemd-cryptenroll 252 (as integrators enroll) against this
# machine's TPM: unlocked unattended, with the salted session and the policy check.
setup_token() {
    fde_setup
    cmdline=$(happy_cmdline "$roothash")
    tpm_enroll=15
}
check_token() {
    check_exited
    expect 'edgeinit: Unlocked /dev/vda3 as /dev/mapper/edge_persistent with a systemd-tpm2 token' "not unlocked by the token"
    expect 'EDGEINIT-TEST: mount /opt /dev/mapper/edge_persistent ext4' "/opt is not the unlocked volume"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
    reject 'recovery passphrase' "the recovery prompt appeared"
    reject 'EDGEINIT-TEST: pcr15 0{64}' "PCR 15 was not latched"
    expect 'EDGEINIT-TEST: secret in /run no' "the passphrase is in /run"
    reject_passphrase
}

# Enroll the way integrators do: boot with the recovery passphrase typed on the console, run
# systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7 in the guest, reboot: unattended.
setup_enroll() {
    fde_setup
    # A provisioning UKI: enrolling from a boot the passphrase opened needs the PCRs as they are
    # (the TPM lockdown would otherwise move PCR 7 before systemd-cryptenroll reads it).
    cmdline="$(happy_cmdline "$roothash") edgeinit.tpm2.lockdown=no"
    boots=("enroll:$image" "secrets:$image")
    answers=('recovery passphrase for edge_persistent' "$passphrase")
}
check_enroll() {
    check_exited
    expect_boot 1 'edgeinit: Unlocked /dev/vda3 as /dev/mapper/edge_persistent with the recovery passphrase' "boot 1 was not unlocked by the typed passphrase"
    expect_boot 1 'EDGEINIT-TEST: enrolled yes' "systemd-cryptenroll failed in the guest"
    expect_boot 2 'edgeinit: Unlocked /dev/vda3 as /dev/mapper/edge_persistent with a systemd-tpm2 token' "boot 2 was not unlocked by the enrolled token"
    reject_boot 2 'recovery passphrase for edge_persistent' "boot 2 asked for the passphrase"
    expect_boot 2 'EDGEINIT-TEST: state running' "boot 2: system state is not 'running'"
    reject_passphrase
}

# A token whose PCRs changed (sealed to PCR 11, which the stub and enter-initrd extend before
# the unlock): refused before Unseal, the prompt appears, the right passphrase boots.
setup_token-pcr-changed() {
    fde_setup
    cmdline=$(happy_cmdline "$roothash")
    tpm_enroll=11
    answers=('recovery passphrase for edge_persistent' "$passphrase")
}
check_token-pcr-changed() {
    check_exited
    expect 'edgeinit: TPM refused LUKS token 0: the PCR policy does not match this boot \(refused before Unseal\)' "the token was not refused before Unseal"
    expect 'edgeinit: Unlocked /dev/vda3 as /dev/mapper/edge_persistent with the recovery passphrase' "not unlocked by the typed passphrase"
    expect 'EDGEINIT-TEST: END' "the test unit did not finish"
}

# Sealed against another PCR 15 (another machine): refused before Unseal, then the recovery
# passphrase typed on the console boots.
setup_foreign-tpm() {
    fde_setup
    tpm_seal=(emt 00000000000000000000000000000000000000000000000000000000000000ff)
    answers=('recovery passphrase for edge_persistent' "$passphrase")
}
check_foreign-tpm() {
    check_exited
    expect 'edgeinit: TPM refused the sealed key at handle 0x81000000: PCR 15 does not match' "no refusal message"
    reject ':esys:' "tss2 printed its own lines on the console"
    expect 'edgeinit: Unlocked /dev/vda3 as /dev/mapper/edge_persistent with the recovery passphrase' "not unlocked by the typed passphrase"
    expect 'EDGEINIT-TEST: mount /opt /dev/mapper/edge_persistent ext4' "/opt is not the unlocked volume"
    expect 'EDGEINIT-TEST: END' "the test unit did not finish"
    reject_passphrase
}

# No TPM at all: the prompt comes within the bound; three wrong passphrases end in the fatal
# policy, never in a shell.
setup_no-tpm-wrong() {
    fde_setup
    run_args=(--no-tpm)
    answers=('recovery passphrase for edge_persistent' wrong1
        'recovery passphrase for edge_persistent' wrong2
        'recovery passphrase for edge_persistent' wrong3)
}
check_no-tpm-wrong() {
    check_exited
    expect 'edgeinit: No TPM at /dev/tpmrm0' "no 'No TPM' message"
    expect 'edgeinit: Wrong passphrase for edge_persistent \(try 3 of 3\)' "not three tries"
    expect "edgeinit: FATAL: stage 'luks' failed" "no FATAL message for the luks stage"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on without the key"
}

# --- EMT-provisioned disks (qemu/build-emt-disk.sh, make emt-images) ----------
# EMT's own command line, unchanged: boot_uuid= picks the slot, no roothash=. Boots are
# "<guest mode>:<slot>"; the disk is assembled from $build/emt-<emt_mode> with EMT's numbers.
emt_cmdline() {
    echo "console=ttyS0 root=/dev/mapper/rootfs_verity boot_uuid=$(cat "$build/emt-$emt_mode/boot_uuid_$1") rd.shell=0 rd.timeout=200 rd.emergency=reboot"
}
emt_setup() {
    emt_mode=$1
    timeout_s=300
    if [[ "$emt_mode" == fde ]]; then
        seal_passphrase=$build/emt-fde/emt-passphrase
        passphrase=$(cat "$seal_passphrase")
        tpm_seal=(emt)
    fi
}
# The kernel's timestamp of the first console line matching $1, in whole seconds.
log_seconds() {
    grep -aE -m1 -- "$1" "$clean" | sed -nE 's/^\[ *([0-9]+)\.[0-9]+\].*/\1/p'
}
expect_fatal_within() {
    local s
    s=$(log_seconds "edgeinit: FATAL")
    [[ -n "$s" ]] || { fail "no timestamped FATAL line"; return; }
    ((s <= $1)) || fail "FATAL came ${s}s after the kernel started (want <= $1 s)"
}
# dm <name> slaves=<...> holders=<...> as the guest printed it.
expect_dm() { expect_boot "$1" "EDGEINIT-TEST: dm $2 $3" "device-mapper: want '$2 $3'"; }

# FDE + dm-verity: slot A writes under the layout, slot B (an "update") and A again see the
# persistent files; every mapper name EMT's update tool relies on exists, the inactive slot is
# open without a rootfs_verity child, PCR 15 moved after the unlock.
setup_emt-disk-fde() {
    emt_setup fde
    boots=("layout-write:a" "layout-check:b" "layout-check:a")
}
check_emt-disk-fde() {
    check_exited
    local b slot other
    for b in 1 2 3; do
        slot=a other=b
        ((b != 2)) || slot=b other=a
        expect_boot $b "edgeinit: EMT profile: boot_uuid=$(cat "$build/emt-fde/boot_uuid_$slot")" "no EMT profile line"
        expect_boot $b "edgeinit: EMT fde disk /dev/vda: booting slot $slot" "slot $slot not selected"
        expect_boot $b "edgeinit: Unlocked 9 of 9 LUKS2 volumes on /dev/vda with EMT's sealed key" "not every volume unlocked by the sealed key"
        expect_boot $b "edgeinit: Unlocked the 4 LUKS2 volumes slot $slot needs with EMT's sealed key; 5 more follow in the background" "the slot's volumes were not opened first"
        expect_boot $b 'edgeinit: stage emt-late done in [0-9]+ ms' "no emt-late stage"
        expect_boot $b "EDGEINIT-TEST: slot $slot" "the root is not slot $slot"
        expect_boot $b 'EDGEINIT-TEST: mount / /dev/mapper/rootfs_verity ext4 ro' "/ is not the verity root, read-only"
        expect_boot $b 'EDGEINIT-TEST: mount /opt /dev/mapper/edge_persistent ext4' "/opt is not edge_persistent"
        expect_dm $b rootfs_verity "slaves=root_${slot}_ver_hash_map,rootfs_${slot} holders=\$"
        expect_dm $b "rootfs_$slot" "slaves=vda[26] holders=rootfs_verity"
        expect_dm $b "rootfs_$other" 'slaves=vda[26] holders=$'
        expect_dm $b "root_${other}_ver_hash_map" 'slaves=vda[45] holders=$'
        expect_dm $b ver_roothash 'slaves=vda7 holders=$'
        expect_dm $b swap_crypt 'slaves=vda8 holders='
        expect_dm $b lvmvg_crypt 'slaves=vda11 holders='
        expect_dm $b vdb_crypt 'slaves=vdb1 holders='
        expect_dm $b edge_persistent 'slaves=vda3 holders='
        expect_boot $b 'EDGEINIT-TEST: mount /etc/ssh /dev/mapper/edge_persistent\[/\.mount/persistence/etc-ssh\.bind\]' "/etc/ssh is not the persistent bind"
        expect_boot $b 'EDGEINIT-TEST: state running' "system state is not 'running'"
        expect_boot $b 'EDGEINIT-TEST: boot.json .*"profile": "emt", "emt": \{"mode": "fde", "slot": "'"$slot"'", "roothash_source": "roothash-partition-encrypted"\}' "boot.json lacks the EMT fields"
        reject_boot $b 'EDGEINIT-TEST: pcr15 0{64}' "PCR 15 was not extended"
        reject_boot $b 'recovery passphrase' "the recovery prompt appeared"
    done
    expect_boot 1 'EDGEINIT-TEST: layout written' "the guest did not write its files"
    expect_boot 2 'EDGEINIT-TEST: ssh device-file written on the device' "/etc/ssh file did not survive the reboot into slot B"
    reject_boot 2 'EDGEINIT-TEST: motd changed on the device' "/etc/motd (overlay) kept a change across a reboot"
    expect_boot 3 'EDGEINIT-TEST: ssh device-file written on the device' "/etc/ssh file lost on the way back to slot A"
    reject_passphrase
}

# DM-verity only: the same partitions in clear text; the root hash comes from partition 7,
# which nothing authenticates: it boots, with a one-line warning and the remedy.
setup_emt-disk-verity() {
    emt_setup verity
    boots=("report:b")
}
check_emt-disk-verity() {
    check_exited
    expect 'edgeinit: EMT verity disk /dev/vda: booting slot b \(/dev/vda6\)' "slot b not selected"
    expect 'edgeinit: The root hash comes from /dev/vda7, which nothing authenticates: put roothash=[0-9a-f]{64} on the signed UKI' "no warning about the unauthenticated root hash"
    expect 'EDGEINIT-TEST: slot b' "the root is not slot b"
    expect 'EDGEINIT-TEST: mount / /dev/mapper/rootfs_verity ext4 ro' "/ is not the verity root"
    expect 'EDGEINIT-TEST: dm rootfs_verity slaves=vda5,vda6 holders=$' "rootfs_verity is not over vda6 + vda5"
    expect 'EDGEINIT-TEST: mount /opt /dev/vda3 ext4' "/opt is not partition 3"
    expect 'EDGEINIT-TEST: mount /opt /dev/vda3 ext4 [^ ]*nosuid,nodev' "/opt (unencrypted) is not nosuid,nodev"
    expect 'EDGEINIT-TEST: boot.json .*"roothash_source": "roothash-partition-unauthenticated"\}, "warning": "the root hash comes from an unauthenticated partition' "boot.json lacks the warning"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
}

# Unprovisioned: plain ext4 slots, the linear rootfs_verity EMT creates.
setup_emt-disk-plain() {
    emt_setup plain
    boots=("report:a")
}
check_emt-disk-plain() {
    check_exited
    expect 'edgeinit: EMT plain disk /dev/vda: booting slot a' "slot a not selected"
    expect 'edgeinit: Unprovisioned EMT image: the root /dev/vda2 is mapped as /dev/mapper/rootfs_verity without dm-verity' "no warning about the unverified root"
    expect 'EDGEINIT-TEST: slot a' "the root is not slot a"
    expect 'EDGEINIT-TEST: mount / /dev/mapper/rootfs_verity ext4 ro' "/ is not rootfs_verity"
    expect 'EDGEINIT-TEST: dm rootfs_verity slaves=vda2 holders=$' "rootfs_verity is not linear over vda2"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
}

# Fatal paths: each within seconds (not EMT's 200 s), with the reason, and no shell.
setup_emt-wrong-boot-uuid() {
    emt_setup fde
    boots=("report:a")
    emt_boot_uuid=0badc0de-0000-4000-8000-000000000000
    timeout_s=120
}
check_emt-wrong-boot-uuid() {
    check_exited
    expect "edgeinit: boot_uuid=0badc0de-0000-4000-8000-000000000000 matches no slot on /dev/vda: partition 2 \(rootfs\) has LUKS UUID $(cat "$build/emt-fde/boot_uuid_a"), partition 6 \(rootfs_b\) has $(cat "$build/emt-fde/boot_uuid_b")" "no message naming the UUID and the candidates"
    expect "edgeinit: FATAL: stage 'emt' failed" "no FATAL message for the emt stage"
    expect_fatal_within 20
    reject 'TPM refused|Unlocked' "the TPM was asked before the slot was known"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on"
}
setup_emt-missing-roothash() {
    emt_setup fde
    boots=("report:a")
    mkdisk_args=(--omit 7)
    timeout_s=120
}
check_emt-missing-roothash() {
    check_exited
    expect 'edgeinit: EMT fde disk /dev/vda has no partition 7 \(roothash\), which slot a needs' "no message naming partition 7"
    expect "edgeinit: FATAL: stage 'emt' failed" "no FATAL message for the emt stage"
    expect_fatal_within 20
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on"
}
# Sealed to another PCR 15 (another machine): refused before Unseal, the recovery prompt waits
# its bounded time (nobody types), then the fatal policy.
setup_emt-foreign-tpm() {
    emt_setup fde
    boots=("report:a")
    tpm_seal=(emt 00000000000000000000000000000000000000000000000000000000000000ff)
    timeout_s=180
}
check_emt-foreign-tpm() {
    check_exited
    expect 'edgeinit: TPM refused the sealed key at handle 0x81000000: PCR 15 does not match' "no refusal message"
    expect "Please enter the recovery passphrase for EMT's volumes \(/dev/vda\)" "no recovery prompt"
    expect 'edgeinit: No passphrase was entered' "the prompt did not time out"
    expect "edgeinit: FATAL: stage 'emt' failed" "no FATAL message for the emt stage"
    expect_fatal_within 60
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on without the key"
}

# The recovery path: the TPM refuses (another PCR 15), EMT's passphrase typed once on the serial
# console opens all nine volumes; it is on neither the console nor in /run afterwards.
setup_emt-recovery() {
    emt_setup fde
    boots=("secrets:a")
    tpm_seal=(emt 00000000000000000000000000000000000000000000000000000000000000ff)
    answers=("recovery passphrase for EMT's volumes" "$passphrase")
}
check_emt-recovery() {
    check_exited
    expect 'edgeinit: TPM refused the sealed key at handle 0x81000000: PCR 15 does not match' "no refusal message"
    expect 'edgeinit: Unlocked the 4 LUKS2 volumes slot a needs with the recovery passphrase' "the slot's volumes were not opened by the typed passphrase"
    expect 'edgeinit: Unlocked 9 of 9 LUKS2 volumes on /dev/vda with the recovery passphrase' "not every volume opened by the typed passphrase"
    expect 'EDGEINIT-TEST: dm rootfs_verity slaves=root_a_ver_hash_map,rootfs_a holders=$' "rootfs_verity is not on slot a"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
    expect 'EDGEINIT-TEST: secret in /run no' "the passphrase is in /run"
    reject_passphrase
}

# Scenarios of one concern each live in scenarios/<concern>.sh: they define setup_/check_
# functions as above and add their names to all_scenarios.
for f in "$top"/tests/boot/scenarios/*.sh; do
    # shellcheck source=/dev/null
    [[ -e "$f" ]] && source "$f"
done

# The reference image with a changed and a new file under /etc/ssh: an update.
build_image_v2() {
    local v2=$build/image-v2 rootfs=$build/image-root
    if [[ -s "$v2/roothash" && "$v2/roothash" -nt "$image/roothash" ]]; then return; fi
    rm -rf "$rootfs-v2"
    mkdir -p "$rootfs-v2"
    cp -a "$rootfs/." "$rootfs-v2/" # the contents: $rootfs may be a symlink
    echo "# ssh_config of image v2" >"$rootfs-v2/etc/ssh/ssh_config"
    echo "new in image v2" >"$rootfs-v2/etc/ssh/new-in-v2"
    cp "$rootfs.stamp" "$rootfs-v2.stamp"
    "$top/qemu/build-image.sh" "$rootfs-v2" "$v2" >"$build/image-v2.log" 2>&1
}

# Copy the persistent partition out of a disk, to carry it to the next disk.
extract_persist() {
    local disk=$1 out=$2 start size
    read -r start size < <(sfdisk -J "$disk" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == "edge_persistent":
        print(p["start"], p["size"])')
    dd if="$disk" of="$out" bs=512 skip="$start" count="$size" conv=sparse status=none
}

check_missing-persist() {
    check_exited
    expect 'edgeinit:' "no 'edgeinit:' message"
    expect 'FATAL' "no FATAL message"
    expect 'edgeinit: Timed out after 3 s waiting for PARTLABEL=edge_persistent' "no timeout message naming edge_persistent"
    expect "edgeinit: FATAL: stage 'devices' failed" "no FATAL message for the devices stage"
    reject 'EDGEINIT-TEST: BEGIN' "boot went on without the persistent partition"
}

# Flip one byte of the canary's first block inside the rootfs partition.
corrupt_canary() {
    local disk=$1 start off byte
    start=$(sfdisk -J "$disk" | python3 -c '
import json, sys
for p in json.load(sys.stdin)["partitiontable"]["partitions"]:
    if p.get("name") == "rootfs":
        print(p["start"] * 512)')
    [[ -n "$start" ]] || { echo "no rootfs partition in $disk" >&2; return 1; }
    off=$((start + $(cat "$image/canary-offset") + 100))
    byte=$(dd if="$disk" bs=1 skip="$off" count=1 status=none | od -An -tu1 | tr -d ' ')
    # shellcheck disable=SC2059 # the format is the escape we build
    printf "\\x$(printf %02x $((byte ^ 0xff)))" |
        dd of="$disk" bs=1 seek="$off" conv=notrunc status=none
}

# --- one scenario -------------------------------------------------------------

# Build the UKI, ESP and disk of one boot: image dir, persistent partition image.
build_disk() {
    local img=$1 persist=$2 hash initrd_used=$initrd
    if [[ -n "$emt_mode" ]]; then
        build_emt_disk "$img" "$persist"
        return
    fi
    hash=$(cat "$img/roothash")
    if [[ -n "$extra_layout" ]]; then
        # The kernel unpacks concatenated archives in order; a later /layout.env
        # replaces the earlier one. Archives start on a 4-byte boundary.
        initrd_used=$dir/initrd.img
        mkdir -p "$dir/extra"
        printf '%s' "$extra_layout" >"$dir/extra/layout.env"
        cp "$initrd" "$initrd_used"
        truncate -s "%4" "$initrd_used"
        (cd "$dir/extra" && echo layout.env | cpio --quiet -o -H newc -R 0:0) >>"$initrd_used"
    fi
    "$top/tools/mkuki.sh" --stub "$stub" --kernel "$kernel" \
        --initrd "$initrd_used" --cmdline "${cmdline//$roothash/$hash}${boot_cmdline_extra:+ $boot_cmdline_extra}" --osrel "$top/qemu/os-release" \
        --out "$dir/uki.efi"
    "$top/qemu/mkesp.sh" "$dir/uki.efi" "$dir/esp.img"
    "$top/qemu/mkdisk.sh" --esp "$dir/esp.img" --rootfs "$img/rootfs.img" \
        --persist "$persist" --hashmap "$img/hashmap_a.img" \
        --out "$dir/disk.img" "${mkdisk_args[@]}"
    if ((corrupt)); then corrupt_canary "$dir/disk.img"; fi
}

# EMT: $1 is the slot; the UKI carries EMT's command line for it. Slot "ab": an A/B update,
# both slots' UKIs on the ESP (build_emt_ab_disk).
build_emt_disk() {
    local slot=$1 persist=$2 line
    if [[ "$slot" == ab ]]; then
        build_emt_ab_disk "$persist"
        return
    fi
    line=$(emt_cmdline "$slot")
    [[ -z "$emt_boot_uuid" ]] || line=${line/boot_uuid=* /boot_uuid=$emt_boot_uuid }
    # Debugging aid, e.g. BOOT_TEST_EXTRA_CMDLINE=edgeinit.debug
    line+=${BOOT_TEST_EXTRA_CMDLINE:+ $BOOT_TEST_EXTRA_CMDLINE}${boot_cmdline_extra:+ $boot_cmdline_extra}
    echo "$line" >"$dir/cmdline"
    "$top/tools/mkuki.sh" --stub "$stub" --kernel "$kernel" \
        --initrd "$initrd" --cmdline "$line" --osrel "$top/qemu/os-release" --out "$dir/uki.efi"
    "$top/qemu/mkesp.sh" "$dir/uki.efi" "$dir/esp.img"
    "$top/qemu/mkdisk-emt.sh" --esp "$dir/esp.img" --parts "$build/emt-$emt_mode" --out "$dir/disk.img" \
        ${persist:+--persist "$persist"} ${disk2_args[@]+"${disk2_args[@]}"} "${mkdisk_args[@]}"
}

run_scenario() {
    local name=$1 dir=$outroot/$1 t0 secs i entry mode img persist boot_t0
    t0=$(date +%s)
    cmdline='' timeout_s=${BOOT_TEST_TIMEOUT:-300} corrupt=0 mkdisk_args=() failures=()
    # shellcheck disable=SC2034 # ab_b_extra, ab_counting: scenarios/ab-update.sh
    extra_layout='' boots=("report:$image") persist_image='' tpm_seal=() run_args=() answers=() ab_b_extra='' ab_counting=0
    # Power cuts (scenarios/power-cut.sh): boot_cut[i], a regex: boot i ends in QEMU killed
    # once its log matches it; boot_extra[i]: more command line for boot i's UKI.
    boot_cut=() boot_extra=()
    tpm_enroll=-
    # What ends QEMU early; a scenario may narrow it (one whose kernel panic must reboot).
    stop_re=$hang_re
    passphrase='' emt_mode='' emt_boot_uuid='' seal_passphrase=$image/emt-passphrase disk2_args=()
    local answer_args=() a stop cut boot_cmdline_extra
    rm -rf "$dir"
    mkdir -p "$dir"
    "setup_$name"
    [[ -z "${BOOT_TEST_TIMEOUT:-}" ]] || timeout_s=$BOOT_TEST_TIMEOUT
    echo "$cmdline" >"$dir/cmdline"
    persist=${persist_image:-$image/persist.img}
    if [[ -n "$emt_mode" ]]; then
        persist='' # the disk's own partition 3 on the first boot
        [[ "$emt_mode" != fde ]] || disk2_args=(--disk2 "$dir/disk2.img")
    fi
    : >"$dir/serial.log"
    if ((${#tpm_seal[@]})); then
        "$top/qemu/seal-emt-key.sh" "$dir/machine/tpm" "$seal_passphrase" "${tpm_seal[@]:1}" \
            >>"$dir/build.log" 2>&1 || { echo "FAIL $name: could not seal the key (see $dir/build.log)" | tee "$dir/failure"; echo fail >"$dir/result"; return; }
    fi
    if [[ "$tpm_enroll" != - ]]; then
        cp --sparse=always "$persist" "$dir/persist-token.img"
        persist=$dir/persist-token.img
        "$top/qemu/enroll-token.sh" "$dir/machine/tpm" "$persist" "$image/emt-passphrase" "$tpm_enroll" \
            >>"$dir/build.log" 2>&1 || { echo "FAIL $name: could not enroll the token (see $dir/build.log)" | tee "$dir/failure"; echo fail >"$dir/result"; return; }
    fi
    # A scenario may add to the machine before its first boot: prepare_<name> (e.g. a second sealed key).
    if declare -F "prepare_$name" >/dev/null; then
        "prepare_$name" >>"$dir/build.log" 2>&1 || { echo "FAIL $name: prepare_$name failed (see $dir/build.log)" | tee "$dir/failure"; echo fail >"$dir/result"; return; }
    fi
    for ((a = 0; a + 1 < ${#answers[@]}; a += 2)); do
        answer_args+=(--answer "${answers[$a]}" "${answers[$((a + 1))]}")
    done
    for i in "${!boots[@]}"; do
        entry=${boots[$i]} mode=${entry%%:*} img=${entry#*:}
        if [[ "$img" == = ]]; then
            : # the same disk again, as the machine left it (a reboot, not a re-flash)
        elif ((i > 0)); then
            extract_persist "$dir/disk.img" "$dir/persist.img"
            persist=$dir/persist.img
            # A scenario may change the partition between boots: between_boots_<name> PERSIST N.
            if declare -F "between_boots_$name" >/dev/null; then
                "between_boots_$name" "$persist" "$i" >>"$dir/build.log" 2>&1 || fail "between_boots_$name failed before boot $((i + 1))"
            fi
        fi
        boot_cmdline_extra=${boot_extra[$i]:-}
        [[ "$img" == = ]] || build_disk "$img" "$persist" >>"$dir/build.log" 2>&1 || {
            echo "FAIL $name: could not build the disk for boot $((i + 1)) (see $dir/build.log)" | tee "$dir/failure"
            echo fail >"$dir/result"
            return
        }
        cut=${boot_cut[$i]:-} stop=$stop_re
        [[ -z "$cut" ]] || stop=$cut
        qemu_rc=0 boot_t0=$(date +%s.%N)
        "$top/qemu/run.sh" --disk "$dir/disk.img" --log "$dir/serial-$((i + 1)).log" \
            --timeout "$timeout_s" --machine-dir "$dir/machine" --stop-on "$stop" \
            --smbios "edgeinit-test.mode=$mode" ${passphrase:+--smbios "edgeinit-test.secret=$passphrase"} \
            ${disk2_args[@]+"${disk2_args[@]}"} \
            "${run_args[@]}" "${answer_args[@]}" 2>"$dir/run.stderr" || qemu_rc=$?
        # Wall time of the whole boot, firmware included (A/B fallback times are sums of these).
        echo "$(date +%s.%N) - $boot_t0" | awk '{ printf "%.1f\n", $1 - $3 }' >"$dir/boot-$((i + 1)).secs"
        answer_args=() # typed answers are for the first boot; later ones must manage alone
        tr -d '\r' <"$dir/serial-$((i + 1)).log" >"$dir/serial-$((i + 1)).txt"
        cat "$dir/serial-$((i + 1)).log" >>"$dir/serial.log"
        if [[ -n "$cut" ]]; then
            # The power cut: QEMU killed where the log matched; the disk keeps what reached it.
            ((qemu_rc == 125)) || { fail "boot $((i + 1)) was not cut at /$cut/ (QEMU exit $qemu_rc)"; break; }
            qemu_rc=0
            continue
        fi
        ((qemu_rc == 0)) || break
    done
    clean=$dir/serial.txt
    tr -d '\r' <"$dir/serial.log" >"$clean"
    "check_$name"
    secs=$(($(date +%s) - t0))
    # The disk copy is large and reproducible from the build; drop it on success.
    if ((${#failures[@]} == 0)); then
        echo "PASS $name ($secs s)"
        echo pass >"$dir/result"
        rm -f "$dir/disk.img" "$dir/disk2.img" "$dir/esp.img" "$dir/persist.img" "$dir/persist-token.img" "$dir"/p[0-9]*-*.img
    else
        local IFS=';'
        echo "FAIL $name: ${failures[*]} ($secs s, log: ${dir#"$top"/}/serial.log)" | tee "$dir/failure"
        echo fail >"$dir/result"
    fi
}

# --- main -------------------------------------------------------------------

selected=("$@")
((${#selected[@]})) || selected=("${all_scenarios[@]}")
for s in "${selected[@]}"; do
    if ! declare -F "setup_$s" >/dev/null; then
        echo "boot-test: unknown scenario '$s' (have: ${all_scenarios[*]})" >&2
        exit 2
    fi
done

# Stop every scenario (and through run.sh's traps, QEMU and swtpm) on ^C.
trap 'jobs -p | xargs -r kill 2>/dev/null; wait; exit 130' INT TERM

mkdir -p "$outroot"
for s in "${selected[@]}"; do
    while (($(jobs -rp | wc -l) >= jobs)); do wait -n || true; done
    run_scenario "$s" &
done
wait

passed=0 failed=0
for s in "${selected[@]}"; do
    if [[ "$(cat "$outroot/$s/result" 2>/dev/null)" == pass ]]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
    fi
done
# CI keeps only the tail of the output: repeat each failure, with what edgeinit said
# in the initrd and the end of what its guest printed, after everything else.
for s in "${selected[@]}"; do
    [[ "$(cat "$outroot/$s/result" 2>/dev/null)" != pass ]] || continue
    echo "--- $s"
    cat "$outroot/$s/failure" 2>/dev/null || echo "FAIL $s: no result (see $outroot/$s/build.log)"
    grep -a 'edgeinit: ' "$outroot/$s/serial.txt" 2>/dev/null | grep -av 'edgeinit: shutdown: ' | head -n 60 | sed 's/^/  i /'
    tail -n 12 "$outroot/$s/serial.txt" 2>/dev/null | sed 's/^/  | /'
done
echo "$passed passed, $failed failed"
((failed == 0))
