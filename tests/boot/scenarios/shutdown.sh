# shellcheck shell=bash disable=SC2034,SC2154 # sourced by run.sh, which sets and reads these
# The shutdown side (issue 13): systemd-shutdown hands the end of the shutdown to edgeinit's
# exitrd (/run/initramfs/shutdown), which unmounts the old root, closes the device-mapper
# devices and powers off. Sourced by tests/boot/run.sh.
all_scenarios+=(clean-shutdown no-exitrd emt-fde-shutdown)

# Seconds (with milliseconds) from systemd-shutdown's first line to the kernel's power-down,
# read from the console timestamps of one boot's log; "" if either line is missing.
shutdown_seconds() {
    awk '
        function ts(line) { sub(/^\[ */, "", line); sub(/\].*/, "", line); return line + 0 }
        /^\[ *[0-9]+\.[0-9]+\] systemd-shutdown\[1\]:/ && start == "" { start = ts($0) }
        /^\[ *[0-9]+\.[0-9]+\] reboot: Power down/ { end = ts($0) }
        END { if (start != "" && end != "") printf "%.3f\n", end - start }' "$1"
}

# The host's view of the persistent partition after a power-off: a clean ext4 file system with
# nothing in its journal to replay (e2fsck -n changes nothing and finds nothing).
check_persist_clean() {
    local img=$1 when=$2 features
    features=$(dumpe2fs -h "$img" 2>/dev/null | sed -n 's/^Filesystem features: *//p')
    [[ -n "$features" ]] || { fail "$when: the persistent partition is not ext4"; return; }
    [[ " $features " != *" needs_recovery "* ]] || fail "$when: the persistent partition's journal needs recovery"
    dumpe2fs -h "$img" 2>/dev/null | grep -qE '^Filesystem state: +clean$' || fail "$when: the persistent partition is not marked clean"
    e2fsck -fn "$img" >"$dir/e2fsck-$when.log" 2>&1 || fail "$when: e2fsck -n found problems (see e2fsck-$when.log)"
}

# The reference image: boot 1 writes under the persistent bind /etc/ssh and powers off; the host
# checks the partition; boot 2 finds the files. Both shutdowns go through the exitrd.
setup_clean-shutdown() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=300
    boots=("layout-write:$image" "layout-check:$image")
}
between_boots_clean-shutdown() {
    check_persist_clean "$1" "after-boot-1"
}
check_clean-shutdown() {
    check_exited
    local b s
    for b in 1 2; do
        expect_boot $b 'edgeinit: Installed /run/initramfs/shutdown \([0-9]+ KiB in /run\)' "the exitrd was not installed"
        expect_boot $b 'EDGEINIT-TEST: initramfs-dir \./dev,\./oldroot,\./proc,\./run,\./shutdown,\./sys$' "/run/initramfs holds more than the exitrd"
        expect_boot $b 'edgeinit: shutdown: edgeinit exitrd, verb "poweroff"' "systemd-shutdown did not run the exitrd"
        # systemd-shutdown unmounts /opt and closes what nothing holds; the root it ran from is
        # left to the exitrd.
        expect_boot $b 'edgeinit: shutdown: unmounted /oldroot$' "the old root was not unmounted by the exitrd"
        expect_boot $b 'edgeinit: shutdown: closed rootfs_verity$' "rootfs_verity was not closed"
        expect_boot $b 'edgeinit: shutdown: [0-9]+ file systems unmounted, [0-9]+ mappings closed, 0 mounts and 0 mappings left, in [0-9]+ ms; powering off' "the exitrd left mounts or mappings"
        expect_boot $b 'reboot: Power down' "the machine did not power off"
        reject_boot $b 'edgeinit: FATAL' "a fatal error"
        s=$(shutdown_seconds "$dir/serial-$b.txt")
        [[ -n "$s" ]] && echo "$s" >"$dir/shutdown-seconds-$b"
    done
    expect_boot 1 'EDGEINIT-TEST: layout written' "the guest did not write its files"
    expect_boot 2 'EDGEINIT-TEST: ssh device-file written on the device' "the file written before the power-off is gone"
    reject_boot 2 'EXT4-fs \(vda3\): recovery complete' "the journal of /opt was replayed on the next boot"
    extract_persist "$dir/disk.img" "$dir/persist-final.img"
    check_persist_clean "$dir/persist-final.img" "after-boot-2"
    rm -f "$dir/persist-final.img"
}

# edgeinit.exitrd=no: nothing is left in /run/initramfs and systemd-shutdown powers off alone
# (the figure to compare the exitrd's cost with).
setup_no-exitrd() {
    cmdline="$(happy_cmdline "$roothash") edgeinit.exitrd=no"
    timeout_s=240
}
check_no-exitrd() {
    check_exited
    local s
    expect 'edgeinit: No exitrd \(edgeinit.exitrd=no\)' "edgeinit.exitrd=no not reported"
    expect 'EDGEINIT-TEST: exists /run/initramfs no' "/run/initramfs exists with edgeinit.exitrd=no"
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
    reject 'edgeinit: shutdown:' "the exitrd ran with edgeinit.exitrd=no"
    expect 'reboot: Power down' "the machine did not power off"
    s=$(shutdown_seconds "$clean")
    [[ -n "$s" ]] && echo "$s" >"$dir/shutdown-seconds-1"
}

# EMT FDE: the exitrd closes rootfs_verity and the slot's LUKS root volume under it, so no volume
# key stays in the kernel.
setup_emt-fde-shutdown() {
    emt_setup fde
    timeout_s=300
    boots=("report:a")
}
check_emt-fde-shutdown() {
    check_exited
    expect 'EDGEINIT-TEST: state running' "system state is not 'running'"
    expect 'edgeinit: shutdown: edgeinit exitrd, verb "poweroff"' "systemd-shutdown did not run the exitrd"
    expect 'edgeinit: shutdown: unmounted /oldroot$' "the old root was not unmounted by the exitrd"
    # The verity root first, then the LUKS volume under it (systemd-shutdown cannot close them
    # while it runs from that root).
    expect 'edgeinit: shutdown: closed rootfs_verity$' "rootfs_verity was not closed"
    expect 'edgeinit: shutdown: closed rootfs_a$' "the slot's LUKS volume rootfs_a was not closed"
    expect 'edgeinit: shutdown: [0-9]+ file systems unmounted, [0-9]+ mappings closed, 0 mounts and 0 mappings left' "the exitrd left mounts or mappings"
    expect 'reboot: Power down' "the machine did not power off"
}
