#!/bin/bash
# The integrators' tool end to end: `check` on EMT's real files and on a broken one, `plan`
# against the reference root tree, as text and as JSON. Asserts on what the tool printed.
# Usage: tests/layout-tool/run.sh TOOL ROOTFS_DIR
set -euo pipefail

tool=${1:?usage: $0 TOOL ROOTFS_DIR}
rootfs=${2:?usage: $0 TOOL ROOTFS_DIR}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL layout-tool: $*"; failures=$((failures + 1)); }

for f in "$top"/tests/unit/fixtures/layout/emt-*.layout.env "$top/layout/layout.env"; do
    out=$("$tool" check "$f") || fail "check rejected $f: $out"
    [[ "$out" == *": ok ("*" overlays, "*" binds)" ]] || fail "check printed '$out' for $f"
done

# shellcheck disable=SC2016 # the $(...) is the point: the file must be refused, never run
printf 'OVERLAY=tmpfs:25%%\nTMPFS_OVERLAYS_PATHS="/var\n  /etc/$(hostname)"\n' >"$tmp/bad.env"
rc=0
out=$("$tool" check "$tmp/bad.env" 2>&1) || rc=$?
((rc == 1)) || fail "check exited $rc on a file with a shell expansion (want 1)"
[[ "$out" == "$tmp/bad.env:3:"* ]] || fail "check did not name file and line: '$out'"

plan=$("$tool" plan --root "$rootfs" "$top/layout/layout.env") || fail "plan failed"
grep -q '^overlay /var ' <<<"$plan" || fail "plan has no overlay of /var"
grep -q '^bind /etc/ssh ' <<<"$plan" || fail "plan has no bind of /etc/ssh"
grep -q '^skip /etc/rancher ' <<<"$plan" || fail "plan does not skip /etc/rancher (not in the image)"
"$tool" plan --root "$rootfs" --json "$top/layout/layout.env" |
    python3 -c 'import json, sys; a = json.load(sys.stdin); assert any(x["action"] == "overlay" for x in a)' ||
    fail "plan --json is not the expected JSON"

if ((failures)); then exit 1; fi
echo "layout-tool: check and plan OK"
