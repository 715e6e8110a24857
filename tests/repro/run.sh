#!/bin/bash
# Reproducibility test: two builds of HEAD from clean clones must give byte-identical
# build/init, build/initrd.img and build/uki.efi.
#
# Clone A builds the dependency prefix from scratch (tools/build-deps.sh); clone B uses the
# shared prefix cache in $BUILD/deps (built first if missing). The two prefixes are compared
# file by file as well, so reusing the cache in everyday builds is shown to be sound: the
# dependency build is itself reproducible. The clones live at different paths, which
# exercises -ffile-prefix-map. Inputs that are not built from this tree are shared read-only:
# the fetched kernel package (build/kernel) and the reference disk image (build/image, whose
# root hash the UKI's command line embeds).
#
# Usage: tests/repro/run.sh     (from `make repro-test`; needs `make kernel image` first)
# Tests the commit HEAD points at when it starts, i.e. committed work only.
set -euo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${BUILD:-$top/build}
[[ "$build" == /* ]] || build=$top/$build
for f in "$build/kernel/kver:make kernel" "$build/image/roothash:make image"; do
    [[ -s "${f%%:*}" ]] || { echo "repro: missing ${f%%:*} (run '${f#*:}')" >&2; exit 2; }
done

shared_deps=${DEPS:-$build/deps}

# One commit for both clones: HEAD may move while the test runs (others commit).
commit=$(git -C "$top" rev-parse HEAD)

work=$(mktemp -d /tmp/edgeinit-repro.XXXXXX)
trap 'rm -rf "$work"' EXIT
start=$SECONDS

build_clone() {
    local name=$1 deps=$2 dir=$work/$1
    git clone -q --no-hardlinks --no-checkout "$top" "$dir"
    git -C "$dir" checkout -q --detach "$commit"
    mkdir -p "$dir/build"
    ln -s "$build/kernel" "$dir/build/kernel"
    ln -s "$build/image" "$dir/build/image"
    # Downloaded tarballs are checked against deps.lock on use; copying them only saves the
    # network round trip.
    if [[ -d "$shared_deps.cache/src" && "$deps" != "$shared_deps" ]]; then
        mkdir -p "$deps.cache"
        cp -r "$shared_deps.cache/src" "$deps.cache/src"
    fi
    echo "repro: building clone $name (deps in $deps)"
    # -o: the shared image is an input here, never rebuilt from the clone's scripts.
    if ! make -C "$dir" -o build/image/roothash DEPS="$deps" all initrd uki >"$work/$name.log" 2>&1; then
        tail -n 40 "$work/$name.log" >&2
        echo "repro: FAIL: build of clone $name failed" >&2
        exit 1
    fi
}

build_clone a "$work/a/build/deps"
build_clone b "$shared_deps"

failed=0
for f in build/init build/initrd.img build/uki.efi; do
    if cmp -s "$work/a/$f" "$work/b/$f"; then
        echo "repro: $f identical ($(stat -c %s "$work/a/$f") bytes, sha256 $(sha256sum <"$work/a/$f" | cut -c1-16)...)"
    else
        echo "repro: FAIL: $f differs between the two builds" >&2
        failed=1
    fi
done
if diff -r --no-dereference "$work/a/build/deps/sysroot" "$shared_deps/sysroot" >"$work/deps.diff" 2>&1; then
    echo "repro: dependency prefix built from scratch is identical to the shared cache"
else
    head -n 20 "$work/deps.diff" >&2
    echo "repro: FAIL: the dependency prefix is not reproducible" >&2
    failed=1
fi
echo "repro: commit ${commit:0:12}, $((SECONDS - start)) s"
((failed == 0)) && echo "repro: passed"
exit "$failed"
