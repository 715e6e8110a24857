#!/bin/bash
# Enroll a systemd-tpm2 token into a LUKS2 image the way integrators do, with systemd-cryptenroll
# (the host's, systemd 252 as in the guest) against a machine's swtpm state. systemd 252 takes a
# "<tcti>:<conf>" --tpm2-device= and talks to swtpm over TCP, so no kernel module is needed.
# Usage: qemu/enroll-token.sh TPM_STATE_DIR LUKS_IMAGE PASSPHRASE_FILE PCRS
# PCRS as systemd-cryptenroll --tpm2-pcrs= takes them ("15", "7+15", "" for none). PCR 15 is
# all zeros both here and when edgeinit unseals (it latches PCR 15 only after unlocking).
set -euo pipefail

state=${1:?usage: $0 TPM_STATE_DIR LUKS_IMAGE PASSPHRASE_FILE PCRS}
image=${2:?usage: $0 TPM_STATE_DIR LUKS_IMAGE PASSPHRASE_FILE PCRS}
pass=${3:?usage: $0 TPM_STATE_DIR LUKS_IMAGE PASSPHRASE_FILE PCRS}
pcrs=${4-15}
mkdir -p "$state"
# shellcheck source=qemu/swtpm-tcp.sh
. "$(dirname "${BASH_SOURCE[0]}")/swtpm-tcp.sh"
swtpm_pid=''
# shellcheck disable=SC2317 # runs from the trap
cleanup() { [[ -z "$swtpm_pid" ]] || { kill "$swtpm_pid" 2>/dev/null; wait "$swtpm_pid" 2>/dev/null; }; true; }
trap cleanup EXIT
swtpm_tcp_start "$state"
port=$swtpm_port

PASSWORD=$(cat "$pass") systemd-cryptenroll --tpm2-device="swtpm:host=127.0.0.1,port=$port" \
    --tpm2-pcrs="$pcrs" "$image"
# An orderly TPM2_Shutdown(SU_CLEAR): a disorderly stop counts as a dictionary-attack failure.
python3 -c 'import socket,sys; s=socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(bytes.fromhex("80010000000c000001450000")); s.recv(64)' "$port"
echo "enroll-token: systemd-tpm2 token (PCRs '$pcrs') in $image"
