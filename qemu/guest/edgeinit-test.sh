#!/bin/bash
# Runs in the guest after boot. Prints facts, prefixed EDGEINIT-TEST:, for the
# host-side boot tests to assert on, then powers the machine off.
# No `set -e`: every probe must run and the machine must always power off,
# whatever fails; failures are reported as lines, not as exit codes.
set -uo pipefail

say() { printf 'EDGEINIT-TEST: %s\n' "$*"; }

# The host can pass instructions through SMBIOS OEM strings (type 11),
# "edgeinit-test.mode=<mode>". Only the default "report" mode exists for now.
mode=report
for raw in /sys/firmware/dmi/entries/11-*/raw; do
    [[ -r "$raw" ]] || continue
    m=$(tr '\0' '\n' <"$raw" | sed -n 's/^edgeinit-test\.mode=//p' | head -n1)
    [[ -n "$m" ]] && mode=$m
done

state=$(timeout 180 systemctl is-system-running --wait 2>&1)
say "BEGIN"
say "mode $mode"
say "state $state"
say "version $(systemctl --version | head -n1)"
say "cmdline $(cat /proc/cmdline)"

for target in / /opt; do
    line=$(findmnt -rno TARGET,SOURCE,FSTYPE,OPTIONS --mountpoint "$target")
    say "mount ${line:-$target not-mounted}"
done
for d in /sysroot /run/initramfs; do
    if [[ -e "$d" ]]; then say "exists $d yes"; else say "exists $d no"; fi
done

say "analyze $(systemd-analyze time 2>&1 | head -n1)"

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
    [[ -n "$unit" ]] && say "failed-unit $unit"
done < <(systemctl --failed --plain --no-legend 2>/dev/null)

say "END"
systemctl poweroff
