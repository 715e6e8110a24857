# shellcheck shell=bash disable=SC2034,SC2154 # sourced by run.sh, which sets and reads these
# Failure reports (issue 13, "The reason survives the fallback"): a boot that fails leaves its
# report for the next good boot, on /opt when it was mounted, else in an EFI variable; the good
# boot shows it once in /run/edgeinit/last-failures.json and boot.json's previous_failures.
# Sourced by tests/boot/run.sh.
all_scenarios+=(failure-report-opt failure-report-efi)

failure_schema=$top/docs/schema/failure-report-v1.json

# boot.json's previous_failures as boot N's guest printed it, into FILE (empty if absent).
previous_failures_of_boot() {
    local line
    line=$(grep -a -m1 '^EDGEINIT-TEST: boot.json ' "$dir/serial-$1.txt" || true)
    printf '%s' "${line#EDGEINIT-TEST: boot.json }" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); pf = d.get("previous_failures"); print(json.dumps(pf) if pf is not None else "")' \
            >"$2" 2>/dev/null || : >"$2"
}

# Boot N shows exactly one report of stage STAGE whose remedy matches REGEX, valid against the
# schema (host side, from the guest's boot.json).
expect_one_report() {
    local n=$1 stage=$2 remedy=$3 f=$dir/previous-failures-$1.json
    previous_failures_of_boot "$n" "$f"
    if [[ ! -s "$f" ]]; then
        fail "boot $n: boot.json has no previous_failures"
        return
    fi
    "$top/tests/boot/validate-failure-report.py" "$failure_schema" "$f" 2>>"$dir/schema.log" ||
        fail "boot $n: previous_failures does not validate against docs/schema/failure-report-v1.json ($(tail -n 1 "$dir/schema.log"))"
    python3 - "$f" "$stage" "$remedy" <<'PY' || fail "boot $n: previous_failures is not one '$stage' report with a remedy matching /$remedy/: $(cat "$f")"
import json, re, sys
d = json.load(open(sys.argv[1]))
r = d["reports"]
sys.exit(0 if d["count"] == 1 and len(r) == 1 and r[0]["stage"] == sys.argv[2]
         and re.search(sys.argv[3], r[0]["remedy"] or "") and r[0]["time"] > 0 and r[0]["boot_id"] else 1)
PY
}

expect_no_reports() {
    local n=$1 f=$dir/previous-failures-$1.json
    previous_failures_of_boot "$n" "$f"
    [[ "$(cat "$f")" == '{"format": 1, "count": 0, "reports": []}' ]] ||
        fail "boot $n: want previous_failures with no report, have '$(cat "$f")'"
    [[ ! -s "$f" ]] || "$top/tests/boot/validate-failure-report.py" "$failure_schema" "$f" 2>>"$dir/schema.log" ||
        fail "boot $n: the empty previous_failures does not validate"
}

# Boot 1 fails in the layout stage (an invalid layout.env), after /opt is mounted: the report
# goes to /opt. Boot 2 (a valid layout) shows it; boot 3 shows none.
setup_failure-report-opt() {
    cmdline=$(happy_cmdline "$roothash")
    timeout_s=300
    extra_layout=$'# edgeinit boot test\nTMPFS_OVERLAYS_PATHS="/var $(touch /tmp/pwned)"\n'
    boots=("report:$image" "report:$image" "report:$image")
}
between_boots_failure-report-opt() {
    extra_layout='' # boot 2 on: the initrd's own layout.env
}
check_failure-report-opt() {
    check_exited
    expect_boot 1 "edgeinit: FATAL: stage 'layout' failed" "no FATAL in the layout stage"
    expect_boot 1 'edgeinit: The failure report was saved to /sysroot/opt/\.edgeinit-failures for the next boot\.' "the report was not saved to /opt"
    reject_boot 1 'EDGEINIT-TEST: BEGIN' "the failing boot started the system"
    expect_boot 2 'EDGEINIT-TEST: BEGIN' "the good boot did not start the system"
    expect_boot 2 'edgeinit: Read 1 failure report\(s\) from /sysroot/opt/\.edgeinit-failures\.' "the good boot did not read the log on /opt"
    expect_boot 2 "edgeinit: A previous boot failed: stage 'layout'" "the good boot did not show the layout failure"
    expect_one_report 2 layout 'layout\.env'
    expect_boot 3 'EDGEINIT-TEST: BEGIN' "boot 3 did not start the system"
    reject_boot 3 'A previous boot failed' "boot 3 showed a report again"
    expect_no_reports 3
}

# Boot 1 fails in the verity stage (a wrong roothash=), before /opt is mounted: the report goes
# to the EFI variable. Boot 2 shows it, read from there.
setup_failure-report-efi() {
    cmdline=$(happy_cmdline "$(wrong_hash "$roothash")")
    timeout_s=300
    boots=("report:$image" "report:$image")
}
between_boots_failure-report-efi() {
    cmdline=$(happy_cmdline "$roothash")
}
check_failure-report-efi() {
    check_exited
    expect_boot 1 "edgeinit: FATAL: stage 'verity' failed" "no FATAL in the verity stage"
    reject_boot 1 'edgeinit: Mounted /dev/vda3' "/opt was mounted in the failing boot"
    expect_boot 1 'edgeinit: The failure report was saved to the EFI variable EdgeinitFailures-6c0f1c5e-9a3b-4d27-8e51-2f7d4b9a0c13 for the next boot\.' "the report was not saved to the EFI variable"
    reject_boot 1 'EDGEINIT-TEST: BEGIN' "the failing boot started the system"
    expect_boot 2 'EDGEINIT-TEST: BEGIN' "the good boot did not start the system"
    expect_boot 2 'edgeinit: Read 1 failure report\(s\) from the EFI variable EdgeinitFailures-' "the good boot did not read the EFI variable"
    reject_boot 2 'edgeinit: Read [0-9]+ failure report\(s\) from /sysroot/opt' "a report came from /opt"
    expect_one_report 2 verity 'root hash'
}
