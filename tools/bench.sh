#!/bin/bash
# Peer benchmark (make bench): edgeinit's initrd against dracut's, side by side, on two disks.
#
#   tools/bench.sh [BOOTS]   (default 3 boots of each; BUILD=build; BENCH_TPM=tis|crb;
#                             BENCH_DISKS="reference emt" or one of them)
#
# All initrds are built for the same kernel (the reference image's linux-image package), in a
# Debian root with dracut 059 installed (cached in $BUILD/bench/dracut-root), generic as Debian
# builds them (--no-hostonly). Each is wrapped in a UKI with the same kernel and the same intent
# on the command line, and the boots of one disk alternate on that disk, its NVRAM and its TPM
# (only the ESP's UKI is swapped). Each row reads what the guest printed: the kernel's
# "Run /init" timestamp and systemd-analyze's kernel and initrd times in the real root.
#
# reference disk: the verity root (roothash= and systemd.verity_root_*) and the LUKS2 /opt volume
#   unlocked by a systemd-tpm2 token (systemd-cryptenroll, PCR 15). edgeinit: the reference
#   image's own initrd. dracut: the systemd, systemd-veritysetup, crypt and tpm2-tss modules, told
#   the volume with rd.luks.uuid= and root=/dev/mapper/root. tiny: a static /init that only
#   powers off, the floor (kernel start -> /init no initrd can beat).
# emt disk: EMT's FDE disk (qemu/build-emt-disk.sh, 9 LUKS2 volumes over two disks, the
#   passphrase sealed at 0x81000000 to PCR 15) with EMT's own command line. edgeinit: the same
#   initrd (it picks the EMT profile from the command line). emt-hooks: dracut with EMT's two hooks re-created
#   (tools/emt-dracut: unseal and open every volume, then persistent mount and layout.env) and
#   without dracut's crypt module, as EMT's initrd.
# Reports figures, never fails on timing (only when a boot gives no figures).
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
disks=${BENCH_DISKS:-reference emt}
emt_parts=$build/emt-fde
for f in "$image/vmlinuz:make image" "$image/initrd.img:make image" "$image/persist-luks.img:make image" \
    "$kernel_dir/linux-image.deb:make kernel" "$emt_parts/layout.txt:make emt-images"; do
    [[ -s "${f%%:*}" ]] || { echo "bench: missing ${f%%:*} (run '${f#*:}')" >&2; exit 2; }
done
kver=$(cat "$kernel_dir/kver")
mkdir -p "$dir"

# --- dracut's initrds ------------------------------------------------------------------------
droot=$dir/dracut-root
dracut_packages=dracut,systemd,udev,kmod,linux-base,cryptsetup-bin,tpm2-tools,libtss2-esys-3.0.2-0,libtss2-rc0,libtss2-mu0,libtss2-tcti-device0,zstd
dracut_modules="systemd systemd-initrd systemd-veritysetup dm crypt tpm2-tss"
# EMT's initrd opens its volumes in its own hook: dracut's crypt module (which would ask for
# every LUKS volume it sees) and the modules that pull it in stay out.
emt_modules="systemd systemd-initrd dm tpm2-tss bash emt-fde emt-persistent-mount"
emt_omit="crypt crypt-gpg crypt-loop fido2 pkcs11 systemd-veritysetup"
# Rebuilt when what goes into it changes (the kernel package, the package and module lists).
dstamp=$( (cat "$kernel_dir/linux-image.deb"; echo "$dracut_packages") | sha256sum | cut -d' ' -f1)
if [[ "$(cat "$droot.stamp" 2>/dev/null)" != "$dstamp" ]]; then
    echo "bench: building a Debian root with dracut (mmdebstrap, a few minutes)"
    rm -rf "$droot" "$droot.stamp" "$dir"/dracut*.img "$dir"/dracut*.stamp
    mirror=${DEBIAN_MIRROR:-$("$top/tools/apt-mirror.sh")}
    mmdebstrap --mode=root --variant=minbase --quiet \
        --include="$dracut_packages" \
        bookworm "$droot" "$mirror"
    cp "$kernel_dir/linux-image.deb" "$droot/tmp/linux-image.deb"
    # dracut provides linux-initramfs-tool; its own kernel hook runs too (and its output is unused).
    chroot "$droot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin dpkg -i /tmp/linux-image.deb >"$dir/dracut-kernel.log" 2>&1
    rm -f "$droot/tmp/linux-image.deb"
    echo "$dstamp" >"$droot.stamp"
