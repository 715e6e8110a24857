# shellcheck shell=bash disable=SC2034,SC2154 # sourced by run.sh, which sets and reads these
# A/B updates the way EMT deploys them (issue 13): slot A runs, the update is in slot B, and the
# running system points systemd-boot's one-shot entry (LoaderEntryOneShot, as `bootctl
# set-oneshot` does) at B's UKI before it reboots. A good B is then made the default
# (LoaderEntryDefault, `bootctl set-default`); a broken B ends in a reboot, and systemd-boot, whose
# one-shot entry is spent, starts the default: A, with the persistent data as it was. One disk for
# the whole sequence: boots after the first are reboots ("mode:="), not new disks.
# Sourced by tests/boot/run.sh.
all_scenarios+=(ab-oneshot-good ab-oneshot-wrong-roothash ab-oneshot-corrupt-data ab-oneshot-missing-roothash
    ab-oneshot-tpm-refuses ab-counting-broken ab-counting-good)

# Both slots' UKIs on one ESP: emt-slot-a.efi, loader.conf's default (without it systemd-boot
# would start the entry that sorts newest, B), and B's UKI, emt-slot-b.efi, with $ab_b_extra on
# its command line; $mkdisk_args may replace B's partitions with broken ones. Boot counting
# ($ab_counting): B's UKI is emt-slot-b+2.efi and loader.conf names no default, so B, the newest,
# is started until its tries are used up.
build_emt_ab_disk() {
    local persist=$1 slot line b_name=emt-slot-b default=(--default emt-slot-a.efi)
    if ((ab_counting)); then
        b_name=emt-slot-b+2 default=()
    fi
    for slot in a b; do
        line=$(emt_cmdline "$slot")
        [[ $slot == a ]] || line+=${ab_b_extra:+ $ab_b_extra}
        echo "$line" >"$dir/cmdline-$slot"
        "$top/tools/mkuki.sh" --stub "$stub" --kernel "$kernel" --initrd "$initrd" \
            --cmdline "$line" --osrel "$top/qemu/os-release" --out "$dir/uki-$slot.efi"
    done
    "$top/qemu/mkesp.sh" --entry emt-slot-a="$dir/uki-a.efi" --entry "$b_name=$dir/uki-b.efi" \
        "${default[@]}" "$dir/esp.img"
    "$top/qemu/mkdisk-emt.sh" --esp "$dir/esp.img" --parts "$build/emt-$emt_mode" --out "$dir/disk.img" \
        ${persist:+--persist "$persist"} ${disk2_args[@]+"${disk2_args[@]}"} "${mkdisk_args[@]}"
}

# Boot 1 on slot A: the updater's file on /opt, then the one-shot entry for B.
ab_setup() {
    emt_setup "$1"
    timeout_s=300
    boots=("oneshot-emt-slot-b:ab" "report:=" "report:=")
}
expect_boot1_points_at_b() {
    expect_boot 1 'EDGEINIT-TEST: loader-entry emt-slot-a\.efi' "boot 1: systemd-boot did not start slot A's UKI (the default)"
    expect_boot 1 'EDGEINIT-TEST: slot a' "boot 1 is not slot A"
    expect_boot 1 'EDGEINIT-TEST: loader-var LoaderEntryOneShot emt-slot-b\.efi' "boot 1 could not set the one-shot entry"
}
# Boot N is slot A again, running, with the file boot 1 wrote on the persistent partition.
expect_back_on_a() {
    expect_boot "$1" 'EDGEINIT-TEST: loader-entry emt-slot-a\.efi' "boot $1: systemd-boot did not fall back to slot A's UKI"
    expect_boot "$1" 'EDGEINIT-TEST: slot a' "boot $1 is not slot A"
    expect_boot "$1" 'EDGEINIT-TEST: state running' "boot $1: slot A is not running"
    expect_boot "$1" 'EDGEINIT-TEST: ab-marker written by slot a before the update' "boot $1: the file written before the update is gone"
}
# The broken slot B reached the reboot edgeinit's rd.emergency=reboot promises, and no further.
expect_b_rebooted() {
    expect_boot 2 "edgeinit: EMT $emt_mode disk /dev/vda: booting slot b" "boot 2 did not start slot B"
    expect_boot 2 "$1" "boot 2: ${2:-want /$1/}"
    reject_boot 2 'EDGEINIT-TEST: BEGIN' "boot 2: the broken slot B started the system"
    expect_boot 2 "$3" "boot 2 did not end in a reboot"
}
# Boot N shows one failure report, of STAGE, from slot B.
expect_report_from_b() {
    local f=$dir/previous-failures-$1.json
    expect_one_report "$1" "$2" .
    python3 -c 'import json, sys; sys.exit(0 if json.load(open(sys.argv[1]))["reports"][0]["slot"] == "b" else 1)' "$f" 2>/dev/null ||
        fail "boot $1: the failure report does not name slot b: $(cat "$f")"
}

