#!/bin/bash
# dracut module: EMT's 91persistent-mount hook, re-created for make bench (see ../README.md).
# shellcheck disable=SC2154 # moddir is set by dracut
check() { return 255; }
depends() { echo bash; }
installkernel() { instmods overlay ext4; }
install() {
    inst_multiple bash cp mkdir mount mountpoint chown chmod basename
    inst_script "$moddir/emt-persistent-mount.sh" /sbin/emt-persistent-mount
    inst_hook pre-pivot 50 "$moddir/emt-persistent-mount-hook.sh"
    # The image's layout.env, for a root without /etc/layout.env (edgeinit does the same).
    [[ -n "${EMT_LAYOUT_ENV:-}" ]] && inst_simple "$EMT_LAYOUT_ENV" /etc/layout.env
}