fi
# make_dracut NAME STAMP_INPUT DRACUT_ARGS...: $dir/NAME.img, rebuilt when STAMP_INPUT changes.
make_dracut() {
    local name=$1 stamp
    stamp=$(echo "$2" | sha256sum | cut -d' ' -f1)
    shift 2
    [[ "$(cat "$dir/$name.stamp" 2>/dev/null)" != "$stamp" || ! -s "$dir/$name.img" ]] || return 0
    chroot "$droot" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin EMT_LAYOUT_ENV=/tmp/layout.env \
        dracut --force --no-hostonly --kver "$kver" --compress zstd "$@" "/tmp/$name.img" >"$dir/$name.log" 2>&1 || {
        tail -n 30 "$dir/$name.log" >&2
        echo "bench: dracut failed (see $dir/$name.log)" >&2
        exit 1
    }
    mv "$droot/tmp/$name.img" "$dir/$name.img"
    echo "$stamp" >"$dir/$name.stamp"
}
make_dracut dracut "$dracut_modules" --add "$dracut_modules"
if [[ " $disks " == *" emt "* ]]; then
    rm -rf "$droot"/usr/lib/dracut/modules.d/9?emt-*
    cp -r "$top"/tools/emt-dracut/9?emt-* "$droot/usr/lib/dracut/modules.d/"
    cp "$top/layout/layout.env" "$droot/tmp/layout.env"
    make_dracut dracut-emt "$emt_modules:$emt_omit:$(cat "$top"/tools/emt-dracut/*/* "$top/layout/layout.env" | sha256sum)" \
        --add "$emt_modules" --omit "$emt_omit"
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

# --- the disks, the TPMs, the UKIs -------------------------------------------------------------------
roothash=$(cat "$image/roothash")
happy=$(sed "s/@ROOTHASH@/$roothash/" "$top/qemu/cmdline.happy")
luks_uuid=$(cryptsetup luksUUID "$image/persist-luks.img")
emt_cmdline="console=ttyS0 root=/dev/mapper/rootfs_verity boot_uuid=$(cat "$emt_parts/boot_uuid_a") rd.shell=0 rd.timeout=200 rd.emergency=reboot"
# run NAME: disk, initrd, command line
declare -A run_disk=(
    [edgeinit]=reference [dracut]=reference [tiny]=reference
    [edgeinit-emt]=emt [emt-hooks]=emt)
declare -A cmdline=(
    [edgeinit]="$happy"
    [tiny]="$happy"
    [dracut]="$happy root=/dev/mapper/root rd.luks.uuid=$luks_uuid rd.luks.options=$luks_uuid=tpm2-device=auto"
    [edgeinit-emt]="$emt_cmdline"
    [emt-hooks]="$emt_cmdline")
declare -A initrd=([edgeinit]=$image/initrd.img [dracut]=$dir/dracut.img [tiny]=$dir/tiny.img
    [edgeinit-emt]=$image/initrd.img [emt-hooks]=$dir/dracut-emt.img)
kinds=()
for d in $disks; do
    case $d in
        reference) kinds+=(edgeinit dracut tiny) ;;
        emt) kinds+=(edgeinit-emt emt-hooks) ;;
        *) echo "bench: BENCH_DISKS names reference and emt, not '$d'" >&2; exit 2 ;;
    esac
done
rm -rf "$dir/machine" "$dir/machine-emt"
: >"$dir/build.log"
for k in "${kinds[@]}"; do
    "$top/tools/mkuki.sh" --stub "$stub" --kernel "$image/vmlinuz" --initrd "${initrd[$k]}" \
        --cmdline "${cmdline[$k]}" --osrel "$top/qemu/os-release" --out "$dir/$k.efi" >>"$dir/build.log"
    "$top/qemu/mkesp.sh" "$dir/$k.efi" "$dir/esp-$k.img" >>"$dir/build.log"
