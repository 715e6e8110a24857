#!/bin/bash
# Runs in the guest after boot. Prints facts, prefixed EDGEINIT-TEST:, for the
# host-side boot tests to assert on, then powers the machine off.
# No `set -e`: every probe must run and the machine must always power off,
# whatever fails; failures are reported as lines, not as exit codes.
set -uo pipefail

say() { printf 'EDGEINIT-TEST: %s\n' "$*"; }

# The host can pass instructions through SMBIOS OEM strings (type 11),
# "edgeinit-test.mode=<mode>": "report" (default), "layout-write" (also change
# files under bind and overlay paths) or "layout-check" (also report them).
mode=report secret=''
for raw in /sys/firmware/dmi/entries/11-*/raw; do
    [[ -r "$raw" ]] || continue
    # The entry's 5-byte binary header runs straight into its first string:
    # match the string anywhere, not at a line start.
    m=$(grep -aoE 'edgeinit-test\.mode=[a-z-]+' "$raw" | head -n1)
    [[ -n "$m" ]] && mode=${m#edgeinit-test.mode=}
    # The secret the host used, to prove it is nowhere in /run (never printed).
    m=$(grep -aoE 'edgeinit-test\.secret=[0-9a-f]+' "$raw" | head -n1)
    [[ -n "$m" ]] && secret=${m#edgeinit-test.secret=}
done

state=$(timeout 180 systemctl is-system-running --wait 2>&1)
say "BEGIN"
say "mode $mode"
say "state $state"
say "version $(systemctl --version | head -n1)"
say "cmdline $(cat /proc/cmdline)"

for target in / /opt /var /etc /etc/ssh /etc/machine-id; do
    line=$(findmnt -rno TARGET,SOURCE,FSTYPE,OPTIONS --mountpoint "$target")
    say "mount ${line:-$target not-mounted}"
done

# Which A/B slot booted: each slot's image carries its letter (qemu/build-emt-disk.sh).
slot=$(head -n1 /usr/share/edgeinit-test/slot 2>/dev/null)
say "slot ${slot:-none}"

# Which boot loader entry systemd-boot started (LoaderEntrySelected: UTF-16LE after 4 bytes of
# attributes), and the persistent file an A/B update scenario wrote before the update.
loader_var=/sys/firmware/efi/efivars/LoaderEntrySelected-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f
# (Read through cat: efivarfs files may report size 0, which tail would trust.)
entry=$(cat "$loader_var" 2>/dev/null | tail -c +5 | iconv -f UTF-16LE -t UTF-8 2>/dev/null | tr -d '\0')
say "loader-entry ${entry:-none}"
say "loader-vars $(cd /sys/firmware/efi/efivars 2>/dev/null && ls -d Loader* 2>/dev/null | sed 's/-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f$//' | LC_ALL=C sort | paste -sd,)"
say "ab-marker $(cat /opt/edgeinit-test-ab 2>/dev/null || echo missing)"
# Boot counting: what systemd-bless-boot did with a counted entry (the ESP is at /efi then).
say "bless $(systemctl is-active systemd-bless-boot.service 2>&1) $(/lib/systemd/systemd-bless-boot status 2>&1 | head -n1)"

# Device-mapper devices and what they sit on (slaves) and under (holders), dm-N translated
# to dm names; lines sorted by name, each list sorted too (LC_ALL=C), empty lists empty.
dm_name() {
    if [[ $1 == dm-* && -r /sys/block/$1/dm/name ]]; then cat "/sys/block/$1/dm/name"; else echo "$1"; fi
}
dm_list() {
    local e
    for e in "$1"/*; do
        [[ -e "$e" || -L "$e" ]] && dm_name "${e##*/}"
    done | LC_ALL=C sort | paste -sd,
}
for d in /sys/block/dm-*; do
    [[ -r "$d/dm/name" ]] || continue
    printf 'EDGEINIT-TEST: dm %s slaves=%s holders=%s\n' "$(cat "$d/dm/name")" "$(dm_list "$d/slaves")" "$(dm_list "$d/holders")"
done | LC_ALL=C sort

# Active swap (just reported: systemd may or may not have activated it).
swaps=$(awk 'NR > 1 { printf "%s%s", sep, $1; sep = " " }' /proc/swaps 2>/dev/null)
say "swap ${swaps:-none}"

for d in /sysroot /run/initramfs; do
    if [[ -e "$d" ]]; then say "exists $d yes"; else say "exists $d no"; fi
done
# The exitrd edgeinit leaves for systemd-shutdown: what /run/initramfs holds, and what it costs.
if [[ -d /run/initramfs ]]; then
    say "initramfs-dir $(cd /run/initramfs && find . -mindepth 1 | LC_ALL=C sort | paste -sd,)"
    say "exitrd-kib $(du -sk /run/initramfs | cut -f1)"
fi

say "analyze $(systemd-analyze time 2>&1 | head -n1)"

# Measured boot: PCR 15 (the volume-key latch) and what the initrd logged.
for pcr in 7 15; do
    f=/sys/class/tpm/tpm0/pcr-sha256/$pcr
    if [[ -r "$f" ]]; then say "pcr$pcr $(cat "$f")"; else say "pcr$pcr none"; fi
done
mlog=/run/log/systemd/tpm2-measure.log
if [[ -r "$mlog" ]]; then
    say "measure-log $(tr '\036' '\n' <"$mlog" | grep -o '"string":"[^"]*"' | tr '\n' ' ')"
else
    say "measure-log absent"
fi

if [[ -r /run/edgeinit/boot.json ]]; then
    while IFS= read -r l; do say "boot.json $l"; done </run/edgeinit/boot.json
else
    say "boot.json absent"
fi

# Reading the canary goes through dm-verity; a corrupted block makes the read
# fail (or the kernel restart, with restart-on-corruption) instead of lying.
if (cd /usr/share/edgeinit-test && sha256sum --quiet -c canary.sha256) >/dev/null 2>&1; then
    say "canary ok"
else
    say "canary FAILED"
fi

probe="/opt/.edgeinit-test.$$"
if echo "written by edgeinit-test" >"$probe" 2>/dev/null && sync "$probe" &&
    [[ "$(cat "$probe")" == "written by edgeinit-test" ]]; then
    say "opt writable yes"
else
    say "opt writable no"
fi
rm -f "$probe"

while read -r unit _; do
    [[ -n "$unit" ]] || continue
    say "failed-unit $unit"
    # Why, for the host's failure report: the unit's last journal lines.
    journalctl -b -u "$unit" -n 4 -o cat --no-pager 2>/dev/null | while IFS= read -r l; do say "failed-unit $unit: $l"; done
done < <(systemctl --failed --plain --no-legend 2>/dev/null)

# layout.env: /etc/ssh is bound from the persistent partition, /etc and /var
# are overlays on a tmpfs. What is written here must survive (or not) a reboot.
# Set a systemd-boot variable as bootctl does (set-oneshot, set-default): attributes
# non-volatile, boot service and runtime access, then the entry id in UTF-16LE with its NUL,
# in one write (efivarfs takes a variable whole).
set_loader_var() {
    local f=/sys/firmware/efi/efivars/$1-4a67b082-0a4c-41cf-b6c7-440b29bb8c4f tmp
    tmp=$(mktemp -p /run) || return 1 # the root is read-only
    { printf '\x07\x00\x00\x00'; printf '%s\0' "$2" | iconv -f UTF-8 -t UTF-16LE; } >"$tmp"
    [[ -e "$f" ]] && command -v chattr >/dev/null && chattr -i "$f" 2>/dev/null
    loader_var_error=$(cat "$tmp" 2>&1 >"$f")
    local rc=$?
    rm -f "$tmp"
    return $rc
}

case $mode in
oneshot-*|default-*)
    # What an A/B updater does once it wrote the new slot: keep a file on the persistent
    # partition, then point systemd-boot at the new slot's UKI (once, or for good).
    if [[ $mode == oneshot-* ]]; then
        echo "written by slot ${slot:-none} before the update" >/opt/edgeinit-test-ab && sync /opt/edgeinit-test-ab
        var=LoaderEntryOneShot id=${mode#oneshot-}.efi
    else
        var=LoaderEntryDefault id=${mode#default-}.efi
    fi
    if set_loader_var "$var" "$id"; then say "loader-var $var $id"; else say "loader-var $var failed: $loader_var_error"; fi
    ;;
enroll)
    # As an integrator does: enroll the TPM for the persistent partition, bound to PCR 7.
    if PASSWORD=$secret systemd-cryptenroll --tpm2-device=auto --tpm2-pcrs=7 /dev/vda3 >/dev/null 2>&1; then
        say "enrolled yes"
    else
        say "enrolled no"
    fi
    ;;
try-unseal)
    # What an attacker's code running in this system could do with the TPM: try the
    # systemd-tpm2 token of every LUKS2 volume on the second disk, unattended.
    for dev in /dev/vdb /dev/vdb[0-9]*; do
        [[ -b "$dev" && "$(blkid -p -o value -s TYPE "$dev" 2>/dev/null)" == crypto_LUKS ]] || continue
        if timeout 60 /lib/systemd/systemd-cryptsetup attach edgeinit-probe "$dev" - tpm2-device=auto,headless=true >/dev/null 2>&1; then
            say "unseal $dev ok"
            /lib/systemd/systemd-cryptsetup detach edgeinit-probe >/dev/null 2>&1
        else
            say "unseal $dev refused"
        fi
    done
    ;;
secrets)
    if [[ -n "$secret" ]] && grep -rqsF -- "$secret" /run 2>/dev/null; then
        say "secret in /run yes"
    else
        say "secret in /run no"
    fi
    ;;
