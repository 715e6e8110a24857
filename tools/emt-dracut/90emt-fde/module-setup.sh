#!/bin/bash
# dracut module: EMT's FDE unlock hook, re-created for make bench (see ../README.md).
# shellcheck disable=SC2154 # moddir is set by dracut
check() { return 255; }
depends() { echo dm tpm2-tss; }
installkernel() { instmods dm_crypt dm_verity ext4; }
install() {
    inst_multiple cryptsetup veritysetup blkid tpm2_unseal mount umount mkdir cat sed grep udevadm
    inst_script "$moddir/emt-fde-unlock.sh" /sbin/emt-fde-unlock
    # initqueue/settled: after udev has settled (the TPM and the disks are there), before
    # dracut gives up waiting for root=/dev/mapper/rootfs_verity.
    inst_hook initqueue/settled 50 "$moddir/emt-fde-settled.sh"
    # With the systemd module, dracut-initqueue.service runs only if this file exists.
    dracut_need_initqueue
}
