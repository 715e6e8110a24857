# shellcheck shell=bash disable=SC2034,SC2154 # sourced by run.sh, which sets and reads these
# The TPM on the CRB interface (issue 14): what Intel PTT and firmware TPMs on edge hardware
# expose. The same unlocks as over TIS (the other scenarios), through QEMU's tpm-crb device.
all_scenarios+=(token-crb emt-fde-crb)

check_crb_interface() {
    reject 'tpm_tis MSFT0101' "the TPM was driven over TIS, not CRB"
    expect 'edgeinit: stage tpm2 done in [0-9]+ ms' "no tpm2 stage"
}

# A systemd-tpm2 token (systemd-cryptenroll 252) unlocks unattended over CRB.
setup_token-crb() {
    setup_token
    run_args=(--tpm-crb)
}
check_token-crb() {
    check_token
    check_crb_interface
}

# EMT's sealed key at 0x81000000 unseals over CRB.
setup_emt-fde-crb() {
    setup_emt-fde
    run_args=(--tpm-crb)
}
check_emt-fde-crb() {
    check_emt-fde
    check_crb_interface
}
