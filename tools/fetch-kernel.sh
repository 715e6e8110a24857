#!/bin/bash
# Fetch the Debian bookworm guest kernel (image + modules + config) into OUTDIR.
# Usage: tools/fetch-kernel.sh OUTDIR
# Leaves OUTDIR/vmlinuz, OUTDIR/config, OUTDIR/lib/modules/<KVER>/, the package itself
# (OUTDIR/linux-image.deb, for the reference image root, which installs it) and OUTDIR/kver.
# Cached: a finished fetch writes OUTDIR/kver last, so its presence means "done".
set -euo pipefail

outdir=${1:?usage: $0 OUTDIR}
if [[ -s "$outdir/kver" && -s "$outdir/linux-image.deb" ]]; then
    echo "fetch-kernel: cached $(cat "$outdir/kver") in $outdir"
    exit 0
fi

# The metapackage depends on the current ABI's image package, e.g.
# linux-image-6.1.0-56-amd64; resolve it rather than hard-coding the ABI.
resolve() {
    apt-cache depends linux-image-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-amd64\)$/\1/p' | head -n1
}
pkg=$(resolve)
if [[ -z "$pkg" ]] && ((EUID == 0)); then
    # A fresh machine may have no package lists yet.
    echo "fetch-kernel: refreshing the apt package lists"
    apt-get update -q
    pkg=$(resolve)
fi
if [[ -z "$pkg" ]]; then
    echo "fetch-kernel: cannot resolve linux-image-amd64 from the apt sources; run 'apt-get update' as root" >&2
    exit 1
fi
kver=${pkg#linux-image-}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# apt downloads as the unprivileged _apt user when it can write the target
# directory; give it this one so the download stays sandboxed.
chmod 0755 "$tmp"
if ((EUID == 0)) && getent passwd _apt >/dev/null; then chown _apt "$tmp"; fi

# apt-get download verifies the .deb's hash against the Packages index, which
# is itself authenticated by the archive's signed (In)Release file, so no extra
# signature check is needed here. It writes into the current directory.
(cd "$tmp" && apt-get download -q "$pkg")
deb=$(find "$tmp" -maxdepth 1 -name "${pkg}_*.deb" | head -n1)
[[ -n "$deb" ]] || { echo "fetch-kernel: download of $pkg failed" >&2; exit 1; }

mkdir -p "$tmp/x"
dpkg-deb -x "$deb" "$tmp/x"

mkdir -p "$outdir/lib/modules"
rm -rf "${outdir:?}/lib/modules/$kver"
cp -a "$tmp/x/lib/modules/$kver" "$outdir/lib/modules/"
# The .deb ships no modules.dep/alias (its postinst runs depmod); make them,
# since mkinitrd resolves dependencies from them.
depmod -b "$outdir" "$kver"
cp "$tmp/x/boot/vmlinuz-$kver" "$outdir/vmlinuz"
cp "$tmp/x/boot/config-$kver" "$outdir/config"
basename "$deb" >"$outdir/package"
cp "$deb" "$outdir/linux-image.deb"
echo "$kver" >"$outdir/kver.tmp"
mv "$outdir/kver.tmp" "$outdir/kver"
echo "fetch-kernel: $kver -> $outdir"
