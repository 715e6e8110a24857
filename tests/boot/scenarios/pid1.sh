# shellcheck shell=bash disable=SC2034,SC2154 # sourced by run.sh, which sets and reads these
# PID 1 never hangs: a fault in PID 1 (or one of its threads) follows rd.emergency= instead of
# panicking the kernel, a kernel panic reboots, a prompt nobody answers ends.
# Sourced by tests/boot/run.sh.

all_scenarios+=(crash-in-stage crash-in-worker kernel-panic-reboots prompt-timeout)

# The kernel's timestamp (seconds, with fraction) of the first console line matching $1.
log_time() {
    grep -aE -m1 -- "$1" "$clean" | sed -nE 's/^\[ *([0-9]+\.[0-9]+)\].*/\1/p'
}
# The timestamp of the last timestamped line before the first line matching $1 (for lines the
# guest writes straight to the console, such as a prompt, which carry none).
log_time_before() {
    awk -v re="$1" '
        $0 ~ re { if (t != "") print t; exit }
        match($0, /^\[ *[0-9]+\.[0-9]+\]/) { t = substr($0, RSTART + 1, RLENGTH - 2); gsub(/ /, "", t) }
    ' "$clean"
}
# Assert lo <= b - a <= hi (seconds, fractions allowed); $5 names the interval.
expect_interval() {
    local a=$1 b=$2 lo=$3 hi=$4 what=$5
    if [[ -z "$a" || -z "$b" ]]; then
        fail "$what: no timestamps (got '${a}' and '${b}')"
        return
    fi
    awk -v a="$a" -v b="$b" -v lo="$lo" -v hi="$hi" 'BEGIN { d = b - a; exit !(d >= lo && d <= hi) }' ||
        fail "$what took $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }') s (want $lo..$hi s)"
    echo "$what: $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.1f", b - a }') s" >>"$dir/timings"
}

# What every caught fault must look like: the one line, the remedy, the configured reboot after
# the configured delay, and never the kernel's "Attempted to kill init" panic.
expect_caught_fault() {
    local stage=$1 thread=$2
    expect "edgeinit: FATAL: PID 1 caught SIGSEGV \(address 0x0\) in stage '$stage'$thread; following rd\.emergency=reboot in 2 s\." \
        "no caught-signal line naming SIGSEGV and stage $stage"
    expect 'edgeinit: What to do: PID 1 faulted: a bug in edgeinit or a library it uses' "no remedy line"
    reject 'Attempted to kill init' "the fault killed PID 1"
    reject 'Kernel panic' "the kernel panicked"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on after the fault"
    expect 'reboot: Restarting system' "no reboot (rd.emergency=reboot)"
    expect_interval "$(log_time 'edgeinit: FATAL: PID 1 caught')" "$(log_time 'reboot: Restarting system')" 1.9 4 \
        "caught fault to reboot"
    expect_fatal_within 30
}

# edgeinit.debug.crash=devices: PID 1 writes through a NULL pointer right before the devices
# stage.
setup_crash-in-stage() {
    cmdline="$(happy_cmdline "$roothash") edgeinit.debug.crash=devices edgeinit.emergency_delay=2 rd.emergency=reboot"
    timeout_s=120
}
check_crash-in-stage() {
    check_exited
    expect 'edgeinit: edgeinit.debug.crash=devices: faulting PID 1 now' "the test knob did not act"
    expect_caught_fault devices ''
    reject 'edgeinit: stage devices done' "the devices stage ran after the fault"
}

# edgeinit.debug.crash=thread:devices: a thread of PID 1 faults (as a PBKDF worker would) while
# the main thread runs the devices stage: the main thread is stopped, nothing boots.
setup_crash-in-worker() {
    cmdline="$(happy_cmdline "$roothash") edgeinit.debug.crash=thread:devices edgeinit.emergency_delay=2 rd.emergency=reboot"
    timeout_s=120
}
check_crash-in-worker() {
    check_exited
    expect 'edgeinit: edgeinit.debug.crash=thread:devices: faulting in a thread now' "the test knob did not act"
    expect_caught_fault devices ' \(thread [0-9]+\)'
    reject 'edgeinit: stage verity done' "the main thread went on booting after the thread's fault"
}

# edgeinit.debug.crash=panic: a kernel panic (sysrq 'c') right after the cmdline stage. No
# panic= on the command line: edgeinit set the kernel's panic timeout to the emergency delay,
# so the kernel reboots by itself instead of hanging.
setup_kernel-panic-reboots() {
    cmdline="$(happy_cmdline "$roothash") edgeinit.debug.crash=panic edgeinit.emergency_delay=2"
    timeout_s=120
    stop_re='Freezing execution' # the panic is expected: let the kernel reboot
}
check_kernel-panic-reboots() {
    check_exited
    expect 'edgeinit: edgeinit.debug.crash=panic: panicking the kernel now' "the test knob did not act"
    expect 'Kernel panic - not syncing: sysrq triggered crash' "no kernel panic"
    expect 'Rebooting in 2 seconds' "the kernel did not schedule a reboot after the panic"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on after the panic"
}

# The verity profile's recovery prompt is bounded by default: LUKS2 persistent partition, no
# TPM, nobody types: the prompt ends after 30 s and the fatal policy follows.
setup_prompt-timeout() {
    fde_setup
    run_args=(--no-tpm)
    timeout_s=240
}
check_prompt-timeout() {
    check_exited
    expect 'edgeinit: No TPM at /dev/tpmrm0' "no 'No TPM' message"
    expect 'Please enter the recovery passphrase for edge_persistent' "no recovery prompt"
    expect 'edgeinit: No passphrase was entered' "the prompt did not time out"
    expect "edgeinit: FATAL: stage 'luks' failed" "no FATAL message for the luks stage"
    reject 'EDGEINIT-TEST: BEGIN' "the boot went on without the key"
    local asked
    asked=$(log_time_before 'Please enter the recovery passphrase for edge_persistent')
    expect_interval "$asked" "$(log_time 'edgeinit: No passphrase was entered')" 29 36 "prompt to timeout"
    expect_interval "$asked" "$(log_time "edgeinit: FATAL: stage 'luks' failed")" 29 40 "prompt to FATAL"
    expect_fatal_within 90
}
