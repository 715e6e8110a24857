# shellcheck shell=bash
# shellcheck disable=SC2034,SC2154 # run.sh defines and reads the variables (sourced)
# Which disk provides the roles (issue 10, "first match wins"): partitions found by name or
# file-system UUID come from the boot disk, the one holding the ESP the loader started from
# (systemd-boot's LoaderDevicePartUUID); other disks, USB sticks included, are named and
# ignored; two candidates for one role stop the boot. Sourced by tests/boot/run.sh. Attacker
# disks are made by qemu/mkdisk-hostile.sh.

all_scenarios+=(emt-attacker-disk-first emt-attacker-disk-second ambiguous-persist usb-persist)

# The scenario's setup failed: say so in its result instead of booting something else.
disks_setup_ok() {
    [[ -z "${disks_setup_error:-}" ]] || fail "setup: $disks_setup_error (see build.log)"
}

# The ESP's PARTUUID as qemu/mkdisk.sh and qemu/mkdisk-emt.sh (fde) write it.
disks_esp_partuuid=6f0e6c0a-0e1d-4b1f-9c1b-000000000001
disks_emt_esp_partuuid=e3700000-0001-4000-8000-000000000001

# EMT FDE. The attacker's disk comes FIRST (vda): EMT's partition names, a plain ext4 partition 2
# whose file-system UUID is the victim's boot_uuid=, no ESP. The real disk is vdb (its ESP: the
# firmware boots it), EMT's second disk vdc. Before the boot disk was known, edgeinit took vda.
setup_emt-attacker-disk-first() {
    emt_setup fde
    boots=("report:a")
    timeout_s=300
    disks_setup_error=''
    "$top/qemu/mkdisk-hostile.sh" --out "$dir/attacker.img" \
        --part "2:rootfs:ext4:$(cat "$build/emt-fde/boot_uuid_a")" --part 3:edge_persistent:ext4 \
        --part 4:hashmap_a:ext4 --part 5:hashmap_b:ext4 --part 6:rootfs_b:ext4 --part 7:roothash:ext4 \
        >>"$dir/build.log" 2>&1 || disks_setup_error="could not build the attacker's disk"
    run_args=(--disk-before "$dir/attacker.img")
}
check_emt-attacker-disk-first() {
    disks_setup_ok
    check_exited
    expect "edgeinit: Boot disk: /dev/vdb \(the ESP the loader started from, PARTUUID $disks_emt_esp_partuuid\)\." "no boot disk line naming vdb"
    expect "edgeinit: Ignoring /dev/vda2, a partition named 'rootfs' on /dev/vda: it is not on the boot disk /dev/vdb\." "the attacker's rootfs was not named and ignored"
    expect "edgeinit: Found EMT's OS disk /dev/vdb \(/dev/vdb2 is PARTLABEL=rootfs\)" "the OS disk is not vdb"
    expect 'edgeinit: EMT fde disk /dev/vdb: booting slot a' "slot a of vdb not selected"
    expect "edgeinit: Unlocked 9 of 9 LUKS2 volumes on /dev/vdb with EMT's sealed key" "not every volume of vdb unlocked by the sealed key"
    reject 'OS disk /dev/vda|disk /dev/vda:' "the attacker's disk was used"
    expect 'EDGEINIT-TEST: slot a' "the root is not slot a"
    expect 'EDGEINIT-TEST: dm rootfs_a slaves=vdb2 holders=rootfs_verity' "rootfs_a is not over vdb2"
    expect 'EDGEINIT-TEST: dm edge_persistent slaves=vdb3 holders=' "edge_persistent is not over vdb3"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
}

