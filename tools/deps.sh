#!/bin/bash
# Install every Debian package edgeinit needs to build, test and boot-test.
# Idempotent: asks dpkg first and only touches apt when something is missing,
# so it is cheap to run from CI or from `make deps` on every build.
set -euo pipefail

packages=(
    # C build of edgeinit (dynamic and static variants, unit tests)
    gcc clang make pkg-config musl-tools check
    libcryptsetup-dev libblkid-dev libmount-dev libkmod-dev libtss2-dev
    # init/module_image.c's unit tests (zstd's decoder, as /init links it)
    libzstd-dev
    # what lib/ calls on the host (unit tests, fuzzers): the versions deps.lock pins
    nettle-dev libjson-c-dev
    # static /init: the libraries built from Debian source packages (tools/build-deps.sh):
    # apt-get source / dpkg-source, autotools for tarballs without configure, cmake for json-c
    dpkg-dev autoconf automake libtool autoconf-archive libltdl-dev autopoint gettext
    cmake ninja-build
    # initrd, kernel and UKI tooling
    kmod zstd lz4 xz-utils gzip binutils cpio python3 systemd-boot-efi
    # images: rootfs, verity, GPT, ESP
    mmdebstrap e2fsprogs cryptsetup-bin fdisk dosfstools mtools
    # booting the image
    qemu-system-x86 ovmf swtpm swtpm-tools
    # sealing EMT-style keys into swtpm state for the TPM boot tests
    tpm2-tools
    # linting the harness scripts
    shellcheck
    # validating the failure reports the boot tests produce against docs/schema/
    python3-jsonschema
    # the integrator's toolchain: kernel-install (systemd), the .deb (debhelper, lintian) and the RPM
    systemd debhelper lintian rpm
)

missing=()
for p in "${packages[@]}"; do
    # db:Status-Status is "installed" only for fully configured packages.
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [[ "$status" == installed ]] || missing+=("$p")
done

if ((${#missing[@]} == 0)); then
    echo "deps: all ${#packages[@]} packages already installed"
    exit 0
fi

echo "deps: installing: ${missing[*]}"
sudo_cmd=()
((EUID == 0)) || sudo_cmd=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -q
"${sudo_cmd[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
