#!/bin/bash
# The integrator's toolchain (issue 12): `make install` gives exactly the expected files;
# edgeinit-mkinitrd refuses a kernel without a module the boot needs, naming it; in a scratch
# image root (a copy of the reference rootfs, edgeinit installed with PREFIX=/usr, the reference
# kernel), `kernel-install add` builds an initrd byte-identical to edgeinit-mkinitrd run by hand,
# and with layout=uki a UKI byte-identical to mkuki run by hand.
# kernel-install here is the host's (systemd 252), run chroot-free: the plugin reads the image
# root through EDGEINIT_ROOT, kernel-install's configuration through KERNEL_INSTALL_CONF_ROOT.
# Usage: BUILD=build tests/toolchain/run.sh   (needs root for the rootfs copy; leaves
# $BUILD/toolchain-test/ for inspection; KEEP_ROOT=1 reuses the root copy)
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "${BUILD:-$top/build}" && pwd)
work=$build/toolchain-test
kver=$(cat "$build/kernel/kver")
fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
mkdir -p "$work"
export SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-$(git -C "$top" log -1 --format=%ct)}

# 1. make install DESTDIR= gives exactly the expected file list.
rm -rf "$work/dest"
if make -s -C "$top" BUILD="$build" install DESTDIR="$work/dest" PREFIX=/usr >"$work/install.log" 2>&1; then
    (cd "$work/dest" && find . \( -type f -o -type l \) | sed 's|^\./||' | sort) >"$work/install-files"
    if diff -u "$top/tests/toolchain/install-files.txt" "$work/install-files"; then
        pass "make install DESTDIR=... PREFIX=/usr installs exactly tests/toolchain/install-files.txt"
    else
        fail "make install: file list differs (above)"
    fi
    if file -b "$work/dest/usr/lib/edgeinit/init" | grep -q 'statically linked' &&
        ! readelf -S "$work/dest/usr/lib/edgeinit/init" | grep -q '\.symtab'; then
        pass "installed /init is static and stripped"
    else
        fail "installed /init is not static and stripped"
    fi
else
    cat "$work/install.log"; fail "make install failed"
fi
# The refusals are the same code installed or not: the checkout's tool (its own modules.d/).
mk=$top/tools/edgeinit-mkinitrd

# 2. A kernel without a module the boot needs is refused, naming it (and nothing is written).
kroot=$work/kernel-missing
rm -rf "$kroot"; mkdir -p "$kroot/lib/modules/$kver"
src=$build/kernel/lib/modules/$kver
for f in modules.builtin modules.alias modules.softdep modules.order; do
    [[ -e $src/$f ]] && cp "$src/$f" "$kroot/lib/modules/$kver/"
done
grep -v '/dm-verity\.ko' "$src/modules.dep" >"$kroot/lib/modules/$kver/modules.dep"
rm -f "$work/missing.img"
"$mk" --root "$kroot" --kver "$kver" --init "$build/init" --layout "$top/layout/layout.env" \
    -o "$work/missing.img" >"$work/missing.log" 2>&1
rc=$?
if ((rc == 1)) && grep -q "lacks modules the boot needs" "$work/missing.log" &&
    grep -q "^  dm_verity: dm-verity, to verify the root file system \[.*boot.list\]" "$work/missing.log" &&
    [[ ! -e $work/missing.img ]]; then
    pass "mkinitrd refuses a kernel without dm_verity, naming it and boot.list (exit $rc)"
else
    cat "$work/missing.log"; fail "mkinitrd against a kernel without dm_verity: exit $rc"
fi
"$mk" --root "$build/kernel" --kver "$kver" --init "$build/init" --layout "$top/layout/layout.env" \
    --modules "no_such_driver" -o "$work/missing.img" >"$work/missing2.log" 2>&1
rc=$?
if ((rc == 1)) && grep -q "^  no_such_driver: --modules" "$work/missing2.log" && [[ ! -e $work/missing.img ]]; then
    pass "mkinitrd refuses --modules no_such_driver, naming it (exit $rc)"
else
    cat "$work/missing2.log"; fail "mkinitrd --modules no_such_driver: exit $rc"
fi
# A kernel version that would lead outside the image root is refused before anything is read.
"$mk" --root "$build/kernel" --kver "../../../etc" --init "$build/init" --layout "$top/layout/layout.env" \
    -o "$work/kver.img" >"$work/kver.log" 2>&1