# EMT verity-only disk as vda (booted), the attacker's EMT-looking disk as vdb. The kernel lists
# vdb's partitions before vda's in sysfs, so the old "first match" took the attacker's disk here
# (in emt-attacker-disk-first it happened to pick the right one).
disks_emt_verity_esp_partuuid=e3700000-0002-4000-8000-000000000001
setup_emt-attacker-disk-second() {
    emt_setup verity
    boots=("report:a")
    timeout_s=300
    disks_setup_error=''
    "$top/qemu/mkdisk-hostile.sh" --out "$dir/attacker.img" \
        --part "2:rootfs:ext4:$(cat "$build/emt-verity/boot_uuid_a")" --part 3:edge_persistent:ext4 \
        --part 4:hashmap_a:ext4 --part 5:hashmap_b:ext4 --part 6:rootfs_b:ext4 --part 7:roothash:ext4 \
        >>"$dir/build.log" 2>&1 || disks_setup_error="could not build the attacker's disk"
    run_args=(--disk2 "$dir/attacker.img")
}
check_emt-attacker-disk-second() {
    disks_setup_ok
    check_exited
    expect "edgeinit: Boot disk: /dev/vda \(the ESP the loader started from, PARTUUID $disks_emt_verity_esp_partuuid\)\." "no boot disk line naming vda"
    expect "edgeinit: Ignoring /dev/vdb2, a partition named 'rootfs' on /dev/vdb: it is not on the boot disk /dev/vda\." "the attacker's rootfs was not named and ignored"
    expect "edgeinit: Found EMT's OS disk /dev/vda \(/dev/vda2 is PARTLABEL=rootfs\)" "the OS disk is not vda"
    expect 'edgeinit: EMT verity disk /dev/vda: booting slot a' "slot a of vda not selected"
    reject 'OS disk /dev/vdb|disk /dev/vdb:' "the attacker's disk was used"
    expect 'EDGEINIT-TEST: slot a' "the root is not slot a"
    expect 'EDGEINIT-TEST: mount /opt /dev/vda3 ext4' "/opt is not vda3"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
}

# Verity profile: the boot disk carries two partitions named edge_persistent (p3 and p5).
setup_ambiguous-persist() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=120
    mkdisk_args=(--append "edge_persistent=$image/persist.img")
}
check_ambiguous-persist() {
    check_exited
    expect "edgeinit: Boot disk: /dev/vda \(the ESP the loader started from, PARTUUID $disks_esp_partuuid\)\." "no boot disk line naming vda"
    expect 'edgeinit: Two partitions match PARTLABEL=edge_persistent \(persistent partition, edgeinit.persist=\): /dev/vda3 and /dev/vda5\. Refusing to guess\.' "no refusal naming both partitions"
    expect "edgeinit: FATAL: stage 'devices' failed" "no FATAL message for the devices stage"
    expect 'edgeinit: What to do: Name the persistent partition by PARTUUID= on the signed command line \(edgeinit.persist=\), or remove the duplicate\.' "no remedy"
    expect_fatal_within 20
    reject 'Found PARTLABEL=edge_persistent' "a persistent partition was taken"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on"
}

# Verity profile: the boot disk lacks edge_persistent, a removable USB stick carries one: it is
# named and ignored, and the wait for the persistent partition ends in the FATAL.
setup_usb-persist() {
    cmdline="$(happy_cmdline "$roothash") rd.timeout=10"
    timeout_s=180
    mkdisk_args=(--omit edge_persistent)
    disks_setup_error=''
    "$top/qemu/mkdisk-hostile.sh" --out "$dir/usb.img" --part 1:edge_persistent:ext4 \
        >>"$dir/build.log" 2>&1 || disks_setup_error="could not build the USB disk"
    run_args=(--usb-disk "$dir/usb.img")
}
check_usb-persist() {
    disks_setup_ok
    check_exited
    expect "edgeinit: Boot disk: /dev/vda \(the ESP the loader started from, PARTUUID $disks_esp_partuuid\)\." "no boot disk line naming vda"
    expect 'edgeinit: Ignoring /dev/sda1, which matches PARTLABEL=edge_persistent \(persistent partition, edgeinit.persist=\): it is not on the boot disk /dev/vda\.' "the USB stick's partition was not named and ignored"
    expect 'edgeinit: Timed out after 10 s waiting for PARTLABEL=edge_persistent \(persist partition, edgeinit.persist=\) on the boot disk /dev/vda\. Block devices seen: .*sda \[removable\]' "no timeout naming edge_persistent with the removable USB stick seen"
    expect "edgeinit: FATAL: stage 'devices' failed" "no FATAL message for the devices stage"
    expect_fatal_within 40
    reject 'Found PARTLABEL=edge_persistent' "the USB stick's partition was taken"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on"
}
