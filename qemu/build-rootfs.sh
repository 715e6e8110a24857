#!/bin/bash
# Build the guest root filesystem tree (Debian bookworm, systemd) into OUTDIR.
# Usage: qemu/build-rootfs.sh OUTDIR
# The tree carries the boot-test unit (edgeinit-test.service) and a canary file
# whose hash is stored beside it, so the guest can prove dm-verity served good data.
# Cached: skipped when OUTDIR.stamp matches this script's own hash (edit the
# script and the rootfs is rebuilt; nothing else invalidates it).
set -euo pipefail

outdir=${1:?usage: $0 OUTDIR}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
stamp=$(sha256sum "${BASH_SOURCE[0]}" "$here/guest/edgeinit-test.sh" "$here/guest/edgeinit-test.service" | sha256sum | cut -d' ' -f1)

if [[ -d "$outdir" && -f "$outdir.stamp" && "$(cat "$outdir.stamp")" == "$stamp" ]]; then
    echo "build-rootfs: cached in $outdir"
    exit 0
fi

# The Debian archive apt is configured with on this machine (no mirror is written here).
mirror=${DEBIAN_MIRROR:-$("$(dirname "$(realpath "$0")")/../tools/apt-mirror.sh")}
tmp="$outdir.tmp"
rm -rf "$tmp"
mkdir -p "$(dirname "$outdir")"

# minbase + only what the guest needs: systemd as PID 1 after switch_root, udev
# for device nodes, kmod for late modules, systemd-boot for systemd-bless-boot (boot counting), and the tpm2-tss libraries that
# systemd-cryptenroll loads (an integrator enrolls the TPM from the running system);
# and what the image build installs next (qemu/build-image-root.sh): the kernel
# package's linux-base, edgeinit's own Depends (python3, binutils, zstd). Docs, man
# pages and locales are excluded at dpkg level so they never land in the image.
mmdebstrap --mode=root --variant=minbase --quiet \
    --include=systemd-sysv,udev,kmod,systemd-boot,libtss2-esys-3.0.2-0,libtss2-rc0,libtss2-mu0,libtss2-tcti-device0,linux-base,python3,binutils,zstd \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    bookworm "$tmp" "$mirror"

# edgeinit mounts / (verity, read-only) and /opt (persistent); systemd must not
# mount or remount anything from fstab, so it is empty.
: >"$tmp/etc/fstab"
mkdir -p "$tmp/opt"
echo edgeinit-test >"$tmp/etc/hostname"
# Empty machine-id: systemd mounts a transient one over it on a read-only root
# instead of running first-boot logic that wants to write /etc.
: >"$tmp/etc/machine-id"
# Files under layout.env's bind paths, for the layout boot tests (the image has
# no openssh; these stand in for its configuration).
mkdir -p "$tmp/etc/ssh"
echo "# ssh_config of image v1" >"$tmp/etc/ssh/ssh_config"
# layout.env binds /etc/machine-id from the persistent partition, so systemd writes
# the ID there directly; its "commit a transient machine-id" unit has nothing to
# do and would fail on a bind mount. Images with such a layout mask it.
ln -sf /dev/null "$tmp/etc/systemd/system/systemd-machine-id-commit.service"
# The ESP and the GPT partitions are not for systemd to automount.
mkdir -p "$tmp/etc/systemd/system-generators"
ln -sf /dev/null "$tmp/etc/systemd/system-generators/systemd-gpt-auto-generator"

# 1 MiB of deterministic pseudo-random bytes (SHA-256 in counter mode), plus its
# hash. Random-looking data cannot be mistaken for zeroed or duplicated blocks.
mkdir -p "$tmp/usr/share/edgeinit-test"
python3 - "$tmp/usr/share/edgeinit-test/canary" <<'PY'
import hashlib, sys
with open(sys.argv[1], "wb") as f:
    for i in range(1024 * 1024 // 32):
        f.write(hashlib.sha256(b"edgeinit-canary-%d" % i).digest())
PY
(cd "$tmp/usr/share/edgeinit-test" && sha256sum canary >canary.sha256)

install -D -m 0755 "$here/guest/edgeinit-test.sh" "$tmp/usr/lib/edgeinit-test/edgeinit-test.sh"
install -D -m 0644 "$here/guest/edgeinit-test.service" "$tmp/etc/systemd/system/edgeinit-test.service"
mkdir -p "$tmp/etc/systemd/system/multi-user.target.wants"
ln -sf ../edgeinit-test.service "$tmp/etc/systemd/system/multi-user.target.wants/edgeinit-test.service"
# The ESP at /efi on counted boots, where systemd-bless-boot needs it.
mkdir -p "$tmp/efi" "$tmp/etc/systemd/system/local-fs.target.wants"
install -m 0644 "$here/guest/efi.mount" "$tmp/etc/systemd/system/efi.mount"
ln -sf ../efi.mount "$tmp/etc/systemd/system/local-fs.target.wants/efi.mount"

# Sanity: the handover target must exist.
# Resolve inside the tree: its symlinks are absolute.
if [[ "$(chroot "$tmp" readlink -f /sbin/init)" != "$(chroot "$tmp" readlink -f /lib/systemd/systemd)" ]]; then
    echo "build-rootfs: /sbin/init is not systemd in $tmp" >&2
    exit 1
fi

rm -rf "$outdir" "$outdir.stamp"
mv "$tmp" "$outdir"
echo "$stamp" >"$outdir.stamp"
echo "build-rootfs: $(du -sh "$outdir" | cut -f1) in $outdir"
