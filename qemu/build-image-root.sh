#!/bin/bash
# Build the reference image root the integrator's way: the edgeinit package and the root's own
# kernel package are installed into a copy of the base tree (qemu/build-rootfs.sh) with dpkg, and
# `kernel-install add` inside the root makes the initrd the image boots.
#
#   qemu/build-image-root.sh BASE_ROOTFS KERNEL_DIR EDGEINIT_DEB OUTDIR
#
# KERNEL_DIR is tools/fetch-kernel.sh's (linux-image.deb, kver). Leaves the tree in OUTDIR and,
# in OUTDIR.boot/, what the ESP's UKI is made of: vmlinuz and initrd.img, copied out of the root
# (the initrd is kernel-install's, which must be byte-identical to the one the kernel package's
# hook wrote to /boot and to edgeinit-mkinitrd run by hand in the root), and kver.
# OUTDIR.stamp is written last. Cached: skipped while the stamp matches this script, the base
# tree's stamp and the two packages.
set -euo pipefail

base=${1:?usage: $0 BASE_ROOTFS KERNEL_DIR EDGEINIT_DEB OUTDIR}
kernel_dir=${2:?usage}
edgeinit_deb=${3:?usage}
outdir=${4:?usage}
kernel_deb=$kernel_dir/linux-image.deb
for f in "$base.stamp:qemu/build-rootfs.sh" "$kernel_deb:tools/fetch-kernel.sh" "$kernel_dir/kver:tools/fetch-kernel.sh" \
    "$edgeinit_deb:tools/build-deb.sh"; do
    [[ -s "${f%%:*}" ]] || { echo "build-image-root: missing ${f%%:*} (run ${f#*:})" >&2; exit 1; }
done
kver=$(cat "$kernel_dir/kver")
# The image targets QEMU's machine: its initrd takes the lists and modules of `make initrd`
# (INITRD_LISTS, EXTRA_MODULES), not edgeinit-mkinitrd's default of every list.
lists=${INITRD_LISTS:-boot fs luks disk-virtio disk-usb tpm}
extra=${EXTRA_MODULES:-}
stamp=$( (cat "${BASH_SOURCE[0]}" "$base.stamp" "$kernel_deb" "$edgeinit_deb"; echo "$lists:$extra") | sha256sum | cut -d' ' -f1)
if [[ -d "$outdir" && "$(cat "$outdir.stamp" 2>/dev/null)" == "$stamp" ]]; then
    echo "build-image-root: cached in $outdir"
    exit 0
fi

tmp=$outdir.tmp
rm -rf "$tmp" "$outdir.boot.tmp"
cp -a "$base" "$tmp"
mkdir -p "$outdir.boot.tmp"
# What the image build runs in the root sees nothing of this shell's environment but a fixed
# PATH and, when the build sets one, SOURCE_DATE_EPOCH (the initrd's mtimes).
in_root() {
    chroot "$tmp" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin ${SOURCE_DATE_EPOCH:+SOURCE_DATE_EPOCH=$SOURCE_DATE_EPOCH} "$@"
}

# 1. The image's choice of module lists (/etc/edgeinit/mkinitrd.conf), then the packages, in
# one dpkg run: edgeinit provides linux-initramfs-tool, which the kernel
# package needs, so no initramfs-tools comes in; the kernel's postinst then runs edgeinit's
# /etc/kernel/postinst.d hook, which writes /boot/initrd.img-KVER. A headless edge image drops
# the kernel's drivers for GPUs, sound, media, Wi-Fi and InfiniBand (a third of the modules); the
# initrd builder refuses the image if a module its lists name is gone.
mkdir -p "$tmp/etc/edgeinit"
{
    echo "# The reference image boots in QEMU (virtio disks, USB, TIS or CRB TPM)."
    echo "lists=$(echo "$lists" | tr ' ' ',')"
    [[ -z "$extra" ]] || echo "modules=$extra"
} >"$tmp/etc/edgeinit/mkinitrd.conf"
cp "$kernel_deb" "$tmp/tmp/linux-image.deb"
cp "$edgeinit_deb" "$tmp/tmp/edgeinit.deb"
excludes=()
for d in drivers/gpu sound drivers/media drivers/net/wireless drivers/infiniband; do
    excludes+=("--path-exclude=/lib/modules/*/kernel/$d/*" "--path-exclude=/usr/lib/modules/*/kernel/$d/*")
