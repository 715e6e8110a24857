#!/bin/bash
# Benchmark: boot an EMT-provisioned FDE disk (qemu/build-emt-disk.sh) with EMT's own command
# line, several times on one machine (TPM, persistent partition), and report edgeinit's
# per-stage times and systemd-analyze's initrd figure. Reports, never fails on timing.
# Usage: tools/bench-emt.sh [BOOTS] [SLOT]    (default 3 boots of slot a; BUILD=build)
# The first boot seeds the persistent copies (layout.env); later boots show the steady state.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$top/build}
[[ "$build" == /* ]] || build=$top/$build
boots=${1:-3} slot=${2:-a}
parts=$build/emt-fde
stub=${UKI_STUB:-/usr/lib/systemd/boot/efi/linuxx64.efi.stub}
for f in "$build/initrd.img" "$build/kernel/vmlinuz" "$parts/layout.txt"; do
    [[ -s "$f" ]] || { echo "bench-emt: missing $f (make initrd kernel emt-images)" >&2; exit 2; }
done
dir=$build/bench-emt
rm -rf "$dir"
mkdir -p "$dir"

cmdline="console=ttyS0 root=/dev/mapper/rootfs_verity boot_uuid=$(cat "$parts/boot_uuid_$slot") rd.shell=0 rd.timeout=200 rd.emergency=reboot"
"$top/tools/mkuki.sh" --stub "$stub" --kernel "$build/kernel/vmlinuz" --initrd "$build/initrd.img" \
    --cmdline "$cmdline" --osrel "$top/qemu/os-release" --out "$dir/uki.efi" >"$dir/build.log"
"$top/qemu/mkesp.sh" "$dir/uki.efi" "$dir/esp.img" >>"$dir/build.log"
"$top/qemu/mkdisk-emt.sh" --esp "$dir/esp.img" --parts "$parts" --out "$dir/disk.img" --disk2 "$dir/disk2.img" >>"$dir/build.log"
"$top/qemu/seal-emt-key.sh" "$dir/machine/tpm" "$parts/emt-passphrase" >>"$dir/build.log" 2>&1

echo "bench-emt: EMT FDE disk, slot $slot, $boots boots under QEMU TCG (one vCPU)"
for ((i = 1; i <= boots; i++)); do
    "$top/qemu/run.sh" --disk "$dir/disk.img" --disk2 "$dir/disk2.img" --log "$dir/serial-$i.log" \
        --timeout 300 --machine-dir "$dir/machine" --smbios edgeinit-test.mode=report 2>"$dir/run-$i.stderr" || true
    tr -d '\r' <"$dir/serial-$i.log" >"$dir/serial-$i.txt"
done

# One row per stage, one column per boot (ms); then the totals.
python3 - "$dir" "$boots" <<'EOF'
import re, sys
d, n = sys.argv[1], int(sys.argv[2])
stages, rows, total, analyze = [], {}, [], []
for i in range(1, n + 1):
    text = open(f"{d}/serial-{i}.txt", errors="replace").read()
    for name, ms in re.findall(r"edgeinit: stage (\S+) done in (\d+) ms", text):
        if name not in rows:
            stages.append(name)
            rows[name] = {}
        rows[name][i] = int(ms)
    m = re.search(r"All stages done in (\d+) ms", text)
    total.append(m.group(1) if m else "-")
    m = re.search(r"\+ ([0-9.]+m?s) \(initrd\)", text)
    analyze.append(m.group(1) if m else "-")
print(f"{'stage (ms)':<22}" + "".join(f"{'boot ' + str(i):>10}" for i in range(1, n + 1)))
for s in stages:
    print(f"{s:<22}" + "".join(f"{rows[s].get(i, '-'):>10}" for i in range(1, n + 1)))
print(f"{'all stages':<22}" + "".join(f"{t:>10}" for t in total))
print(f"{'systemd-analyze initrd':<22}" + "".join(f"{a:>10}" for a in analyze))
EOF
echo "bench-emt: logs in ${dir#"$top"/}"
