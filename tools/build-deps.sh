#!/bin/bash
# Build the static musl libraries that build/init links (libcryptsetup, libdevmapper, libblkid,
# libmount, libuuid, libkmod, json-c, mbedTLS, tpm2-tss) from the Debian source packages pinned
# in deps.lock.
#
#   tools/build-deps.sh <deps.lock> <out dir>
#
# Result: <out>/sysroot/usr/{include,lib,lib/pkgconfig} (everything installed with prefix /usr
# and DESTDIR, so no build path is compiled in and the tree can be moved), <out>/kinc (kernel
# headers for musl-gcc) and <out>/stamp (hash of the inputs; the Makefile rebuilds when it
# changes). Downloads are kept in <out>.cache and checked against deps.lock on every use.
#
# All-or-nothing: everything is built in <out>.tmp and renamed to <out> only at the very end, so
# an interrupted or failed run leaves either the previous complete prefix or none.
# DEPS_RESUME=1 (development only) keeps <out>.tmp and skips packages already built there.
set -euo pipefail

die() { echo "build-deps: error: $*" >&2; exit 1; }
log() { echo "build-deps: $*" >&2; }

(($# == 2)) || die "usage: $0 <deps.lock> <out dir>"
LOCK=$(realpath "$1")
OUT=$(realpath -m "$2")
CACHE=$OUT.cache
TMP=$OUT.tmp
SCRIPT=$(realpath "$0")
# Fixes of our own to the Debian sources, applied after Debian's: tools/patches/<package>/*.patch
PATCHES=$(dirname "$SCRIPT")/patches
JOBS=${JOBS:-$(nproc)}

# --- deps.lock ---------------------------------------------------------------------------------

MIRROR=
declare -A PKG_VERSION=() PKG_SUITE=() FILE_SHA=() FILE_PKG=()
FILES=()
while read -r kind a b c d e rest; do
    case "$kind" in
    '' | '#'*) continue ;;
    mirror) MIRROR=$a ;;
    file)
        [[ -n "$e" && -z "$rest" ]] || die "$LOCK: malformed line: file $a $b $c $d $e $rest"
        [[ "$e" =~ ^[0-9a-f]{64}$ ]] || die "$LOCK: bad SHA-256 for $d"
        PKG_VERSION[$a]=$b
        PKG_SUITE[$a]=$c
        FILE_SHA[$d]=$e
        FILE_PKG[$d]=$a
        FILES+=("$d")
        ;;
    *) die "$LOCK: unknown line kind '$kind'" ;;
    esac
done <"$LOCK"
# No mirror is written in the repository: the machine's own apt configuration names it (a
# 'mirror' line in the lock file, or DEBIAN_MIRROR=, still overrides it).
MIRROR=${DEBIAN_MIRROR:-$MIRROR}
[[ -n "$MIRROR" ]] || MIRROR=$("$(dirname "$SCRIPT")/apt-mirror.sh") || die "cannot tell which Debian mirror apt uses"

# Files of the cache that are missing or do not match deps.lock.
unverified_files() {
    local f
    for f in "${FILES[@]}"; do
        if [[ ! -f "$CACHE/src/$f" ]] ||
            [[ "$(sha256sum <"$CACHE/src/$f" | cut -d' ' -f1)" != "${FILE_SHA[$f]}" ]]; then
            echo "$f"
        fi
    done
}

# --- fetch: apt-get source through a private sources list ---------------------------------------

