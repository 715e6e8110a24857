#!/bin/bash
# Measure how long the guest kernel takes to unpack the initrd with each compressor, to pick
# mkinitrd.py's default by unpack time rather than by ratio alone.
#
#   tools/initrd-unpack-bench.sh [RUNS]        (default 3 runs per compressor)
#   ACCEL=kvm tools/initrd-unpack-bench.sh     (default tcg, like the boot tests)
#
# Boots the kernel directly (qemu -kernel/-initrd, no firmware, no disk) with the same initrd
# contents as `make initrd`, compressed each way. With no disk /init gives up after
# rd.timeout=1 and powers off. The kernel's own timestamps bracket the unpacking: "Trying to
# unpack rootfs image as initramfs..." to "Freeing initrd memory". Prints the median per
# compressor. Needs build/init and build/kernel.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$top/build}
runs=${1:-3}
accel=${ACCEL:-tcg}
modules=${INITRD_MODULES:-virtio_pci virtio_blk dm_verity ext4 overlay algif_skcipher}
work=$(mktemp -d /tmp/edgeinit-unpack.XXXXXX)
trap 'rm -rf "$work"' EXIT

# A well-formed root hash: /init must get as far as waiting for the (absent) partitions.
cmdline="console=ttyS0 roothash=$(printf '%064d' 0) rd.timeout=1 rd.emergency=poweroff edgeinit.emergency_delay=0"

stamp() { # seconds of the first kernel log line matching $2 in $1
    grep -aoE "^\[ *[0-9]+\.[0-9]+\] $2" "$1" | head -n1 | sed -E 's/^\[ *([0-9.]+)\].*/\1/'
}

printf '%-6s %10s %12s %s\n' compr bytes "unpack ms" "(each run)"
for c in zstd xz gzip lz4 none; do
    "$top/tools/mkinitrd.py" --init "$build/init" --kernel-dir "$build/kernel" \
        --modules "$modules" --layout "$top/layout/layout.env" --compress "$c" \
        --out "$work/initrd.$c" 2>/dev/null
    times=()
    for ((i = 0; i < runs; i++)); do
        log=$work/$c.$i.log
        timeout 120 qemu-system-x86_64 -machine q35 -accel "$accel" -cpu max -smp 1 -m 1024 \
            -kernel "$build/kernel/vmlinuz" -initrd "$work/initrd.$c" -append "$cmdline" \
            -nodefaults -nographic -serial stdio -no-reboot </dev/null >"$log" 2>&1 || true
        t0=$(stamp "$log" 'Trying to unpack rootfs image as initramfs')
        t1=$(stamp "$log" 'Freeing initrd memory')
        if [[ -z "$t0" || -z "$t1" ]]; then
            echo "unpack-bench: $c run $i: no unpack timestamps in $log" >&2
            tail -n 5 "$log" >&2
            exit 1
        fi
        times+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%d", (b - a) * 1000 }')")
    done
    median=$(printf '%s\n' "${times[@]}" | sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }')
    printf '%-6s %10s %12s %s\n' "$c" "$(stat -c %s "$work/initrd.$c")" "$median" "${times[*]}"
done
echo "accel=$accel, $runs runs each"
