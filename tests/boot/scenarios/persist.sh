# shellcheck shell=bash disable=SC2034,SC2154 # sourced by run.sh, which sets and reads these
# Persistent partition without encryption (issue 10, finding 4) and a full one (finding 9).
# Sourced by tests/boot/run.sh.
all_scenarios+=(plain-persist-refused plain-persist-lockdown plain-persist-no-lockdown full-opt)

# The reference image's persistent partition is plain ext4. A command line that expects it
# encrypted (rd.luks.uuid=) means the LUKS2 volume was swapped for a plain one: refused before
# anything is mounted, within seconds, no shell.
setup_plain-persist-refused() {
    cmdline="$(happy_cmdline "$roothash") rd.luks.uuid=8f7e6d5c-0000-4000-8000-00000000ed05"
    timeout_s=120
}
check_plain-persist-refused() {
    check_exited
    expect 'edgeinit: The persistent partition /dev/vda3 is not LUKS2, but the command line expects it encrypted \(rd\.luks\.uuid=\)\.' "no refusal naming /dev/vda3 and rd.luks.uuid="
    expect "edgeinit: FATAL: stage 'luks' failed" "no FATAL message for the luks stage"
    expect 'edgeinit: What to do: .*rd\.luks\.uuid=' "the remedy does not name the option"
    expect_fatal_within 20
    reject 'edgeinit: Mounted /dev/vda3' "the plain partition was mounted"
    reject 'EDGEINIT-TEST: BEGIN' "the system started on a plain partition the command line says is encrypted"
    reject 'systemd 252' "systemd started"
}

# A plain persistent partition, accepted (nothing on the command line expects encryption), with
# a TPM: /opt and its binds are nosuid,nodev and the TPM is locked down. The second disk is a
# copy of the reference LUKS2 volume with a systemd-tpm2 token enrolled against this machine's
# TPM; the guest (try-unseal) tries it as code in the running system could.
# The token is sealed to PCR 14, not 7: PCR 7 holds OVMF's Secure Boot measurements, which the
# host's freshly started swtpm does not have, and systemd-cryptenroll 252 cannot seal to a given
# value. PCR 14 (shim's, no shim here) is all zeros on the host and in the guest; the lockdown
# extends PCRs 0-15, edgeinit.tpm2.lockdown=no only PCR 15, so 14 shows the difference.
# With a plain persistent partition the initrd never loads dm-crypt: the guest activates the
# LUKS2 volume with the modules of the reference root's own kernel package.
plain_token_setup() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=300
    boots=("try-unseal:$image")
    disk2_args=(--disk2 "$dir/disk2.img")
    cp --sparse=always "$image/persist-luks.img" "$dir/disk2.img"
    "$top/qemu/enroll-token.sh" "$dir/machine/tpm" "$dir/disk2.img" "$image/emt-passphrase" "${PLAIN_TOKEN_PCRS-14}" \
        >>"$dir/build.log" 2>&1 || fail "could not enroll the token on the second disk (see build.log)"
}
# The options of the probe's mount line for $1, wherever the line starts (a getty prompt can
# share the console line with it).
mount_options_anywhere() {
    grep -aoE -m1 -- "EDGEINIT-TEST: mount $1 [^ ]+ [^ ]+ [^ ]+" "$clean" | awk '{ print $6 }'
}
# Both: /opt and the binds from it are nosuid,nodev, the system runs.
check_plain_mounts() {
    local opts
    expect 'edgeinit: The persistent partition /dev/vda3 is not encrypted: it is mounted nosuid,nodev' "no notice about the plain partition"
    expect 'edgeinit: Mounted /dev/vda3 \(ext4\) on /sysroot/opt read-write, nosuid, nodev\.' "/opt not mounted nosuid,nodev by edgeinit"
    opts=$(mount_options_anywhere /opt)
    has_option "$opts" nosuid || fail "/opt options '$opts' lack nosuid"
    has_option "$opts" nodev || fail "/opt options '$opts' lack nodev"
    expect 'EDGEINIT-TEST: mount /etc/ssh /dev/vda3\[/\.mount/persistence/etc-ssh\.bind\]' "/etc/ssh is not the persistent bind"
    opts=$(mount_options_anywhere /etc/ssh)
    has_option "$opts" nosuid || fail "/etc/ssh (bind) options '$opts' lack nosuid"
    has_option "$opts" nodev || fail "/etc/ssh (bind) options '$opts' lack nodev"
    expect 'EDGEINIT-TEST: END' "the test unit did not finish"
}
setup_plain-persist-lockdown() { plain_token_setup; }
check_plain-persist-lockdown() {
    check_exited
    check_plain_mounts
    expect "edgeinit: TPM lockdown \(plain persistent partition\): extended PCRs 0-15; nothing sealed to this boot's PCRs can be unsealed any more\." "no TPM lockdown line"
    expect 'EDGEINIT-TEST: measure-log .*"string":"edgeinit:tpm-lockdown"' "the measure log has no edgeinit:tpm-lockdown record"
    expect 'EDGEINIT-TEST: unseal /dev/vdb refused' "the running system could not even try the token"
    reject 'EDGEINIT-TEST: unseal /dev/vdb ok' "the running system unsealed a key sealed to this machine's PCRs after the lockdown"
}
# The control: without the lockdown the same token unseals from the running system. This is
# the hole the lockdown closes (and proves that the check above can fail).
setup_plain-persist-no-lockdown() {
    plain_token_setup
    cmdline+=" edgeinit.tpm2.lockdown=no"
}
check_plain-persist-no-lockdown() {
    check_exited
    check_plain_mounts
    # lockdown=no still moves PCR 15 (one record), never PCRs 0-14.
    expect "edgeinit: TPM lockdown \(plain persistent partition\): extended PCRs 15;" "PCR 15 was not extended with edgeinit.tpm2.lockdown=no"
    reject 'edgeinit: TPM lockdown .*extended PCRs 0-15' "PCRs 0-15 were extended with edgeinit.tpm2.lockdown=no"
    expect 'EDGEINIT-TEST: unseal /dev/vdb ok' "the token did not unseal without the lockdown (the lockdown test proves nothing)"
}

