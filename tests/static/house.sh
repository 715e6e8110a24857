#!/bin/bash
# House rules that a compiler does not check (part of `make check`, no build needed):
#   - no source file in init/ modules/ lib/ include/ over 600 lines; the files listed in
#     OVER_LIMIT are waiting to be split and must not grow;
#   - the profile is decided in one place: only lib/cmdline.c (which sets it), modules/cmdline.c
#     (which checks the options against it) and modules/boot.c (the table of which stage runs in
#     which profile) may name a profile; a stage that tests it is a stage in the wrong list;
#   - the options are written by the cmdline stage alone (opts_rw named only in modules/cmdline.c
#     and modules/context.c);
#   - the harness scripts pass shellcheck.
# Usage: tests/static/house.sh (from anywhere). Exit status 1 on any finding.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$top"
limit=600
failed=0
bad() { echo "house: $*" >&2; failed=1; }

# path and the most lines it may have until it is split (issue 11)
declare -A OVER_LIMIT=(
)

for f in init/*.[ch] modules/*.[ch] lib/*.[ch] include/edgeinit/*.h; do
    n=$(wc -l <"$f")
    if [[ -n "${OVER_LIMIT[$f]:-}" ]]; then
        ((n <= OVER_LIMIT[$f])) || bad "$f has $n lines; it is waiting to be split and must not grow past ${OVER_LIMIT[$f]}"
        ((n > limit)) || bad "$f has $n lines now: remove it from OVER_LIMIT in tests/static/house.sh"
    elif ((n > limit)); then
        bad "$f has $n lines (limit $limit): split it by concern"
    fi
done
for f in "${!OVER_LIMIT[@]}"; do
    [[ -e "$f" ]] || bad "$f in OVER_LIMIT does not exist any more: remove it"
done

while IFS= read -r hit; do
    bad "a profile is named outside the profile table: $hit (put the stage in modules/boot.c's list instead)"
done < <(grep -rn 'BOOT_PROFILE_' init modules lib | grep -vE '^(lib/cmdline\.c|modules/cmdline\.c|modules/boot\.c):' || true)

# The options are written by the cmdline stage alone; every other stage reads ctx->opts (const).
while IFS= read -r hit; do
    bad "the options are written outside the cmdline stage: $hit (read ctx->opts; put what a stage finds in its own state)"
done < <(grep -rn 'opts_rw' init modules lib | grep -vE '^(modules/cmdline\.c|modules/context\.c):' || true)

if command -v shellcheck >/dev/null; then
    mapfile -t scripts < <(git ls-files 'tests/*.sh' 'qemu/*.sh' 'tools/*.sh' 'kernel-install/*' 2>/dev/null | sort)
    if ((${#scripts[@]})) && ! shellcheck -S warning "${scripts[@]}" >&2; then
        bad "shellcheck found problems in the scripts above"
    fi
else
    bad "shellcheck is not installed (tools/deps.sh installs it)"
fi

if ((failed)); then exit 1; fi
echo "house: ok (line limit $limit, profile decided in the table, options written by cmdline alone, scripts pass shellcheck)"
