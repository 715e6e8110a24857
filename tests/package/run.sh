#!/bin/bash
# Package tests: the edgeinit .deb and RPM build from this tree, carry exactly the install layout
# (tests/package/files.txt), carry the same files and the same /init as each other, the .deb is
# lintian-clean, and it installs into a copy of the reference image root.
#
#   tests/package/run.sh <deps prefix> <reference rootfs> <work dir> [<kernel dir>]
#
# <kernel dir> (as tools/fetch-kernel.sh makes it, build/kernel): put into the image root, then
# `kernel-install add` there must give the same initrd as the packaged edgeinit-mkinitrd by hand.
#
# The packages are built from a copy of the tracked (and new, not ignored) files of this tree
# (tools/build-deb.sh, in DEB_WORK or <work dir>/deb-build), never in the checkout:
# dpkg-buildpackage writes its results into the parent directory. The dependency prefix is copied
# in (23 MB) and must be reused, not rebuilt: the test fails if either build fetches or builds a
# library. <deps prefix>.cache/src, when present, provides the RPM's Source1..25 (the pinned
# dependency sources).
set -euo pipefail

deps=$(realpath "${1:?usage: $0 <deps prefix> <reference rootfs> <work dir>}")
rootfs=$(realpath "${2:?usage}")
work=$(realpath -m "${3:?usage}")
kernel=${4:+$(realpath "$4")}
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../.." && pwd)
expected=$here/files.txt

fails=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
die() { echo "FAIL: $*"; exit 1; }
start=$SECONDS
elapsed() { echo "$((SECONDS - start)) s"; }

# Tools beyond tools/deps.sh's list (Debian packages: debhelper lintian rpm).
for t in dpkg-buildpackage dh lintian rpmbuild rpm2cpio; do
    command -v "$t" >/dev/null || die "$t is missing: apt-get install debhelper lintian rpm"
done
[[ -f "$deps/stamp" ]] || die "$deps is not a dependency prefix (no stamp): run make first"
[[ -d "$rootfs/var/lib/dpkg" ]] || die "$rootfs is not a Debian image root"

version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
spec_version=$(awk '$1 == "Version:" { print $2 }' "$top/packaging/rpm/edgeinit.spec")
if [[ "$version" == "$spec_version" ]]; then
    pass "debian/changelog and the spec have the same version ($version)"
else
    fail "debian/changelog says $version, packaging/rpm/edgeinit.spec says $spec_version"
fi
# The spec's Source1..N are deps.lock's files, in order (the source RPM is complete source).
if diff <(awk '$1 == "file" { print $5 }' "$top/deps.lock") \
    <(sed -n 's/^Source[1-9][0-9]*: *//p' "$top/packaging/rpm/edgeinit.spec"); then
    pass "the spec's Source1..N are exactly deps.lock's files"
else
    fail "the spec's Source1..N differ from deps.lock's files (diff above)"
fi

# The .deb and the source package, from a copy of the tree (tools/build-deb.sh).
# In DEB_WORK when given (the reference image's build shares it: one package build serves both).
debwork=${DEB_WORK:-$work/deb-build}
rm -rf "$work"
mkdir -p "$work"
if "$top/tools/build-deb.sh" --source "$deps" "$debwork" >"$work/build-deb.log" 2>&1; then
    pass "dpkg-source -b and dpkg-buildpackage -b -us -uc build ($(du -h "$debwork/deb/edgeinit_$version.tar.xz" | cut -f1) source, $(elapsed))"
else
    cat "$work/build-deb.log"
    die "tools/build-deb.sh failed (above)"
fi
src=$debwork/deb/edgeinit-$version
if grep -qE 'build-deps: (fetching|building)' "$debwork/deb/build.log"; then
    fail "the .deb build rebuilt the dependency prefix instead of reusing it"
else
    pass "the .deb build reused the dependency prefix"
fi
deb=$debwork/deb/edgeinit_${version}_amd64.deb
[[ -f "$deb" ]] || die "no $deb"

# The file list: exactly files.txt (regular files and symlinks; directories are implied).
dpkg-deb -c "$deb" | awk '$1 !~ /^d/ { sub(/^\./, "", $6); print $6 }' | sort >"$work/deb.files"
if diff -u "$expected" "$work/deb.files"; then
    pass "dpkg-deb -c matches tests/package/files.txt ($(wc -l <"$expected") files)"
else
    fail "dpkg-deb -c differs from tests/package/files.txt (diff above: - expected, + .deb)"
fi
# ... and exactly what `make install` installs (tests/toolchain/install-files.txt), plus the
# Debian documentation, lintian overrides and kernel hooks (Debian's postinst.d/postrm.d convention).
if [[ -f "$top/tests/toolchain/install-files.txt" ]]; then
    if diff -u <(sed 's|^|/|' "$top/tests/toolchain/install-files.txt" | sort) \
        <(grep -vE '^/usr/share/doc/edgeinit/|^/usr/share/lintian/overrides/edgeinit$|^/etc/kernel/' "$work/deb.files" |
            sed -E 's|^(/usr/share/man/.*)\.gz$|\1|' | sort); then
        pass "the .deb installs exactly make install's files (tests/toolchain/install-files.txt)"
    else
        fail "the .deb's files differ from make install's (diff above: - make install, + .deb)"
    fi