done
# The ESP partition of a disk takes the largest of its ESP images; a smaller one is then written
# over its start (FAT keeps its own size), never past its end into the next partition.
largest_esp() {
    local best='' k
    for k in "${kinds[@]}"; do
        [[ ${run_disk[$k]} == "$1" ]] || continue
        [[ -n "$best" ]] && (($(stat -c %s "$dir/esp-$k.img") <= $(stat -c %s "$best"))) || best=$dir/esp-$k.img
    done
    echo "$best"
}
declare -A disk_img=() disk_args=() machine=() esp_start=() esp_sectors=()
if [[ " $disks " == *" reference "* ]]; then
    cp --sparse=always "$image/persist-luks.img" "$dir/persist.img"
    "$top/qemu/enroll-token.sh" "$dir/machine/tpm" "$dir/persist.img" "$image/emt-passphrase" 15 >>"$dir/build.log" 2>&1
    "$top/qemu/mkdisk.sh" --esp "$(largest_esp reference)" --rootfs "$image/rootfs.img" --persist "$dir/persist.img" \
        --hashmap "$image/hashmap_a.img" --out "$dir/disk.img" >>"$dir/build.log"
    disk_img[reference]=$dir/disk.img machine[reference]=$dir/machine disk_args[reference]=''
fi
if [[ " $disks " == *" emt "* ]]; then
    "$top/qemu/mkdisk-emt.sh" --esp "$(largest_esp emt)" --parts "$emt_parts" --out "$dir/disk-emt.img" \
        --disk2 "$dir/disk2-emt.img" >>"$dir/build.log"
    "$top/qemu/seal-emt-key.sh" "$dir/machine-emt/tpm" "$emt_parts/emt-passphrase" >>"$dir/build.log" 2>&1
    disk_img[emt]=$dir/disk-emt.img machine[emt]=$dir/machine-emt disk_args[emt]="--disk2 $dir/disk2-emt.img"
