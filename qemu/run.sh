#!/bin/bash
# Boot a disk image in QEMU (TCG) with OVMF and a software TPM, serial to a log.
# Usage: qemu/run.sh --disk DISK --log LOG [--timeout SECONDS] [--machine-dir DIR]
#                    [--tee] [--smbios STRING]... [--stop-on REGEX] [--disk2 FILE]
# --disk2 attaches a second virtio-blk disk after the first: DISK stays /dev/vda
#   (and the boot disk), FILE becomes /dev/vdb. QEMU writes to it: pass a copy.
# --disk-before FILE attaches a virtio-blk disk BEFORE DISK: FILE becomes
#   /dev/vda and DISK /dev/vdb (and --disk2 /dev/vdc). The firmware still boots
#   DISK when FILE has no ESP. QEMU writes to it: pass a copy.
# --usb-disk FILE attaches FILE as a removable USB stick (qemu-xhci +
#   usb-storage, removable=on: sysfs says removable=1); the guest needs xhci_pci,
#   usb_storage and sd_mod. QEMU writes to it: pass a copy.
# --machine-dir keeps this machine's NVRAM (OVMF vars) and TPM state across
#   boots; without it the machine is fresh and thrown away afterwards.
# --tee also copies the serial console to stdout.
# --smbios passes an OEM string (SMBIOS type 11) to the guest, e.g.
#   edgeinit-test.mode=report.
# --stop-on ends the run early (2 s later) once the log matches the extended
#   regex, for states the guest never leaves (e.g. "Freezing execution").
# Exit status: QEMU's own (0 when the guest powered off or reset, since
# -no-reboot turns a reset into an exit), 124 when the timeout killed it,
# 125 when --stop-on matched.
set -euo pipefail

usage() { echo "usage: $0 --disk DISK --log LOG [--timeout SECONDS] [--machine-dir DIR] [--tee] [--no-tpm] [--tpm-crb] [--smbios STRING] [--answer REGEX TEXT]... [--disk2 FILE] [--disk-before FILE] [--usb-disk FILE]" >&2; exit 2; }

disk='' disk2='' disk_before='' usb_disk='' log='' timeout_s=300 machine='' tee=0 stop_re='' tpm=1 tpm_device='tpm-tis'
smbios=() answer_re=() answer_text=()
while (($#)); do
    case $1 in
        --tee) tee=1; shift; continue ;;
        --no-tpm) tpm=0; shift; continue ;;
        # The CRB interface (what Intel PTT and firmware TPMs expose) instead of TIS.
        --tpm-crb) tpm_device='tpm-crb'; shift; continue ;;
        --answer)
            (($# >= 3)) || usage
            answer_re+=("$2") answer_text+=("$3")
            shift 3
            continue ;;
    esac
    (($# >= 2)) || usage
    case $1 in
        --disk) disk=$2 ;;
        --disk2) disk2=$2 ;;
        --disk-before) disk_before=$2 ;;
        --usb-disk) usb_disk=$2 ;;
        --log) log=$2 ;;
        --timeout) timeout_s=$2 ;;
        --machine-dir) machine=$2 ;;
        --smbios) smbios+=(-smbios "type=11,value=$2") ;;
        --stop-on) stop_re=$2 ;;
        *) usage ;;
    esac
    shift 2
done
[[ -n "$disk" && -n "$log" ]] || usage
[[ -r "$disk" ]] || { echo "run: cannot read $disk" >&2; exit 1; }
disk2_args=()
if [[ -n "$disk2" ]]; then
    [[ -r "$disk2" ]] || { echo "run: cannot read $disk2" >&2; exit 1; }
    # Declared after disk0: the guest probes it second, so it is vdb.
    disk2_args=(-drive "if=none,id=disk1,format=raw,file=$disk2" -device "virtio-blk-pci,drive=disk1")
fi

disk_before_args=() usb_args=()
if [[ -n "$disk_before" ]]; then
    [[ -r "$disk_before" ]] || { echo "run: cannot read $disk_before" >&2; exit 1; }
    disk_before_args=(-drive "if=none,id=diskb,format=raw,file=$disk_before" -device "virtio-blk-pci,drive=diskb")
fi
if [[ -n "$usb_disk" ]]; then
    [[ -r "$usb_disk" ]] || { echo "run: cannot read $usb_disk" >&2; exit 1; }
    usb_args=(-device "qemu-xhci,id=xhci" -drive "if=none,id=usbdisk,format=raw,file=$usb_disk"
        -device "usb-storage,bus=xhci.0,drive=usbdisk,removable=on")
fi

ovmf_code=${OVMF_CODE:-/usr/share/OVMF/OVMF_CODE_4M.fd}
ovmf_vars=${OVMF_VARS:-/usr/share/OVMF/OVMF_VARS_4M.fd}

