#!/bin/bash
# The integrators' tool end to end: `check` on EMT's real files and on a broken one, one file per
# diagnostic (exact FILE:LINE:COLUMN, severity, code and exit status), --strict, --json (validated
# by python3 and jq), --root, exit status 2, --help; `plan` against the reference root tree, as
# text and as JSON. Asserts on what the tool printed.
# Usage: tests/layout-tool/run.sh TOOL ROOTFS_DIR
set -euo pipefail

tool=${1:?usage: $0 TOOL ROOTFS_DIR}
rootfs=${2:?usage: $0 TOOL ROOTFS_DIR}
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "FAIL layout-tool: $*"; failures=$((failures + 1)); }

# EMT's real files: clean, even with --strict against the reference root.
for f in "$top"/tests/unit/fixtures/layout/{emt-default,emt-docker,seed-doc}.layout.env "$top/layout/layout.env"; do
    out=$("$tool" check "$f" 2>&1) || fail "check rejected $f: $out"
    [[ "$out" == "$f: ok ("*" overlays, "*" binds)" ]] || fail "check printed '$out' for $f"
    out=$("$tool" check --strict --root "$rootfs" "$f" 2>&1) || fail "check --strict --root rejected $f: $out"
    [[ "$out" == "$f: ok ("*" binds)" ]] || fail "check --strict --root printed '$out' for $f"
done

# check_case NAME WANT_RC WANT_LINE [OPTIONS...]: runs `check OPTIONS $tmp/NAME.env` and asserts
# the exit status and that one line of the output is exactly WANT_LINE (FILE is $tmp/NAME.env).
check_case() {
    local name=$1 want_rc=$2 want=$3 rc=0 out
    shift 3
    out=$("$tool" check "$@" "$tmp/$name.env" 2>&1) || rc=$?
    ((rc == want_rc)) || fail "$name: check $* exited $rc, want $want_rc: $out"
    grep -qxF -- "$tmp/$name.env$want" <<<"$out" || fail "$name: no line '$tmp/$name.env$want' in: $out"
}

# An unknown variable: a warning naming the nearest known one; --strict makes it an error.
printf 'OVERLAY=tmpfs:25%%\nPERSISTENT_BIND_PATH="\n  /etc/ssh"\n' >"$tmp/typo.env"
check_case typo 0 ":2:1: warning: unknown variable 'PERSISTENT_BIND_PATH' is ignored; did you mean PERSISTENT_BIND_PATHS? [unknown-variable]"
check_case typo 0 ": ok (1 overlays, 0 binds), 1 warning"
check_case typo 0 ":2:1: note: rename it to PERSISTENT_BIND_PATHS: as written, nothing it sets is applied"
check_case typo 1 ":2:1: error: unknown variable 'PERSISTENT_BIND_PATH' is ignored; did you mean PERSISTENT_BIND_PATHS? [unknown-variable]" --strict
check_case typo 1 ": 1 error, 0 warnings" --strict
printf 'export TMPFS_OVERLAY_PATHS=/var\n' >"$tmp/typo2.env"
check_case typo2 0 ":1:8: warning: unknown variable 'TMPFS_OVERLAY_PATHS' is ignored; did you mean TMPFS_OVERLAYS_PATHS? [unknown-variable]"

# Paths on an API file system, or under /sysroot: errors.
printf 'PERSISTENT_BIND_PATHS="/etc/ssh /run/foo"\n' >"$tmp/api.env"
check_case api 1 ":1:33: error: bind path '/run/foo' is on /run, an API file system: when it switches root, edgeinit moves its own /run onto the new root's, hiding whatever the layout mounted there [api-filesystem]"
check_case api 1 ": 1 error, 0 warnings"
printf '# proc\nTMPFS_OVERLAYS_PATHS="\n  /var\n  /proc/sys"\n' >"$tmp/proc.env"
check_case proc 1 ":4:3: error: overlay path '/proc/sys' is on /proc, an API file system: when it switches root, edgeinit moves its own /proc onto the new root's, hiding whatever the layout mounted there [api-filesystem]"
printf 'TMPFS_OVERLAYS_PATHS=/sysroot/var\n' >"$tmp/sysroot.env"
check_case sysroot 1 ":1:22: error: overlay path '/sysroot/var' is under /sysroot, where the initrd mounts the root: layout.env paths are paths of the booted system [sysroot]"
check_case sysroot 1 ":1:22: note: write the path as the booted system sees it ('/var')"

