#!/bin/bash
# Boot the reference image once and summarise what edgeinit and the guest did.
# Usage: qemu/demo.sh [--tee]      (--tee: also show the whole serial console)
# Expects the Makefile to have built build/image/ and its UKI (the image's own
# kernel and initrd, the happy command line: make build/image/uki.efi).
# Writes build/demo/{esp,disk}.img, serial.log.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$top/build}
[[ "$build" == /* ]] || build=$top/$build
image=$build/image
uki=${UKI:-$image/uki.efi}
out=$build/demo
tee=()
[[ "${1:-}" == --tee ]] && tee=(--tee)

for f in "$uki" "$image/rootfs.img" "$image/hashmap_a.img" "$image/persist.img"; do
    [[ -s "$f" ]] || { echo "demo: missing $f (run 'make build/image/uki.efi')" >&2; exit 2; }
done

mkdir -p "$out"
rm -rf "$out/machine"
"$top/qemu/mkesp.sh" "$uki" "$out/esp.img" >/dev/null
"$top/qemu/mkdisk.sh" --esp "$out/esp.img" --rootfs "$image/rootfs.img" \
    --persist "$image/persist.img" --hashmap "$image/hashmap_a.img" --out "$out/disk.img" >/dev/null

echo "demo: booting (TCG, about a minute; serial log: ${out#"$top"/}/serial.log)"
t0=$(date +%s)
rc=0
"$top/qemu/run.sh" --disk "$out/disk.img" --log "$out/serial.log" --timeout "${DEMO_TIMEOUT:-300}" \
    --machine-dir "$out/machine" "${tee[@]}" || rc=$?
secs=$(($(date +%s) - t0))

log=$out/serial.txt
tr -d '\r' <"$out/serial.log" >"$log"
echo
echo "== edgeinit stages"
grep -aoE 'edgeinit: stage [^ ]+ done in [0-9]+ ms' "$log" || echo "(no stage lines)"
grep -aE 'edgeinit:.*FATAL' "$log" || true
echo "== booted system"
grep -aE '^EDGEINIT-TEST: (mount|opt writable|canary)' "$log" | sed 's/^EDGEINIT-TEST: //' || echo "(test unit did not report)"
grep -aE '^EDGEINIT-TEST: analyze' "$log" | sed 's/^EDGEINIT-TEST: analyze //' || true
echo "== QEMU exit $rc after $secs s (124 = timeout)"
exit "$rc"