layout-write)
    echo "written on the device" >/etc/ssh/edgeinit-device-file
    echo "# changed on the device" >/etc/ssh/ssh_config
    echo "changed on the device" >/etc/motd
    if echo x >/var/edgeinit-var-test 2>/dev/null; then say "var writable yes"; else say "var writable no"; fi
    sync
    say "layout written"
    ;;
powercut-write)
    # A power cut while the system writes to a persistent bind: one file written and synced,
    # then writes that never reach a sync until the host cuts the power.
    echo "synced before the power cut" >/etc/ssh/edgeinit-synced-file && sync /etc/ssh/edgeinit-synced-file &&
        say "synced-file written"
    say "writing until the power cut"
    for i in $(seq 600); do
        head -c 1M /dev/urandom >"/etc/ssh/edgeinit-unsynced-$((i % 8))"
        sleep 0.1
    done
    ;;
layout-check)
    say "ssh synced-file $(cat /etc/ssh/edgeinit-synced-file 2>/dev/null || echo missing)"
    say "ssh device-file $(cat /etc/ssh/edgeinit-device-file 2>/dev/null || echo missing)"
    say "ssh ssh_config $(head -n1 /etc/ssh/ssh_config 2>/dev/null || echo missing)"
    say "ssh new-in-v2 $(cat /etc/ssh/new-in-v2 2>/dev/null || echo missing)"
    say "motd $(head -n1 /etc/motd 2>/dev/null || echo missing)"
    if [[ -e /var/edgeinit-var-test ]]; then say "var file present"; else say "var file absent"; fi
    ;;
esac

say "END"
systemctl poweroff
