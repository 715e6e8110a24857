#!/bin/bash
# Seal a passphrase into a swtpm state the way EMT's provisioning does: an ECC P-256 owner
# primary, a keyed-hash object with PolicyPCR over SHA-256 PCR 15 (its value at boot, before
# anything extends it: zeros), made persistent at handle 0x81000000.
# Usage: qemu/seal-emt-key.sh TPM_STATE_DIR PASSPHRASE_FILE [PCR15_HEX [HANDLE]]
# PCR15_HEX seals against another PCR 15 value ("a different machine or boot chain"); HANDLE
# (default 0x81000000) puts the object at another persistent handle, next to the first.
set -euo pipefail

state=${1:?usage: $0 TPM_STATE_DIR PASSPHRASE_FILE [PCR15_HEX [HANDLE]]}
pass=$(realpath "${2:?usage: $0 TPM_STATE_DIR PASSPHRASE_FILE [PCR15_HEX [HANDLE]]}")
pcr15=${3:-0000000000000000000000000000000000000000000000000000000000000000}
handle=${4:-0x81000000}
mkdir -p "$state"
work=$(mktemp -d)
# shellcheck source=qemu/swtpm-tcp.sh
. "$(dirname "${BASH_SOURCE[0]}")/swtpm-tcp.sh"
swtpm_pid=''
# shellcheck disable=SC2317 # runs from the trap
cleanup() { [[ -z "$swtpm_pid" ]] || { kill "$swtpm_pid" 2>/dev/null; wait "$swtpm_pid" 2>/dev/null; }; rm -rf "$work"; }
trap cleanup EXIT
swtpm_tcp_start "$state"
export TPM2TOOLS_TCTI="swtpm:host=127.0.0.1,port=$swtpm_port"

cd "$work"
python3 -c 'import sys; sys.stdout.buffer.write(bytes.fromhex(sys.argv[1]))' "$pcr15" >pcr15.bin
# A raw swtpm has no resource manager: every tool leaves its objects and sessions loaded, so
# flush them after each step, or the TPM runs out of object slots.
flush() { tpm2_flushcontext -t; tpm2_flushcontext -s; }
tpm2_createprimary -Q -C o -G ecc -c primary.ctx && flush
tpm2_createpolicy -Q --policy-pcr -l sha256:15 -f pcr15.bin -L policy.dat && flush
tpm2_create -Q -C primary.ctx -L policy.dat -a "fixedtpm|fixedparent|noda" -i "$pass" -u seal.pub -r seal.priv && flush
tpm2_load -Q -C primary.ctx -u seal.pub -r seal.priv -c seal.ctx
tpm2_evictcontrol -Q -C o -c seal.ctx "$handle" && flush
# Shut down cleanly so that the state on disk is complete.
tpm2_shutdown -Q
echo "seal-emt-key: sealed $(wc -c <"$pass") bytes at $handle (PolicyPCR sha256:15) in $state"