# The same path as an overlay and a bind: an error.
printf 'TMPFS_OVERLAYS_PATHS="/var /etc"\nPERSISTENT_BIND_PATHS="/home\n    /etc"\n' >"$tmp/both.env"
check_case both 1 ":3:5: error: '/etc' is both a bind path and an overlay path (TMPFS_OVERLAYS_PATHS, line 1) [overlay-and-bind]"

# A variable assigned twice: a warning, the last value wins (here: no overlay of /var).
printf 'TMPFS_OVERLAYS_PATHS=/var\nPERSISTENT_BIND_PATHS=/etc/ssh\n  export TMPFS_OVERLAYS_PATHS="/etc"\n' >"$tmp/twice.env"
check_case twice 0 ":3:10: warning: TMPFS_OVERLAYS_PATHS is assigned again: this value replaces the one from line 1 (the last assignment wins) [assigned-twice]"
check_case twice 0 ": ok (1 overlays, 1 binds), 1 warning"
check_case twice 1 ": 1 error, 0 warnings" --strict
"$tool" plan --root "$rootfs" "$tmp/twice.env" | grep -q '^overlay /etc ' || fail "twice: /etc is not the overlay"
"$tool" plan --root "$rootfs" "$tmp/twice.env" | grep -q '^overlay /var ' && fail "twice: /var is still an overlay"

# Container runtimes under a tmpfs overlay, present in the image and not bound (--root only).
mkdir -p "$tmp/root/var/lib/docker" "$tmp/root/var/lib/containerd" "$tmp/root/etc"
ln -s /srv/rancher "$tmp/root/var/lib/rancher" # a symlink leads elsewhere: not reported
printf 'OVERLAY=tmpfs:25%%\nTMPFS_OVERLAYS_PATHS="/etc /var"\nPERSISTENT_BIND_PATHS=/var/lib/containerd\n' >"$tmp/docker.env"
check_case docker 0 ":2:28: warning: overlay '/var' is on a tmpfs and covers /var/lib/docker, which the image has and which is not a persistent bind: its containers and images are lost at every reboot, and an overlayfs storage driver fails on an overlayfs upper directory [container-runtime]" --root "$tmp/root"
check_case docker 0 ":2:28: note: add /var/lib/docker to PERSISTENT_BIND_PATHS" --root "$tmp/root"
check_case docker 0 ": ok (2 overlays, 1 binds), 1 warning" --root "$tmp/root"
check_case docker 1 ": 1 error, 0 warnings" --strict --root="$tmp/root"
check_case docker 0 ": ok (2 overlays, 1 binds)" # without --root: not checked
printf 'PERSISTENT_BIND_PATHS=/etc/ssh\n' >"$tmp/default.env" # the default /var overlay: no line
check_case default 0 ": warning: the default overlay '/var' (TMPFS_OVERLAYS_PATHS is not set) is on a tmpfs and covers /var/lib/containerd, which the image has and which is not a persistent bind: its containers and images are lost at every reboot, and an overlayfs storage driver fails on an overlayfs upper directory [container-runtime]" --root "$tmp/root"

