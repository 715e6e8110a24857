#!/bin/bash
# Build the edgeinit .deb from this tree, as a Debian builder would, reusing the dependency prefix.
#
#   tools/build-deb.sh [--source] <deps prefix> <work dir>
#
# The tree (tracked and new, not ignored files, uncommitted changes included; never build/) is
# copied to <work dir>/deb/edgeinit-<version>, since dpkg-buildpackage writes its results into
# the parent directory. The prefix is copied in (23 MB) so the build reuses it. Leaves
# <work dir>/files0 (the tree's file list, NUL-separated), <work dir>/deb/build.log and
# <work dir>/deb/edgeinit_<version>_amd64.deb; with --source, the source package as well
# (<work dir>/deb/source.log). Cached: nothing is rebuilt while <work dir>/deb/tree.sha256 matches
# the tree's files and the prefix's stamp.
set -euo pipefail

source_too=0
if [[ "${1:-}" == --source ]]; then
    source_too=1
    shift
fi
deps=$(realpath "${1:?usage: $0 [--source] <deps prefix> <work dir>}")
work=$(realpath -m "${2:?usage: $0 [--source] <deps prefix> <work dir>}")
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[[ -f "$deps/stamp" ]] || { echo "build-deb: $deps is not a dependency prefix (no stamp): run make first" >&2; exit 1; }
version=$(dpkg-parsechangelog -l "$top/debian/changelog" -S Version)
deb=$work/deb/edgeinit_${version}_amd64.deb

files0=$(mktemp)
trap 'rm -f "$files0"' EXIT
(cd "$top" && git ls-files -z --cached --others --exclude-standard) |
    (cd "$top" && while IFS= read -r -d '' f; do [[ -e "$f" ]] && printf '%s\0' "$f"; done) >"$files0"
tree=$( (cd "$top" && xargs -0 sha256sum -- <"$files0"; cat "$deps/stamp"; echo "source=$source_too") | sha256sum | cut -d' ' -f1)
if [[ -s "$deb" && "$(cat "$work/deb/tree.sha256" 2>/dev/null)" == "$tree" ]]; then
    echo "build-deb: cached $deb"
    exit 0
fi

rm -rf "$work"
mkdir -p "$work"
cp "$files0" "$work/files0"
src=$work/deb/edgeinit-$version
mkdir -p "$src/build"
tar -C "$top" --null -T "$work/files0" -cf - | tar -C "$src" -xf -
cp -a "$deps" "$src/build/deps"
if ((source_too)); then
    # debian/source/options keeps build/ out of the source package.
    (cd "$work/deb" && dpkg-source -b "edgeinit-$version") >"$work/deb/source.log" 2>&1 || {
        cat "$work/deb/source.log" >&2
        echo "build-deb: dpkg-source -b failed (above)" >&2
        exit 1
    }
fi
echo "build-deb: dpkg-buildpackage (log: $work/deb/build.log)"
# SOURCE_DATE_EPOCH is the changelog's, as on a Debian builder (dpkg-buildpackage sets it when
# unset), not the checkout's last commit: the .deb changes only when its contents do.
(cd "$src" && env -u SOURCE_DATE_EPOCH DEB_BUILD_OPTIONS=nocheck dpkg-buildpackage -b -us -uc) >"$work/deb/build.log" 2>&1 || {
    tail -n 40 "$work/deb/build.log" >&2
    echo "build-deb: dpkg-buildpackage failed: $work/deb/build.log" >&2
    exit 1
}
[[ -s "$deb" ]] || { echo "build-deb: dpkg-buildpackage made no $deb" >&2; exit 1; }
echo "$tree" >"$work/deb/tree.sha256"
echo "build-deb: $deb"
