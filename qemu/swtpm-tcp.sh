# shellcheck shell=bash
# Start swtpm on a free TCP port pair for the host-side TPM tools (qemu/seal-emt-key.sh,
# qemu/enroll-token.sh), which boot tests run two at a time. Picking the port and starting swtpm
# happen under one lock, with the pair checked free first, so two scripts never share a port:
# the loser's tools would talk to the winner's swtpm and seal into the other machine's TPM state.
# Usage: . qemu/swtpm-tcp.sh; swtpm_tcp_start STATE_DIR  (sets swtpm_port and swtpm_pid)

swtpm_port_free() {
    python3 - "$1" <<'PY'
import socket, sys
p = int(sys.argv[1])
for port in (p, p + 1):
    s = socket.socket()
    s.bind(("127.0.0.1", port))
    s.close()
PY
}

swtpm_listening() {
    python3 -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=2).close()' "$1" 2>/dev/null
}

swtpm_tcp_start() {
    local state=$1 lock_fd _try _wait
    exec {lock_fd}>"${TMPDIR:-/tmp}/edgeinit-swtpm-port.lock"
    flock "$lock_fd"
    for _try in $(seq 20); do
        swtpm_port=$((20000 + RANDOM % 20000))
        swtpm_port_free "$swtpm_port" 2>/dev/null || continue
        swtpm socket --tpm2 --tpmstate "dir=$state" --server "type=tcp,port=$swtpm_port,bindaddr=127.0.0.1" \
            --ctrl "type=tcp,port=$((swtpm_port + 1)),bindaddr=127.0.0.1" --flags not-need-init,startup-clear &
        swtpm_pid=$!
        # Ours once it listens while alive (an swtpm that lost the port exits).
        for _wait in $(seq 150); do
            kill -0 "$swtpm_pid" 2>/dev/null || break
            if swtpm_listening "$swtpm_port" && kill -0 "$swtpm_pid" 2>/dev/null; then
                exec {lock_fd}>&-
                return 0
            fi
            sleep 0.1
        done
        kill "$swtpm_pid" 2>/dev/null
        wait "$swtpm_pid" 2>/dev/null
    done
    exec {lock_fd}>&-
    echo "swtpm-tcp: could not start swtpm on a free port for $state" >&2
    return 1
}