rc=$?
if ((rc == 1)) && grep -q "is not a kernel version" "$work/kver.log" && [[ ! -e $work/kver.img ]]; then
    pass "mkinitrd refuses --kver ../../../etc (exit $rc)"
else
    cat "$work/kver.log"; fail "mkinitrd --kver ../../../etc: exit $rc"
fi
# A list line that is not one module name is refused with file and line.
mkdir -p "$kroot/etc/edgeinit/modules.d"
printf 'nvme ahci\n' >"$kroot/etc/edgeinit/modules.d/local.list"
"$mk" --root "$kroot" --kver "$kver" --init "$build/init" -o "$work/missing.img" >"$work/badlist.log" 2>&1
rc=$?
if ((rc == 1)) && grep -q "local.list:1: expected one module name per line" "$work/badlist.log"; then
    pass "mkinitrd refuses a list line with two names, naming file and line"
else
    cat "$work/badlist.log"; fail "bad list line: exit $rc"
fi

# 3. A scratch image root: the reference rootfs, edgeinit installed into it, the kernel.
root=$work/root
if [[ ${KEEP_ROOT:-0} != 1 || ! -d $root ]]; then
    rm -rf "$root"
    cp -a "$build/rootfs/." "$root/" || { fail "cannot copy $build/rootfs"; exit 1; }
fi
make -s -C "$top" BUILD="$build" install DESTDIR="$root" PREFIX=/usr >>"$work/install.log" 2>&1 ||
    fail "make install into the image root"
rm -rf "$root/usr/lib/modules/$kver"
mkdir -p "$root/usr/lib/modules" "$root/boot"
cp -a "$build/kernel/lib/modules/$kver" "$root/usr/lib/modules/"
cp "$build/kernel/vmlinuz" "$root/boot/vmlinuz-$kver"
mkdir -p "$root/etc/kernel"
echo "layout=bls" >"$root/etc/kernel/install.conf"
sed "s/@ROOTHASH@/$(cat "$build/image/roothash")/" "$top/qemu/cmdline.happy" >"$root/etc/kernel/cmdline"
machine_id=0123456789abcdef0123456789abcdef
boot=$work/boot
rm -rf "$boot"; mkdir -p "$boot"

# By hand: the installed tool, the image root.
"$root/usr/bin/edgeinit-mkinitrd" --root "$root" --kver "$kver" -o "$work/by-hand.img" \
    >"$work/by-hand.log" 2>&1 || { cat "$work/by-hand.log"; fail "edgeinit-mkinitrd --root by hand"; }
# The default lists hold NVMe, AHCI, eMMC and the TPM drivers besides virtio.
listing=$("$root/usr/bin/edgeinit-mkinitrd" --root "$root" --kver "$kver" --list 2>/dev/null)
missing_drv=""
for ko in nvme.ko ahci.ko sdhci-pci.ko sdhci-acpi.ko mmc_block.ko virtio_blk.ko usb-storage.ko dm-verity.ko; do
    grep -q "/$ko\.zst\$" <<<"$listing" || missing_drv+=" $ko"
done
if [[ -z $missing_drv ]]; then
    pass "default initrd holds nvme, ahci, sdhci-pci, sdhci-acpi, mmc_block, virtio_blk, usb-storage, dm-verity"
else
    fail "default initrd lacks$missing_drv"
fi

# Modules are stored zstd-compressed, each the kernel package's bytes exactly once decompressed
# (its signature included); depmod's own inputs are left out.
unpacked=$work/by-hand.d
rm -rf "$unpacked"; mkdir -p "$unpacked"
# The archive itself is uncompressed by default (newc magic 070701), else zstd.
if [[ $(head -c6 "$work/by-hand.img") == 070701 ]]; then cat "$work/by-hand.img"; else zstd -dc "$work/by-hand.img"; fi |
    (cd "$unpacked" && cpio -idm --quiet 2>/dev/null)