# The whole fallback: boot 1 (A) points at B; B prints BREAK_RE (else WHY) and ends as END_RE
# says; boot 3 is A with the file; A shows B's report of stage STAGE ("-": none expected).
ab_fatal_reboot='edgeinit: No shell is started\. Will reboot'
check_ab_fallback() {
    check_exited
    expect_boot1_points_at_b
    expect_b_rebooted "$1" "$2" "$3"
    expect_back_on_a 3
    if [[ "$4" == - ]]; then expect_no_reports 3; else expect_report_from_b 3 "$4"; fi
}

# A good update: B boots once, makes itself the default, and stays.
setup_ab-oneshot-good() {
    ab_setup fde
    boots=("oneshot-emt-slot-b:ab" "default-emt-slot-b:=" "report:=")
}
check_ab-oneshot-good() {
    check_exited
    expect_boot1_points_at_b
    expect_boot 2 'EDGEINIT-TEST: loader-entry emt-slot-b\.efi' "boot 2: the one-shot entry did not start slot B"
    expect_boot 2 'EDGEINIT-TEST: slot b' "boot 2 is not slot B"
    expect_boot 2 'EDGEINIT-TEST: state running' "boot 2: slot B is not running"
    expect_boot 2 'EDGEINIT-TEST: ab-marker written by slot a before the update' "boot 2: slot B does not see the file written before the update"
    expect_boot 2 'EDGEINIT-TEST: loader-var LoaderEntryDefault emt-slot-b\.efi' "boot 2 could not make slot B the default"
    expect_boot 3 'EDGEINIT-TEST: loader-entry emt-slot-b\.efi' "boot 3: the good slot B did not stay"
    expect_boot 3 'EDGEINIT-TEST: slot b' "boot 3 is not slot B"
    expect_boot 3 'EDGEINIT-TEST: state running' "boot 3: slot B is not running"
    reject 'recovery passphrase' "a recovery prompt appeared"
}

# B's UKI carries a wrong roothash=: the verity stage refuses it, the report goes to the EFI
# variable (/opt is not mounted yet), A shows it.
setup_ab-oneshot-wrong-roothash() {
    ab_setup fde
    ab_b_extra="roothash=$(printf 'b%.0s' {1..64})"
}
check_ab-oneshot-wrong-roothash() {
    check_ab_fallback "edgeinit: FATAL: stage 'verity' failed" "no FATAL in the verity stage" "$ab_fatal_reboot" verity
}

# B's first data block is garbled (under dm-crypt on the FDE disk) and B's UKI asks for
# restart-on-corruption: the kernel restarts at the mount's read. A kernel restart leaves no
# failure report (edgeinit never regains control); the console says why.
setup_ab-oneshot-corrupt-data() {
    ab_setup fde
    ab_b_extra=systemd.verity_root_options=restart-on-corruption
    corrupt_first_data_block "$build/emt-fde/p6.img" "$dir/p6-corrupt.img"
    mkdisk_args=(--replace "6=$dir/p6-corrupt.img")
}
check_ab-oneshot-corrupt-data() {
    check_ab_fallback 'device-mapper: verity.*(corrupted|verification failed)' "no dm-verity corruption message" 'reboot: Restarting system' -
}

# B's root hash file is missing from the roothash partition (EMT's verity disk: partition 7 is
# plain ext4): the emt stage refuses B; A's file is there.
setup_ab-oneshot-missing-roothash() {
    ab_setup verity
    cp --sparse=always "$build/emt-verity/p7.img" "$dir/p7-no-b.img"
    debugfs -w -R "rm part_b_roothash" "$dir/p7-no-b.img" >>"$dir/build.log" 2>&1
    mkdisk_args=(--replace "7=$dir/p7-no-b.img")
}
check_ab-oneshot-missing-roothash() {
    check_ab_fallback 'edgeinit: Cannot read part_b_roothash from the roothash partition' "no message naming part_b_roothash" "$ab_fatal_reboot" emt
}

# The TPM refuses B's key: B's UKI names a second sealed object (0x81000001) whose PCR 15 policy
# this boot does not meet, what the TPM does with any key sealed to PCR values an update changes
# (a PCR 7 or 11 binding). The refusal comes before Unseal; the recovery prompt waits its bounded
# 30 s with nobody to answer; the fatal path reboots into A, which shows B's report.
setup_ab-oneshot-tpm-refuses() {
    ab_setup fde
    ab_b_extra=edgeinit.tpm2.emt-handle=0x81000001
}
prepare_ab-oneshot-tpm-refuses() {
    "$top/qemu/seal-emt-key.sh" "$dir/machine/tpm" "$seal_passphrase" \
        00000000000000000000000000000000000000000000000000000000000000ff 0x81000001
}
check_ab-oneshot-tpm-refuses() {
    check_ab_fallback 'edgeinit: TPM refused the sealed key at handle 0x81000001: PCR 15 does not match' "no refusal of B's key" "$ab_fatal_reboot" emt
    expect_boot 2 'edgeinit: No passphrase was entered' "boot 2: the recovery prompt did not time out"
    reject_passphrase
}