# apt is pointed at files under the cache only (sources list, lists, archives), so the machine's
# own apt configuration and state are neither read for sources nor changed.
fetch() {
    local apt_dir=$CACHE/apt suite pkg f lacking
    local -a apt_opts specs=() bad=()
    mkdir -p "$apt_dir/lists/partial" "$apt_dir/archives/partial" "$CACHE/src"
    {
        echo "# Written by tools/build-deps.sh from deps.lock; used only with -o Dir::Etc::SourceList."
        for suite in $(printf '%s\n' "${PKG_SUITE[@]}" | sort -u); do
            echo "deb-src $MIRROR $suite main"
        done
    } >"$apt_dir/sources.list"
    apt_opts=(-o "Dir::Etc::SourceList=$apt_dir/sources.list" -o Dir::Etc::SourceParts=/dev/null
        -o "Dir::State::Lists=$apt_dir/lists" -o "Dir::Cache=$apt_dir" -o "Dir::Cache::archives=$apt_dir/archives"
        -o APT::Get::List-Cleanup=0 -q)
    # As root, apt drops to _apt for downloads, which cannot write into build/: stay root.
    ((EUID != 0)) || apt_opts+=(-o APT::Sandbox::User=root)
    log "fetching source packages from $MIRROR"
    apt-get "${apt_opts[@]}" update >"$apt_dir/update.log" 2>&1 ||
        { cat "$apt_dir/update.log" >&2; die "apt-get update of the private deb-src list failed"; }
    for pkg in $(printf '%s\n' "${!PKG_VERSION[@]}" | sort); do
        specs+=("$pkg=${PKG_VERSION[$pkg]}")
    done
    # One call per package so that a package whose files the mirror lacks is named.
    for pkg in "${specs[@]}"; do
        (cd "$CACHE/src" && apt-get "${apt_opts[@]}" source --download-only "$pkg") \
            >"$apt_dir/source.log" 2>&1 || {
            cat "$apt_dir/source.log" >&2
            lacking=$(sed -n 's|^E: Failed to fetch [^ ]*/\([^/ ]*\) .*|\1|p' "$apt_dir/source.log" | tr '\n' ' ')
            [[ -z "$lacking" ]] ||
                die "the mirror $MIRROR lacks ${lacking% } of source package $pkg (pinned in $LOCK)"
            die "cannot download source package $pkg (pinned in $LOCK): see the apt output above"
        }
    done
    mapfile -t bad < <(unverified_files)
    for f in "${bad[@]}"; do
        if [[ -f "$CACHE/src/$f" ]]; then
            log "$f: SHA-256 $(sha256sum <"$CACHE/src/$f" | cut -d' ' -f1), $LOCK pins ${FILE_SHA[$f]}"
        else
            log "$f: not on the mirror $MIRROR (pinned in $LOCK for ${FILE_PKG[$f]})"
        fi
    done
    ((${#bad[@]} == 0)) || die "${#bad[@]} file(s) of $LOCK missing or different: ${bad[*]}"
}

# --- build environment --------------------------------------------------------------------------

# libcryptsetup's crypto backend: nettle (default; hashes in user space) or kernel (AF_ALG
# only, no nettle in /init: slower keyslots; see README, "Licences").
CRYPTSETUP_CRYPTO_BACKEND=${CRYPTSETUP_CRYPTO_BACKEND:-nettle}
[[ "$CRYPTSETUP_CRYPTO_BACKEND" == nettle || "$CRYPTSETUP_CRYPTO_BACKEND" == kernel ]] ||
    die "CRYPTSETUP_CRYPTO_BACKEND must be nettle or kernel"

inputs_hash() {
    # The prefix depends on the pinned sources, this recipe, the backend and the compiler.
    { cat "$LOCK" "$SCRIPT" "$PATCHES"/*/*.patch; musl-gcc --version; dpkg-query -W musl-dev; echo "$CRYPTSETUP_CRYPTO_BACKEND"; } |
        sha256sum | cut -d' ' -f1
}

setup_env() {
    DEST=$TMP/sysroot
    SRC=$TMP/src
    KINC=$TMP/kinc
    mkdir -p "$DEST/usr/lib/pkgconfig" "$DEST/usr/include" "$SRC" "$KINC"
    # musl-gcc hides /usr/include (glibc's). The libraries need the kernel's uapi headers only:
    # offer exactly those, searched after musl's own headers.
    local d
    for d in linux asm-generic mtd scsi; do
        [[ -e "$KINC/$d" ]] || ln -s "/usr/include/$d" "$KINC/$d"
    done
    [[ -e "$KINC/asm" ]] || ln -s /usr/include/x86_64-linux-gnu/asm "$KINC/asm"

    export CC=musl-gcc AR=ar RANLIB=ranlib
    # Deterministic archives (zero timestamps/uids), whatever the binutils default.
    export ARFLAGS=crD AR_FLAGS=crD
    # A fixed date: the libraries do not depend on edgeinit's commit.
    export SOURCE_DATE_EPOCH=1672531200 TZ=UTC LC_ALL=C
    # Build and install paths never reach the objects (__FILE__, debug info).
    BASE_CFLAGS="-Os -ffunction-sections -fdata-sections -fno-plt -ffile-prefix-map=$SRC=/usr/src -ffile-prefix-map=$DEST=/sysroot -idirafter $KINC"
    export CFLAGS=$BASE_CFLAGS
    export CPPFLAGS="-I$DEST/usr/include"
    export LDFLAGS="-L$DEST/usr/lib"
    # Only this prefix's .pc files, never the host's glibc ones; paths in them are /usr/...,
    # prefixed with the sysroot by pkg-config.
    export PKG_CONFIG_LIBDIR=$DEST/usr/lib/pkgconfig PKG_CONFIG_SYSROOT_DIR=$DEST PKG_CONFIG_PATH=
    unset MAKEFLAGS MFLAGS MAKELEVEL
}

# Unpack a package with its Debian patches and ours into $SRC/<pkg>; cd there.
unpack() {
    local pkg=$1 dsc='' f
    for f in "${FILES[@]}"; do
        if [[ "${FILE_PKG[$f]}" == "$pkg" && "$f" == *.dsc ]]; then dsc=$f; fi
    done
    [[ -n "$dsc" ]] || die "$LOCK lists no .dsc for $pkg"
    rm -rf "${SRC:?}/$pkg"
    # The files were checked against deps.lock already; the .dsc signature is not (no keyring).
    dpkg-source --no-check -x "$CACHE/src/$dsc" "$SRC/$pkg" >"$SRC/$pkg.unpack.log" 2>&1 ||
        { cat "$SRC/$pkg.unpack.log" >&2; die "dpkg-source -x $dsc failed"; }
    cd "$SRC/$pkg"
    for f in "$PATCHES/$pkg"/*.patch; do
        [[ -e "$f" ]] || continue
        patch -p1 --quiet --no-backup-if-mismatch <"$f" || die "$f does not apply to $pkg"
    done
}

AUTOCONF_COMMON=(--prefix=/usr --libdir=/usr/lib --sysconfdir=/etc --localstatedir=/var
    --disable-shared --enable-static --disable-nls --disable-dependency-tracking)

# --- recipes: each unpacks, builds only the library, installs into $DEST ------------------------

build_util_linux() {
    unpack util-linux
    # libblkid, libmount and libuuid share internal code: one tree, one configure.
    GTKDOCIZE=true autoreconf -fi >/dev/null 2>&1
    ./configure "${AUTOCONF_COMMON[@]}" --disable-all-programs \
        --enable-libuuid --enable-libblkid --enable-libmount \
        --without-udev --without-systemd --without-selinux --without-python --without-audit \
        --without-readline --without-ncursesw --without-tinfo --without-cryptsetup \
        --without-btrfs --without-libz --without-libmagic --without-cap-ng \
        --disable-bash-completion --disable-asciidoc --disable-poman --disable-gtk-doc
    make -j"$JOBS" libuuid.la libblkid.la libmount.la
    make DESTDIR="$DEST" install-usrlib_execLTLIBRARIES install-pkgconfigDATA \
        install-uuidincHEADERS install-nodist_blkidincHEADERS install-nodist_mountincHEADERS
}

build_json_c() {
    unpack json-c
    cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=None -DCMAKE_INSTALL_PREFIX=/usr \
        -DCMAKE_INSTALL_LIBDIR=lib -DBUILD_SHARED_LIBS=OFF -DBUILD_STATIC_LIBS=ON \
        -DBUILD_TESTING=OFF -DBUILD_APPS=OFF -DDISABLE_WERROR=ON -DENABLE_THREADING=OFF \
        -DDISABLE_EXTRA_LIBS=ON -DCMAKE_C_COMPILER=musl-gcc
    ninja -C build -j"$JOBS"
    DESTDIR="$DEST" ninja -C build install
}

build_lvm2() {
    unpack lvm2
    # libdm's compile rule ignores CPPFLAGS: headers go in CFLAGS. No libudev exists for musl
    # (and none in the initrd): no udev synchronisation; edgeinit creates its device nodes.
    # Its export-list rule preprocesses with bare $(CC): the kernel headers go there too.
    local cc="musl-gcc -idirafter $KINC"
    CC=$cc CFLAGS="$BASE_CFLAGS $CPPFLAGS" ./configure --prefix=/usr --libdir=/usr/lib \
        --sysconfdir=/etc --localstatedir=/var --enable-static_link --disable-udev_sync \
        --disable-udev_rules --disable-selinux --disable-nls --disable-readline \
        --disable-blkid_wiping --disable-dmeventd --disable-cmdlib --disable-use-lvmpolld \
        --disable-use-lvmlockd --with-thin=none --with-cache=none --with-vdo=none
    make -j"$JOBS" -C libdm CC="$cc"
    install -D -m 644 libdm/ioctl/libdevmapper.a "$DEST/usr/lib/libdevmapper.a"
    install -D -m 644 libdm/libdevmapper.h "$DEST/usr/include/libdevmapper.h"
    # libdm's own .pc says -ludev etc. for a udev build; write the one this build needs.
    cat >"$DEST/usr/lib/pkgconfig/devmapper.pc" <<EOF
prefix=/usr
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: devmapper
Description: device-mapper library (static, no udev sync)
Version: ${PKG_VERSION[lvm2]%%-*}
Cflags: -I\${includedir}
Libs: -L\${libdir} -ldevmapper
EOF
}

build_libzstd() {
    unpack libzstd
    # The decoder only (libkmod never compresses), at -O2: it runs on every module load.
    local knobs=(ZSTD_LIB_COMPRESSION=0 ZSTD_LIB_DICTBUILDER=0 ZSTD_LIB_DEPRECATED=0
        ZSTD_LEGACY_SUPPORT=0 PREFIX=/usr LIBDIR=/usr/lib)
    make -j"$JOBS" -C lib libzstd.a "${knobs[@]}" CFLAGS="${BASE_CFLAGS/-Os/-O2}"
    make -C lib DESTDIR="$DEST" install-static install-includes install-pc "${knobs[@]}"
}

build_kmod() {
    unpack kmod
    # kmod 30 refuses --enable-static on principle; the library itself builds fine as an archive.
    sed -i '/--enable-static is not supported by kmod/d' configure.ac
    # What kmod's autogen.sh does without gtk-doc installed.
    touch libkmod/docs/gtk-doc.make
    autoreconf -fi >/dev/null 2>&1
    # --sysconfdir=/etc: it is compiled in as the modprobe.d search path.
    # zstd: the initrd's modules are .ko.zst (edgeinit-mkinitrd); libkmod decompresses them.
    ./configure "${AUTOCONF_COMMON[@]}" --without-xz --with-zstd --without-zlib \
        --without-openssl --disable-manpages --disable-test-modules --disable-python \
        --disable-gtk-doc
    make -j"$JOBS" libkmod/libkmod.la
    make DESTDIR="$DEST" install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA
    # configure copied libzstd's flags with the sysroot in them: the prefix moves after the build.
    sed -i "s|-L$DEST/usr/lib ||" "$DEST/usr/lib/pkgconfig/libkmod.pc"
}

build_nettle() {
    [[ "$CRYPTSETUP_CRYPTO_BACKEND" == nettle ]] || return 0
    unpack nettle
    # Hashes, HMAC and PBKDF2 only: no public-key half (hogweed, GMP), no docs, no tools.
    ./configure "${AUTOCONF_COMMON[@]}" --disable-public-key --disable-documentation \
        --disable-openssl --disable-gcov --disable-fat
    make -j"$JOBS" libnettle.a nettle.pc
    install -d "$DEST/usr/include/nettle"
    install -m 644 ./*.h "$DEST/usr/include/nettle/"
    install -m 644 libnettle.a "$DEST/usr/lib/"
    install -m 644 nettle.pc "$DEST/usr/lib/pkgconfig/"
}

build_cryptsetup() {
    unpack cryptsetup
    ./autogen.sh >/dev/null 2>&1
    # nettle backend: hashes in user space (the kernel backend's AF_ALG socket per hash costs
    # half a second per keyslot under TCG); ciphers go through AF_ALG either way. No OpenSSL in
    # /init. configure probes for popt even with the tools disabled; the answer does not matter
    # for the library. No external token plugins (they would be dlopen()ed).
    ac_cv_lib_popt_poptConfigFileToString=yes ./configure "${AUTOCONF_COMMON[@]}" \
        --with-crypto_backend="$CRYPTSETUP_CRYPTO_BACKEND" --disable-external-tokens --disable-ssh-token \
        --disable-cryptsetup --disable-veritysetup --disable-integritysetup \
        --disable-selinux --disable-udev --disable-asciidoc --disable-pwquality \
        --disable-passwdqc --disable-fips --disable-libargon2 --enable-internal-argon2 \
        --with-luks2-lock-path=/run/cryptsetup
    make -j"$JOBS" libcryptsetup.la
    make DESTDIR="$DEST" install-libLTLIBRARIES install-includeHEADERS install-pkgconfigDATA
}

build_mbedtls() {
    unpack mbedtls
    make -j"$JOBS" -C library CC=musl-gcc CFLAGS="$BASE_CFLAGS -I../include" ARFLAGS=-srcD \
        libmbedcrypto.a libmbedx509.a libmbedtls.a
    install -d "$DEST/usr/include"
    cp -r include/mbedtls include/psa "$DEST/usr/include/"
    install -m 644 library/libmbedcrypto.a library/libmbedx509.a library/libmbedtls.a "$DEST/usr/lib/"
}

build_tpm2_tss() {
    unpack tpm2-tss
    ./bootstrap >/dev/null 2>&1
    # --enable-nodl: a fixed TCTI list, no dlopen. Only the device TCTI (/dev/tpmrm0, /dev/tpm0).
    # --disable-defaultflags: its hardening flags include _FORTIFY_SOURCE, which musl lacks.
    ./configure "${AUTOCONF_COMMON[@]}" --with-crypto=mbed --enable-nodl \
        --disable-fapi --disable-policy --disable-doxygen-doc --disable-unit \
        --disable-integration --disable-defaultflags --disable-weakcrypto \
        --disable-tcti-mssim --disable-tcti-swtpm --disable-tcti-cmd --disable-tcti-pcap \
        --disable-tcti-libtpms --disable-tcti-spi-helper --disable-tcti-spi-ltt2go \
        --disable-tcti-spidev --disable-tcti-spi-ftdi --disable-tcti-i2c-helper \
        --disable-tcti-i2c-ftdi --with-udevrulesdir=/nonexistent
    make -j"$JOBS" src/tss2-mu/libtss2-mu.la src/tss2-sys/libtss2-sys.la \
        src/tss2-esys/libtss2-esys.la src/tss2-rc/libtss2-rc.la \
        src/tss2-tcti/libtss2-tcti-device.la src/tss2-tcti/libtss2-tctildr.la
    # Plain `make install` would run systemd-sysusers/tmpfiles on the build host.
    make DESTDIR="$DEST" install-libLTLIBRARIES install-pkgconfigDATA install-tss2HEADERS
}

PACKAGES=(util-linux json-c lvm2 libzstd kmod nettle cryptsetup mbedtls tpm2-tss)

main() {
    local stamp pkg start t0 rc
    # Several makes may run at once in one tree (a boot test while someone runs `make`):
    # one builds, the others wait and then find the prefix up to date.
    mkdir -p "$(dirname "$OUT")"
    exec 9>"$OUT.lock"
    flock 9
    stamp=$(inputs_hash)
    if [[ -f "$OUT/stamp" && "$(cat "$OUT/stamp")" == "$stamp" ]]; then
        log "$OUT is up to date"
        return 0
    fi
    start=$SECONDS
    mapfile -t missing < <(unverified_files)
    ((${#missing[@]} == 0)) || fetch
    [[ "${DEPS_RESUME:-0}" == 1 ]] || rm -rf "$TMP"
    mkdir -p "$TMP"
    setup_env
    for pkg in "${PACKAGES[@]}"; do
        [[ -n "${PKG_VERSION[$pkg]:-}" ]] || die "$LOCK pins no version of $pkg"
        [[ -f "$TMP/done.$pkg" ]] && continue
        log "building $pkg ${PKG_VERSION[$pkg]}"
        t0=$SECONDS
        # Not in an `if`: bash ignores set -e inside a condition, even in a subshell.
        set +e
        (set -euo pipefail; "build_${pkg//-/_}") >"$TMP/$pkg.log" 2>&1
        rc=$?
        set -e
        if ((rc != 0)); then
            tail -n 40 "$TMP/$pkg.log" >&2
            die "building $pkg failed; whole log: $TMP/$pkg.log"
        fi
        touch "$TMP/done.$pkg"
        log "built $pkg in $((SECONDS - t0)) s"
    done
    # libtool archives hold build paths and are useless for a static link.
    find "$DEST" -name '*.la' -delete
    rm -rf "$SRC" "$TMP"/done.* "$TMP"/*.log
    echo "$stamp" >"$TMP/stamp"
    rm -rf "$OUT.old"
    [[ ! -e "$OUT" ]] || mv "$OUT" "$OUT.old"
    mv "$TMP" "$OUT"
    rm -rf "$OUT.old"
    log "dependencies built in $((SECONDS - start)) s into $OUT"
}

main