fi
for d in $disks; do
    read -r esp_start["$d"] esp_sectors["$d"] < <(sfdisk -J "${disk_img[$d]}" | python3 -c '
import json, sys
p = json.load(sys.stdin)["partitiontable"]["partitions"][0]
print(p["start"], p["size"])')
done
for k in "${kinds[@]}"; do
    (($(stat -c %s "$dir/esp-$k.img") <= esp_sectors[${run_disk[$k]}] * 512)) ||
        { echo "bench: esp-$k.img does not fit the ESP" >&2; exit 1; }
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
echo "bench: $boots boots each, alternating, QEMU TCG (one vCPU), TPM over ${BENCH_TPM:-tis}, kernel $kver; the first boot of each initrd seeds /opt"
printf '%-10s %-13s %4s  %12s  %12s  %12s  %14s  %8s  %10s\n' disk initrd boot "to /init s" "initrd s" "to systemd s" "own stages ms" "CPU ms" "loader ms"
for ((i = 1; i <= boots; i++)); do
    for k in "${kinds[@]}"; do
        d=${run_disk[$k]}
        dd if="$dir/esp-$k.img" of="${disk_img[$d]}" bs=512 seek="${esp_start[$d]}" conv=notrunc status=none
        log=$dir/$k-$i.log
        rc=0
        # shellcheck disable=SC2086 # disk_args is a list of words
        "$top/qemu/run.sh" --disk "${disk_img[$d]}" ${disk_args[$d]} --log "$log" --timeout "${BENCH_TIMEOUT:-600}" \
            --machine-dir "${machine[$d]}" --smbios edgeinit-test.mode=report "${tpm_args[@]}" 2>>"$dir/build.log" || rc=$?
        clean=$(tr -d '\r' <"$log")
        to_init=$(grep -aoE '^\[ *[0-9.]+\] Run /init as init process' <<<"$clean" | head -n1 | grep -oE '[0-9]+\.[0-9]+' || true)
        analyze=$(grep -aoE 'EDGEINIT-TEST: analyze Startup finished in .*' <<<"$clean" | head -n1 || true)
        # edgeinit's own figure: its stages, from its log ("All stages done in N ms")
        own=$(grep -aoE 'All stages done in [0-9]+ ms' <<<"$clean" | head -n1 | grep -oE '[0-9]+' || echo -)
        # the CPU /init's threads used in them, and of that what the kernel's module loader took
        cpu=$(grep -aoE "threads used [0-9]+ ms of CPU" <<<"$clean" | head -n1 | grep -oE '[0-9]+' || echo -)
        loader=$(grep -aoE "[0-9]+ ms in the kernel's module loader" <<<"$clean" | head -n1 | grep -oE '^[0-9]+' || echo -)
        if [[ "$k" == tiny && -n "$to_init" ]]; then # no systemd: only the time to /init
            printf '%-10s %-13s %4d  %12.2f  %12s  %12s  %14s  %8s  %10s\n' "$d" "$k" "$i" "$to_init" - - - - -
            echo "$d $k $i $to_init nan nan nan nan nan" >>"$results"
            continue
        fi
        if [[ -z "$to_init" || -z "$analyze" ]]; then
            echo "bench: $k boot $i gave no figures (QEMU exit $rc; log: ${log#"$top"/})" >&2
            exit 1
        fi
        k_s=$(to_s "$(sed -E 's/.*finished in (.*) \(kernel\).*/\1/' <<<"$analyze")")
        i_s=$(to_s "$(sed -E 's/.*\(kernel\) \+ (.*) \(initrd\).*/\1/' <<<"$analyze")")
        sys_s=$(python3 -c "print(f'{$k_s + $i_s:.2f}')")
        printf '%-10s %-13s %4d  %12.2f  %12.2f  %12.2f  %14s  %8s  %10s\n' "$d" "$k" "$i" "$to_init" "$i_s" "$sys_s" "$own" "$cpu" "$loader"
        echo "$d $k $i $to_init $i_s $sys_s ${own/-/nan} ${loader/-/nan} ${cpu/-/nan}" >>"$results"
    done
done

# --- medians and ratios ------------------------------------------------------------------------------
sizes=()
for k in "${kinds[@]}"; do sizes+=("$k=$(stat -c %s "${initrd[$k]}")"); done
python3 - "$results" "$boots" "${sizes[@]}" <<'PY'
import math, statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
boots = int(sys.argv[2])
size = dict(a.split("=") for a in sys.argv[3:])
def med(k, col, skip_first=False):
    vals = [float(r[col]) for r in rows if r[1] == k and not (skip_first and r[2] == "1")]
    vals = [v for v in vals if not math.isnan(v)]
    return statistics.median(vals) if vals else float("nan")
for disk, ours, peer, label in (("reference", "edgeinit", "dracut", "dracut"),
                                ("emt", "edgeinit-emt", "emt-hooks", "EMT hooks")):
    if not any(r[0] == disk for r in rows):
        continue
    print()
    print(f"{disk} disk, medians of {boots} boots   edgeinit   {label:>9}   edgeinit/{label}")
    for name, col, skip in (("kernel start -> /init (s)", 3, False), ("initrd phase (s)", 4, False),
                            ("initrd phase, later boots (s)", 4, True),
                            ("kernel start -> systemd (s)", 5, False),
                            ("own stages, later boots (s)", 6, True)):
        e, d = med(ours, col, skip), med(peer, col, skip)
        if name.startswith("own"):
            print(f"{name:<34} {e / 1000:8.2f}")
            # Where the stages' time goes: the CPU of /init's threads (the kernel's work in
            # their system calls included), of it the kernel's module loader; then what follows
            # the stages: systemd's exec -> main() in the real root, which dracut's initrd phase
            # holds as well.
            print(f"{'  CPU of /init (s)':<34} {med(ours, 8, True) / 1000:8.2f}")
            print(f"{'  of which module loader (s)':<34} {med(ours, 7, True) / 1000:8.2f}")
            after = [float(r[4]) - float(r[6]) / 1000 for r in rows if r[1] == ours and r[2] != "1"]
            if after:
                print(f"{'initrd phase after the stages (s)':<34} {statistics.median(after):8.2f}   (systemd's exec -> main(), later boots)")
            continue
        print(f"{name:<34} {e:8.2f}   {d:9.2f}   {e / d if d else float('nan'):8.3f}")
    e, d = int(size[ours]), int(size[peer])
    print(f"{'initrd size (KiB)':<34} {e // 1024:8d}   {d // 1024:9d}   {e / d:8.3f}")
    if "tiny" in size and disk == "reference":
        e, t = med(ours, 3), med("tiny", 3)
        print(f"{'floor: tiny initrd -> /init (s)':<34} {t:8.2f}   edgeinit is {e - t:+.2f} s from it")
PY