# A persistent partition that is full before the first boot (qemu/fill-persist.sh: not one
# block free; the layout's target directories exist, as after any earlier boot). EMT's default
# layout must seed /etc/ssh and the others: nothing fits, so nothing is bound; /etc/ssh stays
# the image's copy, never an empty directory, and the console says what is needed. Between the
# boots the filler is deleted: the second boot seeds and binds.
setup_full-opt() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=300
    "$top/qemu/fill-persist.sh" "$image/persist.img" "$dir/persist-full.img" >>"$dir/build.log" 2>&1 ||
        fail "could not build the full persistent partition (see build.log)"
    persist_image=$dir/persist-full.img
    boots=("layout-check:$image" "layout-check:$image")
}
# $1: the persistent partition as boot $2 left it, before boot $2 + 1.
between_boots_full-opt() {
    debugfs -R "ls /.mount/persistence" "$1" >"$dir/persistence-after-boot-$2.txt" 2>&1
    debugfs -w -R "rm /filler1" "$1"
}
check_full-opt() {
    check_exited
    expect_boot 1 "edgeinit: Cannot seed '/etc/ssh' into '/opt/\.mount/persistence/etc-ssh\.bind' \(layout\.env line [0-9]+\): No space left on device\. It needs about [0-9]+ KiB; the persistent partition /dev/vda3 has 0 KiB free\." \
        "no error naming /etc/ssh, the space needed and what is free"
    expect_boot 1 "edgeinit: Nothing was copied and '/etc/ssh' is not bound: it stays the image's copy, and changes to it do not survive a reboot\. Free space on the persistent partition \(/opt\) and reboot" \
        "no line saying /etc/ssh is not bound, with the remedy"
    expect_boot 1 'EDGEINIT-TEST: mount /etc/ssh not-mounted' "/etc/ssh was bound from a full partition"
    expect_boot 1 'EDGEINIT-TEST: ssh ssh_config # ssh_config of image v1' "/etc/ssh does not show the image's files"
    expect_boot 1 'EDGEINIT-TEST: END' "boot 1: the test unit did not finish"
    # What the partition held after boot 1: no copy, no temporary left behind.
    local after=$dir/persistence-after-boot-1.txt
    if [[ ! -s "$after" ]]; then
        fail "no listing of /.mount/persistence after boot 1"
    elif grep -qE 'etc-ssh\.bind|\.#edgeinit' "$after"; then
        fail "boot 1 left a partial copy on the partition: $(tr '\n' ' ' <"$after")"
    fi
    expect_boot 2 'EDGEINIT-TEST: mount /etc/ssh /dev/vda3\[/\.mount/persistence/etc-ssh\.bind\]' "boot 2 (space freed) did not bind /etc/ssh"
    expect_boot 2 'EDGEINIT-TEST: ssh ssh_config # ssh_config of image v1' "boot 2: /etc/ssh lacks the seeded file"
    reject_boot 2 'Cannot seed' "boot 2 still could not seed"
    expect_boot 2 'EDGEINIT-TEST: state running' "boot 2: system state is not 'running'"
    # 64 MiB of filler, reproducible: kept only to debug a failure.
    ((${#failures[@]})) || rm -f "$dir/persist-full.img"
}
