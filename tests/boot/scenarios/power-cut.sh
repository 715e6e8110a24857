# shellcheck shell=bash disable=SC2034,SC2154 # sourced by run.sh, which sets and reads these
# Power cuts (issue 13): QEMU is killed, no shutdown, at a chosen point of a boot: during the
# first boot's seeding, during the PCR 15 volume-key latch, while the running system writes to a
# persistent bind. edgeinit.debug.hold= (a signed-command-line test knob) makes the initrd sync
# and hold at the point, so that the cut lands there every run. The next boot must succeed,
# complete the seeding, and keep what was synced. Sourced by tests/boot/run.sh.
all_scenarios+=(power-cut-seeding power-cut-latch power-cut-running)

# The host's check after the boot that followed the cut (it powered off through the exitrd).
check_persist_after_cut() {
    extract_persist "$dir/disk.img" "$dir/persist-final.img"
    check_persist_clean "$dir/persist-final.img" "after-the-next-boot"
    rm -f "$dir/persist-final.img"
}

# The reference image's first boot is cut before its 10th seeding operation (inside the copy of
# /etc/ssh, written under a temporary name); the next boot removes the partial copy, seeds
# everything and boots.
setup_power-cut-seeding() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=300
    boots=("report:$image" "layout-check:$image")
    boot_extra=("edgeinit.debug.hold=seed:10")
    boot_cut=('edgeinit\.debug\.hold=seed:10: holding')
}
check_power-cut-seeding() {
    check_exited
    expect_boot 1 'edgeinit: edgeinit\.debug\.hold=seed:10: holding 120 s before this seeding operation' "boot 1 did not hold at the 10th seeding operation"
    reject_boot 1 'EDGEINIT-TEST: BEGIN' "boot 1 went on past the cut"
    expect_boot 2 "edgeinit: Removing '\.#edgeinit\.[^']+', a partial copy an interrupted seeding left; seeding it again" "boot 2 did not remove the partial copy"
    expect_boot 2 'edgeinit: Layout from .*: [0-9]+ overlays and binds, [0-9]+ skipped, 0 failed; seeded [1-9][0-9]* entries' "boot 2 did not complete the seeding"
    expect_boot 2 'EDGEINIT-TEST: mount /etc/ssh /dev/vda3\[/\.mount/persistence/etc-ssh\.bind\]' "/etc/ssh is not the persistent bind"
    reject_boot 2 'EDGEINIT-TEST: ssh ssh_config missing' "the image's /etc/ssh/ssh_config is missing from the seeded copy"
    expect_boot 2 'EDGEINIT-TEST: state running' "boot 2: system state is not 'running'"
    reject_boot 2 'edgeinit: FATAL' "boot 2 failed"
    check_persist_after_cut
}

# EMT's FDE disk, cut right before the first PCR 15 volume-key latch (in emt-late: the nine
# volumes are open with the key sealed to PCR 15, the root is mounted and seeded, no volume key
# is latched yet): the next boot unseals with the TPM, unattended, and boots.
setup_power-cut-latch() {
    emt_setup fde
    boots=("report:a" "layout-check:a")
    boot_extra=("edgeinit.debug.hold=latch")
    boot_cut=('edgeinit\.debug\.hold=latch: holding')
}
check_power-cut-latch() {
    check_exited
    expect_boot 1 'edgeinit: edgeinit\.debug\.hold=latch: holding 120 s before the PCR 15 volume-key latch' "boot 1 did not hold at the latch"
    reject_boot 1 'EDGEINIT-TEST: BEGIN' "boot 1 went on past the cut"
    expect_boot 2 "edgeinit: Unlocked 9 of 9 LUKS2 volumes on /dev/vda with EMT's sealed key" "boot 2 was not unlocked by the sealed key"
    reject_boot 2 'recovery passphrase' "boot 2 asked for the recovery passphrase"
    reject_boot 2 'EDGEINIT-TEST: pcr15 0{64}' "boot 2 did not latch PCR 15"
    expect_boot 2 'EDGEINIT-TEST: mount /etc/ssh /dev/mapper/edge_persistent\[/\.mount/persistence/etc-ssh\.bind\]' "/etc/ssh is not the persistent bind"
    expect_boot 2 'EDGEINIT-TEST: state running' "boot 2: system state is not 'running'"
    reject_boot 2 'edgeinit: FATAL' "boot 2 failed"
    reject_passphrase
}

# The running system writes to the persistent bind /etc/ssh: one file synced, then a stream of
# writes never synced when the power goes. The next boot replays the journal, boots, and has the
# synced file.
setup_power-cut-running() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=300
    boots=("powercut-write:$image" "layout-check:$image")
    boot_cut=('EDGEINIT-TEST: writing until the power cut')
}
check_power-cut-running() {
    check_exited
    expect_boot 1 'EDGEINIT-TEST: synced-file written' "boot 1 did not write and sync its file"
    reject_boot 1 'EDGEINIT-TEST: END' "boot 1 finished before the cut"
    expect_boot 2 'EDGEINIT-TEST: ssh synced-file synced before the power cut' "the file synced before the power cut is lost"
    expect_boot 2 'EDGEINIT-TEST: mount /etc/ssh /dev/vda3\[/\.mount/persistence/etc-ssh\.bind\]' "/etc/ssh is not the persistent bind"
    expect_boot 2 'EDGEINIT-TEST: state running' "boot 2: system state is not 'running'"
    reject_boot 2 'edgeinit: FATAL' "boot 2 failed"
    check_persist_after_cut
}