# The swtpm socket lives in a short private dir: unix socket paths are limited
# to 108 bytes and machine dirs can be deep.
rundir=$(mktemp -d /tmp/edgeinit-run.XXXXXX)
# Without --machine-dir the machine lives in rundir and dies with it.
[[ -n "$machine" ]] || machine=$rundir/machine
mkdir -p "$machine/tpm" "$(dirname "$log")"
[[ -f "$machine/OVMF_VARS.fd" ]] || cp "$ovmf_vars" "$machine/OVMF_VARS.fd"

swtpm_pid='' qemu_pid=''
# Runs on every exit path (via trap): never leave QEMU or swtpm behind.
# shellcheck disable=SC2317
cleanup() {
    local pid
    for pid in "$qemu_pid" "$swtpm_pid" "${answer_pid:-}"; do
        if [[ -n "$pid" ]]; then kill "$pid" 2>/dev/null || true; fi
    done
    for pid in "$qemu_pid" "$swtpm_pid"; do
        if [[ -n "$pid" ]]; then wait "$pid" 2>/dev/null || true; fi
    done
    rm -rf "$rundir"
}
trap cleanup EXIT
trap 'exit 143' TERM
trap 'exit 130' INT

tpm_args=()
if ((tpm)); then
    sock=$rundir/swtpm.sock
    swtpm socket --tpm2 --tpmstate "dir=$machine/tpm" \
        --ctrl "type=unixio,path=$sock" --log "file=$machine/swtpm.log" \
        --terminate &
    swtpm_pid=$!
    for _ in $(seq 50); do
        [[ -S "$sock" ]] && break
        sleep 0.1
    done
    [[ -S "$sock" ]] || { echo "run: swtpm did not create $sock" >&2; exit 1; }
    tpm_args=(-chardev "socket,id=chrtpm,path=$sock"
        -tpmdev "emulator,id=tpm0,chardev=chrtpm" -device "$tpm_device,tpmdev=tpm0")
fi

qemu=(
    qemu-system-x86_64
    -machine q35 -accel "tcg,thread=single" -cpu max -smp 1 -m 1024
    -drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_code"
    -drive "if=pflash,format=raw,unit=1,file=$machine/OVMF_VARS.fd"
    "${tpm_args[@]}"
    "${disk_before_args[@]}"
    -drive "if=none,id=disk0,format=raw,file=$disk"
    -device "virtio-blk-pci,drive=disk0"
    "${disk2_args[@]}"
    "${usb_args[@]}"
    "${smbios[@]}"
    -nodefaults -nographic -serial stdio -no-reboot
)

# timeout(1) gives the 124 convention. QEMU's stdin (the guest's serial input)
# is a FIFO this script holds open, so that parallel runs never fight over a
# terminal and --answer can type on the guest's console.
input=$rundir/serial.in
mkfifo "$input"
exec 3<>"$input"
: >"$log"
if ((tee)); then
    timeout --kill-after=10 "$timeout_s" "${qemu[@]}" <"$input" > >(tee "$log") 2>"$machine/qemu.stderr" &
else
    timeout --kill-after=10 "$timeout_s" "${qemu[@]}" <"$input" >"$log" 2>"$machine/qemu.stderr" &
fi
qemu_pid=$!

# --answer: the n-th answer with a given REGEX is typed once the log shows
# that REGEX for the n-th time (a prompt asked again gets the next answer).
answerer() {
    local i n re
    declare -A seen=()
    for i in "${!answer_re[@]}"; do
        re=${answer_re[$i]}
        seen[$re]=$(( ${seen[$re]:-0} + 1 ))
        while n=$(grep -acE -- "$re" "$log" 2>/dev/null); ((${n:-0} < ${seen[$re]})); do
            kill -0 "$qemu_pid" 2>/dev/null || return 0
            sleep 0.3
        done
        sleep 0.5
        printf '%s\n' "${answer_text[$i]}" >&3
    done
}
answer_pid=''
if ((${#answer_re[@]})); then
    answerer &
    answer_pid=$!
fi
rc=0
if [[ -n "$stop_re" ]]; then
    # Poll the log while QEMU runs; the log is the guest's only voice.
    while kill -0 "$qemu_pid" 2>/dev/null; do
        if grep -aqE -- "$stop_re" "$log" 2>/dev/null; then
            sleep 2
            kill "$qemu_pid" 2>/dev/null || true
            wait "$qemu_pid" 2>/dev/null || true
            qemu_pid=''
            echo "run: stopped: log matched /$stop_re/" >&2
            exit 125
        fi
        sleep 1
    done
fi
wait "$qemu_pid" || rc=$?
qemu_pid=''
if ((rc != 0 && rc != 124)) && [[ -s "$machine/qemu.stderr" ]]; then
    cat "$machine/qemu.stderr" >&2
fi
exit "$rc"