n_zst=0 bad_zst=""
while IFS= read -r -d '' f; do
    rel=${f#"$unpacked/lib/modules/$kver/"}
    if zstd -dc "$f" | cmp -s - "$root/lib/modules/$kver/${rel%.zst}"; then
        n_zst=$((n_zst + 1))
    else
        bad_zst+=" $rel"
    fi
done < <(find "$unpacked/lib/modules/$kver" -name '*.ko.zst' -print0)
plain=$(find "$unpacked/lib/modules/$kver" -name '*.ko' | wc -l)
# Each frame declares its decompressed size (zstd frame header: Frame_Content_Size present),
# which /init needs to inflate a module in one call (init/module_image.c).
undeclared=$(find "$unpacked/lib/modules/$kver" -name '*.ko.zst' -print0 | python3 -c '
import sys
for path in sys.stdin.buffer.read().split(b"\0"):
    if path:
        head = open(path, "rb").read(5)
        fhd = head[4] if len(head) == 5 and head[:4] == b"\x28\xb5\x2f\xfd" else None
        if fhd is None or (fhd >> 6 == 0 and not fhd & 0x20):
            print(path.decode())') || undeclared="(the check itself failed)"
if ((n_zst > 20 && plain == 0)) && [[ -z $bad_zst && -z $undeclared ]] && [[ -e $unpacked/lib/modules/$kver/modules.dep.bin ]] &&
    [[ ! -e $unpacked/lib/modules/$kver/modules.order && ! -e $unpacked/lib/modules/$kver/modules.builtin.modinfo ]] &&
    grep -q 'kernel/fs/ext4/ext4\.ko\.zst:' "$unpacked/lib/modules/$kver/modules.dep"; then
    pass "initrd modules stored as .ko.zst ($n_zst, each the kernel's module once decompressed, its size declared), indexed by depmod"
else
    fail "initrd modules: $n_zst .ko.zst, $plain plain .ko, differing:${bad_zst:- none}, size not declared:${undeclared:- none}"
fi

# The image's own settings (ROOT/etc/edgeinit/mkinitrd.conf) choose the lists; the command line
# wins over them; a key the tool does not know stops it, naming the file and line.
mkdir -p "$root/etc/edgeinit"
printf '# a virtio-only image\nlists=fs,disk-virtio\n' >"$root/etc/edgeinit/mkinitrd.conf"
conf_list=$("$root/usr/bin/edgeinit-mkinitrd" --root "$root" --kver "$kver" --list 2>"$work/conf.log")
cli_list=$("$root/usr/bin/edgeinit-mkinitrd" --root "$root" --kver "$kver" --lists disk-nvme --list 2>/dev/null)
if grep -q '/virtio_blk\.ko\.zst$' <<<"$conf_list" && ! grep -q '/nvme\.ko\.zst$' <<<"$conf_list" &&
    grep -q '/dm-verity\.ko\.zst$' <<<"$conf_list" && grep -q "settings from .*mkinitrd.conf: lists=fs,disk-virtio" "$work/conf.log" &&
    grep -q '/nvme\.ko\.zst$' <<<"$cli_list" && ! grep -q '/virtio_blk\.ko\.zst$' <<<"$cli_list"; then
    pass "mkinitrd.conf's lists= chooses the lists (virtio_blk, no nvme), --lists overrides it"
else
    cat "$work/conf.log"; fail "mkinitrd.conf lists= or the --lists override"
fi
printf 'lists=fs\nlist=disk-nvme\n' >"$root/etc/edgeinit/mkinitrd.conf"
"$root/usr/bin/edgeinit-mkinitrd" --root "$root" --kver "$kver" -o "$work/conf.img" >"$work/conf-bad.log" 2>&1
rc=$?
if ((rc == 1)) && grep -q "mkinitrd.conf:2: expected KEY=VALUE" "$work/conf-bad.log" && [[ ! -e $work/conf.img ]]; then
    pass "mkinitrd.conf with an unknown key (list=) is refused, naming file and line (exit $rc)"
else
    cat "$work/conf-bad.log"; fail "mkinitrd.conf unknown key: exit $rc"
fi
rm -f "$root/etc/edgeinit/mkinitrd.conf"

# --host-only: the lists of disk controllers and TPMs give way to what this machine's boot disk
# uses (the disk's own driver, found up its /sys chain); NVMe/eMMC drivers it does not use go.
rootdev=$(stat -c '%Hd:%Ld' /)
d=$(readlink -f "/sys/dev/block/$rootdev" 2>/dev/null)
disk_driver=
while [[ -n $d && $d == /sys/devices/* ]]; do
    [[ -e $d/driver ]] && { disk_driver=$(basename "$(readlink -f "$d/driver")"); break; }
    d=${d%/*}
done
if [[ -n $disk_driver ]]; then
    host=$("$root/usr/bin/edgeinit-mkinitrd" --root "$root" --kver "$kver" --host-only --list 2>"$work/host-only.log")
    if grep -q "/${disk_driver//[-_]/[-_]}\.ko\.zst\$" <<<"$host" && ! grep -q '/sdhci-pci\.ko\.zst$' <<<"$host" &&
        grep -q '/dm-verity\.ko\.zst$' <<<"$host"; then
        pass "--host-only: holds this machine's disk driver $disk_driver and dm-verity, not sdhci-pci"
    else
        cat "$work/host-only.log"; fail "--host-only: lacks $disk_driver.ko or dm-verity.ko, or holds sdhci-pci.ko"
    fi
else
    echo "SKIP: --host-only (no driver found for the block device $rootdev holding /)"
fi

ki() {  # kernel-install as it runs in the image, chroot-free
    env EDGEINIT_ROOT="$root" KERNEL_INSTALL_CONF_ROOT="$root/etc/kernel" BOOT_ROOT="$boot" \
        MACHINE_ID=$machine_id \
        KERNEL_INSTALL_PLUGINS="$root/usr/lib/kernel/install.d/50-edgeinit.install /usr/lib/kernel/install.d/90-loaderentry.install" \
        kernel-install --verbose "$@"
}
if ki add "$kver" "$root/boot/vmlinuz-$kver" >"$work/kernel-install.log" 2>&1; then
    entry_initrd=$boot/$machine_id/$kver/initrd
    if cmp "$entry_initrd" "$work/by-hand.img"; then
        pass "kernel-install add (layout=bls) installs an initrd byte-identical to edgeinit-mkinitrd by hand ($(stat -c %s "$entry_initrd") bytes)"
    else
        fail "kernel-install's initrd differs from edgeinit-mkinitrd's"
    fi
    if grep -q "^initrd  *.*/$kver/initrd\$" "$boot/loader/entries/$machine_id-$kver.conf"; then
        pass "the loader entry names the initrd"
    else
        cat "$boot/loader/entries/$machine_id-$kver.conf"; fail "loader entry lacks the initrd"
    fi
else
    cat "$work/kernel-install.log"; fail "kernel-install add (layout=bls)"
fi
# Another initrd generator configured: the plugin stays out.
echo "initrd_generator=dracut" >>"$root/etc/kernel/install.conf"
rm -rf "$boot"; mkdir -p "$boot"
if ki add "$kver" "$root/boot/vmlinuz-$kver" >"$work/kernel-install-other.log" 2>&1 &&
    [[ ! -e $boot/$machine_id/$kver/initrd ]] && grep -q "initrd_generator=dracut, not building" "$work/kernel-install-other.log"; then
    pass "with initrd_generator=dracut the plugin builds nothing"
else
    cat "$work/kernel-install-other.log"; fail "initrd_generator=dracut"
fi

# layout=uki with the systemd stub in the image: a UKI, identical to mkuki by hand.
echo "layout=uki" >"$root/etc/kernel/install.conf"
mkdir -p "$root/usr/lib/systemd/boot/efi"
cp /usr/lib/systemd/boot/efi/linuxx64.efi.stub "$root/usr/lib/systemd/boot/efi/"
rm -rf "$boot"; mkdir -p "$boot"
if ki add "$kver" "$root/boot/vmlinuz-$kver" >"$work/kernel-install-uki.log" 2>&1; then
    uki=$boot/EFI/Linux/$machine_id-$kver.efi
    "$root/usr/lib/edgeinit/mkuki" --stub "$root/usr/lib/systemd/boot/efi/linuxx64.efi.stub" \
        --kernel "$root/boot/vmlinuz-$kver" --initrd "$work/by-hand.img" \
        --cmdline "$(cat "$root/etc/kernel/cmdline")" --osrel "$root/etc/os-release" \
        --out "$work/by-hand.efi" >/dev/null
    if [[ -f $uki ]] && cmp "$uki" "$work/by-hand.efi"; then
        pass "kernel-install add (layout=uki) installs a UKI byte-identical to mkuki by hand: $uki"
    else
        fail "layout=uki: no UKI at $uki or it differs from mkuki's"
    fi
else
    cat "$work/kernel-install-uki.log"; fail "kernel-install add (layout=uki)"
fi
rm -f "$root/usr/lib/systemd/boot/efi/linuxx64.efi.stub"
echo "layout=bls" >"$root/etc/kernel/install.conf"

((fails == 0)) && echo "toolchain-test: all passed" || echo "toolchain-test: $fails failed"
((fails == 0))