fi
mkdir -p "$work/deb-x"
dpkg-deb -x "$deb" "$work/deb-x"
# make install ships /init stripped: check the unstripped build/init of the package build (static,
# no dlopen) and that the packaged file is exactly it, stripped.
if "$top/tests/static/check-init.sh" "$src/build/init"; then
    pass "the package build's /init is static (tests/static/check-init.sh)"
else
    fail "the package build's /init fails tests/static/check-init.sh"
fi
strip --strip-all -o "$work/init.stripped" "$src/build/init"
if cmp "$work/init.stripped" "$work/deb-x/usr/lib/edgeinit/init"; then
    pass "the .deb's /usr/lib/edgeinit/init is that /init, stripped"
else
    fail "the .deb's /usr/lib/edgeinit/init is not the package build's /init, stripped"
fi
built_using=$(dpkg-deb -f "$deb" Built-Using)
missing_bu=()
for p in $(awk '$1 == "file" { print $2 }' "$top/deps.lock" | sort -u) musl; do
    [[ "$built_using" == *"$p (= "* ]] || missing_bu+=("$p")
done
if ((${#missing_bu[@]} == 0)); then
    pass "Built-Using names every statically linked source package: $built_using"
else
    fail "Built-Using lacks ${missing_bu[*]}: $built_using"
fi

echo "package-test: lintian (log: $work/lintian.log)"
if lintian --fail-on error,warning "$debwork"/deb/edgeinit_*.changes "$debwork/deb/edgeinit_$version.dsc" \
    >"$work/lintian.log" 2>&1; then
    pass "lintian (source and .deb): no errors or warnings ($(grep -c . "$work/lintian.log" || true) other lines) ($(elapsed))"
else
    cat "$work/lintian.log"
    fail "lintian reports errors or warnings (above)"
fi

# --- RPM ------------------------------------------------------------------------------------
top_rpm=$work/rpm
mkdir -p "$top_rpm/SOURCES"
tar -C "$top" --null -T "$debwork/files0" --transform "s|^|edgeinit-$version/|" \
    --owner=0 --group=0 --numeric-owner -czf "$top_rpm/SOURCES/edgeinit-$version.tar.gz"
if [[ -d "$deps.cache/src" ]]; then
    cp -p "$deps.cache/src"/* "$top_rpm/SOURCES/"
fi
echo "package-test: rpmbuild (log: $top_rpm/build.log)"
# --nodeps: this is a Debian host, rpm's database knows none of the BuildRequires.
if rpmbuild -bb --nodeps --define "_topdir $top_rpm" --define "edgeinit_deps $deps" \
    "$top/packaging/rpm/edgeinit.spec" >"$top_rpm/build.log" 2>&1; then
    pass "rpmbuild -bb packaging/rpm/edgeinit.spec builds ($(elapsed))"
else
    tail -n 40 "$top_rpm/build.log"
    die "rpmbuild failed: $top_rpm/build.log"
fi
if grep -qE 'build-deps: (fetching|building)' "$top_rpm/build.log"; then
    fail "the RPM build rebuilt the dependency prefix instead of reusing it"
fi
rpm=$(ls "$top_rpm"/RPMS/x86_64/edgeinit-"$version"-*.x86_64.rpm)
rpm -qp --qf '[%{FILEMODES:perms} %{FILENAMES}\n]' "$rpm" | awk '$1 !~ /^d/ { print $2 }' | sort >"$work/rpm.files"
# Same files once the distributions' conventions are set aside: compressed man pages, and the
# documentation and licence directories (compared separately below).
normalise() { sed -E 's/\.gz$//' "$1" | grep -vE '^/usr/share/(doc|licenses)/edgeinit/|^/usr/share/lintian/overrides/edgeinit$|^/etc/kernel/' | sort; }
if diff -u <(normalise "$work/deb.files") <(normalise "$work/rpm.files"); then
    pass "rpm -qlp matches the .deb's file list (man page compression and doc dirs aside)"
else
    fail "rpm -qlp differs from the .deb's file list (diff above: - .deb, + .rpm)"
fi
for f in /usr/share/doc/edgeinit/RELINKING /usr/share/licenses/edgeinit/copyright \
    /usr/share/licenses/edgeinit/GPL-3 /usr/share/licenses/edgeinit/LGPL-2.1 \
    /usr/share/licenses/edgeinit/Apache-2.0; do
    grep -qxF "$f" "$work/rpm.files" || fail "the RPM lacks $f"
done
for f in /usr/share/doc/edgeinit/RELINKING /usr/share/doc/edgeinit/copyright; do
    grep -qxF "$f" "$work/deb.files" || fail "the .deb lacks $f"
done
mkdir -p "$top_rpm/x"
(cd "$top_rpm/x" && rpm2cpio "$rpm" | cpio -idm --quiet)
# Same tree, same prefix, same version string: the same bytes (neither package strips /init).
if cmp "$work/deb-x/usr/lib/edgeinit/init" "$top_rpm/x/usr/lib/edgeinit/init"; then
    pass "the .deb and the RPM carry the same /init, byte for byte"
else
    fail "the .deb's and the RPM's /init differ"
fi

# --- install into an image root ---------------------------------------------------------------
# A copy of the reference rootfs (a minbase Debian root); dpkg --root installs the .deb as an
# image build would, without chroot. The root lacks some of the package's Depends (the image
# builder would pull them from the archive): the test lets dpkg proceed past exactly those
# and checks that they are real packages of this machine's archive.
root=$work/root
echo "package-test: dpkg --root into a copy of $rootfs"
cp -a "$rootfs" "$root"
unmet=()
for p in $(dpkg-deb -f "$deb" Depends | tr ',' '\n' | sed -E 's/\(.*\)//; s/\|.*//; s/ //g'); do
    dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Status}' "$p" 2>/dev/null |
        grep -qx installed || unmet+=("$p")
done
ignore=$(
    IFS=,
    echo "${unmet[*]}"
)
if ((${#unmet[@]})) && ! apt-cache show "${unmet[@]}" >/dev/null 2>&1; then
    fail "Depends not in the image root and not in the archive either: ${unmet[*]}"
fi
if dpkg --root="$root" ${ignore:+--ignore-depends="$ignore"} \
    -i "$deb" >"$work/install.log" 2>&1; then
    pass "dpkg --root installs the .deb into a copy of the reference rootfs (root lacked: ${unmet[*]:-nothing})"
else
    cat "$work/install.log"
    fail "dpkg --root -i failed (above)"
fi
status=$(dpkg-query --admindir="$root/var/lib/dpkg" -W -f='${db:Status-Abbrev}' edgeinit 2>/dev/null || true)
[[ "$status" == "ii " ]] || fail "edgeinit's status in the image root is '$status', not installed"
while read -r f; do
    [[ -e "$root$f" || -L "$root$f" ]] || fail "$f missing in the image root after installing"
done <"$expected"
if cmp -s "$root/usr/lib/edgeinit/init" "$work/deb-x/usr/lib/edgeinit/init" &&
    [[ -x "$root/usr/lib/edgeinit/init" && -x "$root/usr/bin/edgeinit-mkinitrd" &&
        -x "$root/usr/lib/kernel/install.d/50-edgeinit.install" ]]; then
    pass "the image root has /usr/lib/edgeinit/init, edgeinit-mkinitrd and the kernel-install plugin, executable"
else
    fail "the installed files in the image root are not the package's or not executable"
fi

# The image's kernel goes in (the reference guest kernel, build/kernel), then the integrator's
# step: kernel-install add, chroot-free as in an image build (EDGEINIT_ROOT; the host's
# kernel-install, systemd 252), must give the same initrd as the installed edgeinit-mkinitrd
# run by hand against the root.
if [[ -n "$kernel" ]]; then
    kver=$(cat "$kernel/kver")
    mkdir -p "$root/usr/lib/modules" "$root/boot" "$root/etc/kernel"
    rm -rf "$root/usr/lib/modules/$kver"
    cp -a "$kernel/lib/modules/$kver" "$root/usr/lib/modules/"
    cp "$kernel/vmlinuz" "$root/boot/vmlinuz-$kver"
    echo "layout=bls" >"$root/etc/kernel/install.conf"
    echo "console=ttyS0" >"$root/etc/kernel/cmdline"
    if "$root/usr/bin/edgeinit-mkinitrd" --root "$root" --kver "$kver" -o "$work/by-hand.img" \
        >"$work/by-hand.log" 2>&1; then
        pass "the packaged edgeinit-mkinitrd --root builds an initrd for the image's kernel $kver"
    else
        cat "$work/by-hand.log"
        fail "the packaged edgeinit-mkinitrd --root failed (above)"
    fi
    machine_id=0123456789abcdef0123456789abcdef
    boot=$work/boot
    mkdir -p "$boot"
    if env EDGEINIT_ROOT="$root" KERNEL_INSTALL_CONF_ROOT="$root/etc/kernel" BOOT_ROOT="$boot" \
        MACHINE_ID=$machine_id \
        KERNEL_INSTALL_PLUGINS="$root/usr/lib/kernel/install.d/50-edgeinit.install /usr/lib/kernel/install.d/90-loaderentry.install" \
        kernel-install --verbose add "$kver" "$root/boot/vmlinuz-$kver" >"$work/kernel-install.log" 2>&1 &&
        cmp "$boot/$machine_id/$kver/initrd" "$work/by-hand.img"; then
        pass "kernel-install add in the image root installs an initrd byte-identical to edgeinit-mkinitrd by hand ($(stat -c %s "$work/by-hand.img") bytes)"
    else
        cat "$work/kernel-install.log"
        fail "kernel-install add in the image root: failed or a different initrd (above)"
    fi
fi

echo "package-test: done in $(elapsed), $fails failure(s)"
((fails == 0))