# --json: a valid JSON array with every field, for tools; the exit status is unchanged.
printf 'PERSISTENT_BIND_PATH=/a\nPERSISTENT_BIND_PATHS="/run/x /home"\nOVERLAY="tmpfs:1g"\nOVERLAY=none\n' >"$tmp/json.env"
rc=0
"$tool" check --json "$tmp/json.env" >"$tmp/json.out" 2>"$tmp/json.err" || rc=$?
((rc == 1)) || fail "json: exited $rc, want 1"
[[ ! -s "$tmp/json.err" ]] || fail "json: wrote to stderr: $(cat "$tmp/json.err")"
python3 -m json.tool "$tmp/json.out" >/dev/null || fail "json: python3 rejects: $(cat "$tmp/json.out")"
got=$(jq -r '.[] | [.file, .line, .column, .severity, .code, (.hint != null)] | map(tostring) | join(" ")' "$tmp/json.out")
want="$tmp/json.env 1 1 warning unknown-variable true
$tmp/json.env 2 24 error api-filesystem true
$tmp/json.env 4 1 warning assigned-twice true"
[[ "$got" == "$want" ]] || fail "json: got
$got
want
$want"
jq -e '.[0].message == "unknown variable '"'"'PERSISTENT_BIND_PATH'"'"' is ignored; did you mean PERSISTENT_BIND_PATHS?"' \
    "$tmp/json.out" >/dev/null || fail "json: message of the first finding: $(jq '.[0].message' "$tmp/json.out")"
{ "$tool" check --json --strict "$tmp/json.env" || true; } | jq -e 'all(.severity == "error") and length == 3' >/dev/null ||
    fail "json --strict: not every finding is an error"
"$tool" check --json --root "$tmp/root" "$tmp/default.env" | jq -e '.[0].line == null and .[0].column == null' >/dev/null ||
    fail "json: a finding without a position does not have null line and column"
out=$("$tool" check --json "$top/layout/layout.env") || fail "json: the default layout.env is not clean"
[[ "$out" == "[]" ]] || fail "json: a clean file printed '$out', want []"

# Exit status 2: usage, unreadable file, unreadable root.
for args in "" "--bogus $tmp/typo.env" "$tmp/typo.env $tmp/typo.env" "$tmp/missing.env" "--root $tmp/missing-dir $tmp/typo.env" "--root"; do
    rc=0
    # shellcheck disable=SC2086 # split on purpose
    "$tool" check $args >/dev/null 2>&1 || rc=$?
    ((rc == 2)) || fail "check $args exited $rc, want 2"
done

# --help says what the README says: every diagnostic code, the options, the exit statuses.
help=$("$tool" --help) || fail "--help failed"
for word in unknown-variable assigned-twice api-filesystem sysroot overlay-and-bind container-runtime \
    syntax duplicate-path name-collision --strict --json --root "Exit status: 0" "2 a usage error" \
    /var/lib/docker /var/lib/containerd /var/lib/rancher "FILE:LINE:COLUMN"; do
    [[ "$help" == *"$word"* ]] || fail "--help does not mention '$word'"
done

# shellcheck disable=SC2016 # the $(...) is the point: the file must be refused, never run
printf 'OVERLAY=tmpfs:25%%\nTMPFS_OVERLAYS_PATHS="/var\n  /etc/$(hostname)"\n' >"$tmp/bad.env"
rc=0
out=$("$tool" check "$tmp/bad.env" 2>&1) || rc=$?
((rc == 1)) || fail "check exited $rc on a file with a shell expansion (want 1)"
grep -qxF "$tmp/bad.env:3:8: error: found '\$(' (command substitution) inside double quotes; layout.env is parsed, never executed [syntax]" <<<"$out" ||
    fail "check did not name file, line and column: '$out'"

plan=$("$tool" plan --root "$rootfs" "$top/layout/layout.env") || fail "plan failed"
grep -q '^overlay /var ' <<<"$plan" || fail "plan has no overlay of /var"
grep -q '^bind /etc/ssh ' <<<"$plan" || fail "plan has no bind of /etc/ssh"
grep -q '^skip /etc/rancher ' <<<"$plan" || fail "plan does not skip /etc/rancher (not in the image)"
"$tool" plan --root "$rootfs" --json "$top/layout/layout.env" |
    python3 -c 'import json, sys; a = json.load(sys.stdin); assert any(x["action"] == "overlay" for x in a)' ||
    fail "plan --json is not the expected JSON"

if ((failures)); then exit 1; fi
echo "layout-tool: check (every diagnostic, --strict, --json, --root, exit statuses, --help) and plan OK"
