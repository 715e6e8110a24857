#!/bin/bash
# Peer benchmark (make bench): Debian's dracut initrd against edgeinit's, side by side.
#
#   tools/bench.sh [BOOTS]        (default 3 boots of each; BUILD=build; BENCH_TPM=tis|crb)
#
# Both initrds are built for the same kernel (the reference image's linux-image package): edgeinit's
# is the one kernel-install made inside the reference image root (make image); dracut's comes from
# a Debian root with dracut 059 installed (cached in $BUILD/bench/dracut-root), built generic as
# Debian builds it (--no-hostonly), with the systemd, systemd-veritysetup, crypt and tpm2-tss
# modules. Each is wrapped in a UKI with the same kernel and the same intent on the command line:
# the verity root (roothash= and systemd.verity_root_*), and the LUKS2 /opt volume unlocked by a
# systemd-tpm2 token (systemd-cryptenroll, PCR 15). dracut is told the volume with rd.luks.uuid=
# and root=/dev/mapper/root; edgeinit finds both itself. The boots alternate on one disk, one
# NVRAM and one TPM (only the ESP's UKI is swapped), and each row reads what the guest printed:
# the kernel's "Run /init" timestamp, and systemd-analyze's kernel and initrd times in the real
# root. A third UKI with a tiny initrd (a static /init that only powers off) gives the floor:
# the kernel start -> /init no initrd can beat. Reports figures, never fails on timing (only when
# a boot gives no figures).
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
build=${BUILD:-$top/build}
[[ "$build" == /* ]] || build=$top/$build
boots=${1:-3}
# The TPM interface QEMU gives the guest: TIS (default) or CRB (Intel PTT, firmware TPMs).
tpm_args=()
case ${BENCH_TPM:-tis} in
    tis) ;;
    crb) tpm_args=(--tpm-crb) ;;
    *) echo "bench: BENCH_TPM must be tis or crb" >&2; exit 2 ;;
esac
image=$build/image
kernel_dir=$build/kernel
stub=${UKI_STUB:-/usr/lib/systemd/boot/efi/linuxx64.efi.stub}
dir=$build/bench
for f in "$image/vmlinuz:make image" "$image/initrd.img:make image" "$image/persist-luks.img:make image" \
    "$kernel_dir/linux-image.deb:make kernel"; do
    [[ -s "${f%%:*}" ]] || { echo "bench: missing ${f%%:*} (run '${f#*:}')" >&2; exit 2; }
done
kver=$(cat "$kernel_dir/kver")
mkdir -p "$dir"

# --- dracut's initrd --------------------------------------------------------------------------
droot=$dir/dracut-root
dracut_packages=dracut,systemd,udev,kmod,linux-base,cryptsetup-bin,tpm2-tools,libtss2-esys-3.0.2-0,libtss2-rc0,libtss2-mu0,libtss2-tcti-device0,zstd
dracut_modules="systemd systemd-initrd systemd-veritysetup dm crypt tpm2-tss"
# Rebuilt when what goes into it changes (the kernel package, the package and module lists).
dstamp=$( (cat "$kernel_dir/linux-image.deb"; echo "$dracut_packages:$dracut_modules") | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$droot.stamp" 2>/dev/null)" != "$dstamp" || ! -s "$dir/dracut.img" ]]; then
    echo "bench: building a Debian root with dracut (mmdebstrap, a few minutes)"
    rm -rf "$droot" "$droot.stamp"
    mirror=${DEBIAN_MIRROR:-$("$top/tools/apt-mirror.sh")}
    mmdebstrap --mode=root --variant=minbase --quiet \
        --include="$dracut_packages" \
        bookworm "$droot" "$mirror"
    cp "$kernel_dir/linux-image.deb" "$droot/tmp/linux-image.deb"
    # dracut provides linux-initramfs-tool; its own kernel hook runs too (and its output is unused).
    chroot "$droot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg -i /tmp/linux-image.deb >"$dir/dracut-kernel.log" 2>&1
    rm -f "$droot/tmp/linux-image.deb"
    chroot "$droot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
        dracut --force --no-hostonly --kver "$kver" --compress zstd \
        --add "$dracut_modules" /tmp/dracut.img >"$dir/dracut.log" 2>&1 || {
        tail -n 30 "$dir/dracut.log" >&2
        echo "bench: dracut failed (see $dir/dracut.log)" >&2
        exit 1
    }
    mv "$droot/tmp/dracut.img" "$dir/dracut.img"
    echo "$dstamp" >"$droot.stamp"
fi

# --- the floor: a tiny initrd whose /init only powers the machine off ----------------------------
# What the kernel needs to reach /init at all (firmware, stub, kernel, unpacking a few KiB): the
# "kernel start -> /init" figure no initrd can beat.
tiny=$dir/tiny
mkdir -p "$tiny/root"
cat >"$tiny/init.c" <<'C'
#include <sys/reboot.h>
#include <unistd.h>
int main(void)
{
	reboot(RB_POWER_OFF);
	for (;;)
		pause();
}
C
cc -O2 -static -o "$tiny/root/init" "$tiny/init.c"
(cd "$tiny/root" && echo init | cpio --quiet -o -H newc -R 0:0) >"$dir/tiny.img"

# --- the disk, the token, the UKIs ---------------------------------------------------------------
roothash=$(cat "$image/roothash")
happy=$(sed "s/@ROOTHASH@/$roothash/" "$top/qemu/cmdline.happy")
luks_uuid=$(cryptsetup luksUUID "$image/persist-luks.img")
declare -A cmdline=(
    [edgeinit]="$happy"
    [tiny]="$happy"
    [dracut]="$happy root=/dev/mapper/root rd.luks.uuid=$luks_uuid rd.luks.options=$luks_uuid=tpm2-device=auto"
)
declare -A initrd=([edgeinit]=$image/initrd.img [dracut]=$dir/dracut.img [tiny]=$dir/tiny.img)
kinds=(edgeinit dracut tiny)
rm -rf "$dir/machine"
cp --sparse=always "$image/persist-luks.img" "$dir/persist.img"
"$top/qemu/enroll-token.sh" "$dir/machine/tpm" "$dir/persist.img" "$image/emt-passphrase" 15 >"$dir/build.log" 2>&1
for k in "${kinds[@]}"; do
    "$top/tools/mkuki.sh" --stub "$stub" --kernel "$image/vmlinuz" --initrd "${initrd[$k]}" \
        --cmdline "${cmdline[$k]}" --osrel "$top/qemu/os-release" --out "$dir/$k.efi" >>"$dir/build.log"
    "$top/qemu/mkesp.sh" "$dir/$k.efi" "$dir/esp-$k.img" >>"$dir/build.log"
done
# The disk's ESP partition takes the larger of the two ESP images; the smaller one is then written
# over its start (FAT keeps its own size), never past its end into the root partition.
big_esp=$dir/esp-edgeinit.img
(($(stat -c %s "$dir/esp-dracut.img") <= $(stat -c %s "$big_esp"))) || big_esp=$dir/esp-dracut.img
"$top/qemu/mkdisk.sh" --esp "$big_esp" --rootfs "$image/rootfs.img" --persist "$dir/persist.img" \
    --hashmap "$image/hashmap_a.img" --out "$dir/disk.img" >>"$dir/build.log"
read -r esp_start esp_sectors < <(sfdisk -J "$dir/disk.img" | python3 -c '
import json, sys
p = json.load(sys.stdin)["partitiontable"]["partitions"][0]
print(p["start"], p["size"])')
for k in "${kinds[@]}"; do
    (($(stat -c %s "$dir/esp-$k.img") <= esp_sectors * 512)) || { echo "bench: esp-$k.img does not fit the ESP" >&2; exit 1; }
done

# --- boots -----------------------------------------------------------------------------------------
# seconds of a systemd-analyze figure ("1min 2.345s", "812ms", "3.2s")
to_s() {
    python3 -c '
import re, sys
t = 0.0
for n, u in re.findall(r"([0-9.]+)(min|ms|us|s)", sys.argv[1]):
    t += float(n) * {"min": 60, "s": 1, "ms": 1e-3, "us": 1e-6}[u]
print(f"{t:.2f}")' "$1"
}
results=$dir/results.txt
: >"$results"
echo "bench: $boots boots each, alternating, QEMU TCG (one vCPU), TPM over ${BENCH_TPM:-tis}, kernel $kver; the first edgeinit boot seeds /opt"
printf '%-9s %4s  %12s  %12s  %12s\n' initrd boot "to /init s" "initrd s" "to systemd s"
for ((i = 1; i <= boots; i++)); do
    for k in "${kinds[@]}"; do
        dd if="$dir/esp-$k.img" of="$dir/disk.img" bs=512 seek="$esp_start" conv=notrunc status=none
        log=$dir/$k-$i.log
        rc=0
        "$top/qemu/run.sh" --disk "$dir/disk.img" --log "$log" --timeout "${BENCH_TIMEOUT:-600}" \
            --machine-dir "$dir/machine" --smbios edgeinit-test.mode=report "${tpm_args[@]}" 2>>"$dir/build.log" || rc=$?
        clean=$(tr -d '\r' <"$log")
        to_init=$(grep -aoE '^\[ *[0-9.]+\] Run /init as init process' <<<"$clean" | head -n1 | grep -oE '[0-9]+\.[0-9]+' || true)
        analyze=$(grep -aoE 'EDGEINIT-TEST: analyze Startup finished in .*' <<<"$clean" | head -n1 || true)
        if [[ "$k" == tiny && -n "$to_init" ]]; then # no systemd: only the time to /init
            printf '%-9s %4d  %12.2f  %12s  %12s\n' "$k" "$i" "$to_init" - -
            echo "$k $i $to_init nan nan" >>"$results"
            continue
        fi
        if [[ -z "$to_init" || -z "$analyze" ]]; then
            echo "bench: $k boot $i gave no figures (QEMU exit $rc; log: ${log#"$top"/})" >&2
            exit 1
        fi
        k_s=$(to_s "$(sed -E 's/.*finished in (.*) \(kernel\).*/\1/' <<<"$analyze")")
        i_s=$(to_s "$(sed -E 's/.*\(kernel\) \+ (.*) \(initrd\).*/\1/' <<<"$analyze")")
        sys_s=$(python3 -c "print(f'{$k_s + $i_s:.2f}')")
        printf '%-9s %4d  %12.2f  %12.2f  %12.2f\n' "$k" "$i" "$to_init" "$i_s" "$sys_s"
        echo "$k $i $to_init $i_s $sys_s" >>"$results"
    done
done

# --- medians and ratios ------------------------------------------------------------------------------
python3 - "$results" "$(stat -c %s "$image/initrd.img")" "$(stat -c %s "$dir/dracut.img")" <<'PY'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
size = {"edgeinit": int(sys.argv[2]), "dracut": int(sys.argv[3])}
def med(k, col, skip_first=False):
    vals = [float(r[col]) for r in rows if r[0] == k and not (skip_first and r[1] == "1")]
    return statistics.median(vals) if vals else float("nan")
print()
print(f"medians of {len(rows) // 3} boots each   edgeinit     dracut   edgeinit/dracut")
for name, col, skip in (("kernel start -> /init (s)", 2, False), ("initrd phase (s)", 3, False),
                        ("initrd phase, later boots (s)", 3, True), ("kernel start -> systemd (s)", 4, False)):
    e, d = med("edgeinit", col, skip), med("dracut", col, skip)
    print(f"{name:<30} {e:8.2f}   {d:8.2f}   {e / d if d else float('nan'):8.3f}")
e, d = size["edgeinit"], size["dracut"]
print(f"{'initrd size (KiB)':<30} {e // 1024:8d}   {d // 1024:8d}   {e / d:8.3f}")
e, t = med("edgeinit", 2), med("tiny", 2)
print(f"{'floor: tiny initrd -> /init (s)':<30} {t:8.2f}   edgeinit is {e - t:+.2f} s from it")
PY