done
in_root dpkg "${excludes[@]}" -i /tmp/edgeinit.deb /tmp/linux-image.deb
rm -f "$tmp/tmp/linux-image.deb" "$tmp/tmp/edgeinit.deb"
[[ -s "$tmp/boot/initrd.img-$kver" ]] || { echo "build-image-root: the kernel's postinst made no /boot/initrd.img-$kver" >&2; exit 1; }

# 2. The integrator's step: kernel-install with the Boot Loader Specification layout. The BLS
# entry goes to a scratch boot root (the image boots a UKI from its ESP, built from the files
# copied out below), removed afterwards; the entry token names the image, since the root has no
# machine ID. Debian's 85-initrd.install would stage /boot/initrd.img-KVER (the hook's, the same
# bytes) as a second initrd of the entry: the image masks it, as edgeinit-mkinitrd(8) says.
mkdir -p "$tmp/etc/kernel/install.d" "$tmp/var/tmp/bls"
ln -sf /dev/null "$tmp/etc/kernel/install.d/85-initrd.install"
echo "layout=bls" >"$tmp/etc/kernel/install.conf"
echo "edgeinit-reference" >"$tmp/etc/kernel/entry-token"
echo "console=ttyS0" >"$tmp/etc/kernel/cmdline"
in_root env BOOT_ROOT=/var/tmp/bls MACHINE_ID=0123456789abcdef0123456789abcdef \
    kernel-install --verbose add "$kver" "/boot/vmlinuz-$kver" >"$outdir.boot.tmp/kernel-install.log" 2>&1 || {
    cat "$outdir.boot.tmp/kernel-install.log" >&2
    echo "build-image-root: kernel-install add $kver failed in the root (above)" >&2
    exit 1
}
bls_initrd=$(find "$tmp/var/tmp/bls" -path "*/$kver/initrd" | head -n1)
[[ -n "$bls_initrd" ]] || { echo "build-image-root: kernel-install installed no initrd (see $outdir.boot.tmp/kernel-install.log)" >&2; exit 1; }
entry=$(find "$tmp/var/tmp/bls/loader/entries" -name "*$kver*.conf" | head -n1)
initrd_lines=$(grep -c '^initrd ' "$entry" 2>/dev/null || true)
[[ "$initrd_lines" == 1 ]] || { echo "build-image-root: the BLS entry ${entry#"$tmp"} has ${initrd_lines:-no} initrd lines, not 1" >&2; exit 1; }
# 3. By hand, as edgeinit-mkinitrd(8) says: the same bytes three ways.
in_root edgeinit-mkinitrd --kver "$kver" -o /var/tmp/by-hand.img
for f in "$tmp/boot/initrd.img-$kver" "$tmp/var/tmp/by-hand.img"; do
    cmp "$bls_initrd" "$f" || { echo "build-image-root: ${f#"$tmp"} differs from kernel-install's initrd" >&2; exit 1; }
done
cp "$bls_initrd" "$outdir.boot.tmp/initrd.img"
cp "$tmp/boot/vmlinuz-$kver" "$outdir.boot.tmp/vmlinuz"
echo "$kver" >"$outdir.boot.tmp/kver"
rm -rf "$tmp/var/tmp/bls" "$tmp/var/tmp/by-hand.img"

rm -rf "$outdir" "$outdir.boot" "$outdir.stamp"
mv "$tmp" "$outdir"
mv "$outdir.boot.tmp" "$outdir.boot"
echo "$stamp" >"$outdir.stamp"
echo "build-image-root: $(du -sh "$outdir" | cut -f1) in $outdir; initrd $(stat -c %s "$outdir.boot/initrd.img") bytes for $kver, the same from kernel-install, the kernel's hook and by hand"