# A copy of a slot's partition image whose first data block (the ext4 superblock's) is garbled;
# on a LUKS2 partition the block after the header (the data segment's offset), so that it
# decrypts to garbage.
corrupt_first_data_block() {
    local in=$1 out=$2 off=0
    cp --sparse=always "$in" "$out"
    if cryptsetup isLuks "$out" 2>/dev/null; then
        off=$(cryptsetup luksDump "$out" | awk '/^Data segments:/ { seg = 1 } seg && /offset:/ { print $2; exit }')
    fi
    head -c 4096 /dev/zero | tr '\0' '\377' | dd of="$out" bs=4096 seek=$((off / 4096)) conv=notrunc status=none
}

# The UKIs on the ESP of the scenario's disk, one name a line (mtools, at the ESP's offset).
esp_entries() {
    local start
    start=$(sfdisk -J "$dir/disk.img" | python3 -c 'import json, sys
print(json.load(sys.stdin)["partitiontable"]["partitions"][0]["start"] * 512)')
    MTOOLS_SKIP_CHECK=1 mdir -b -i "$dir/disk.img@@$start" ::/EFI/Linux 2>/dev/null | sed 's|.*/||'
}

# Boot counting with a broken B (a wrong roothash=): systemd-boot starts emt-slot-b+2.efi, counts
# it down at each start (+1-1, then +0-2), and once no try is left sorts it last and starts A.
setup_ab-counting-broken() {
    ab_setup fde
    ab_counting=1
    ab_b_extra="roothash=$(printf 'b%.0s' {1..64})"
    boots=("report:ab" "report:=" "report:=")
}
check_ab-counting-broken() {
    local b entries
    check_exited
    for b in 1 2; do
        expect_boot $b 'edgeinit: EMT fde disk /dev/vda: booting slot b' "boot $b did not start slot B (the counted entry, with tries left)"
        expect_boot $b "edgeinit: FATAL: stage 'verity' failed" "boot $b: no FATAL in the verity stage"
        reject_boot $b 'EDGEINIT-TEST: BEGIN' "boot $b: the broken slot B started the system"
    done
    expect_boot 3 'EDGEINIT-TEST: loader-entry emt-slot-a\.efi' "boot 3: systemd-boot did not fall back to slot A once B's tries were used up"
    expect_boot 3 'EDGEINIT-TEST: slot a' "boot 3 is not slot A"
    expect_boot 3 'EDGEINIT-TEST: state running' "boot 3: slot A is not running"
    expect_boot 3 'EDGEINIT-TEST: opt writable yes' "boot 3: /opt is not writable"
    expect_boot 3 'edgeinit: Read 2 failure report\(s\) from the EFI variable' "boot 3 did not show both failed starts of B"
    entries=$(esp_entries | paste -sd' ')
    [[ " $entries " == *" emt-slot-b+0-2.efi "* ]] ||
        fail "B's UKI was not counted down to +0-2 on the ESP (have: $entries)"
}

# Boot counting with a good B: systemd-boot starts emt-slot-b+2.efi (counting it down to +1-1),
# B comes up, and systemd-bless-boot.service renames the entry to emt-slot-b.efi (the ESP is
# mounted at /efi on counted boots, qemu/guest/efi.mount). The next start is B again, no longer
# counted: a blessed slot stays.
setup_ab-counting-good() {
    ab_setup fde
    ab_counting=1
    boots=("report:ab" "report:=")
}
check_ab-counting-good() {
    local b entries
    check_exited
    for b in 1 2; do
        expect_boot $b 'EDGEINIT-TEST: slot b' "boot $b is not slot B"
        expect_boot $b 'EDGEINIT-TEST: state running' "boot $b: slot B is not running"
    done
    # The entry's id is its file name as systemd-boot found it, counter included.
    expect_boot 1 'EDGEINIT-TEST: loader-entry emt-slot-b\+2\.efi' "boot 1: systemd-boot did not start the counted slot B"
    expect_boot 2 'EDGEINIT-TEST: loader-entry emt-slot-b\.efi' "boot 2: systemd-boot did not start the blessed slot B"
    expect_boot 1 'EDGEINIT-TEST: loader-vars .*LoaderBootCountPath' "boot 1: systemd-boot did not count slot B (no LoaderBootCountPath)"
    expect_boot 1 'EDGEINIT-TEST: bless active good' "boot 1: systemd-bless-boot did not mark slot B good"
    reject_boot 2 'EDGEINIT-TEST: loader-vars .*LoaderBootCountPath' "boot 2: slot B is still counted after the blessing"
    entries=$(esp_entries | paste -sd' ')
    [[ " $entries " == *" emt-slot-b.efi "* ]] ||
        fail "B's UKI was not blessed to emt-slot-b.efi on the ESP (have: $entries)"
    reject 'recovery passphrase' "a recovery prompt appeared"
}
