#!/bin/bash
# EMT's persistent-mount hook, re-created for make bench from ../shared/layout/FORMAT.md: source
# layout.env with bash, mount the persistent partition, one tmpfs for the overlays' upper layers,
# the overlays, then the bind mounts with their first-boot copies. Only the persistent mount
# stops the boot; every other error is reported and skipped, as in EMT's hook.
root=${1:?root}
say() { echo "emt-persistent-mount: $*" >/dev/kmsg; }
OVERLAY=tmpfs:25%
PERSISTENT_BIND_TARGET=/opt/.mount/persistent
TMPFS_OVERLAY_TARGET=/opt/.mount/tmpfs
env=$root/etc/layout.env
[[ -e "$env" ]] || env=/etc/layout.env
# shellcheck disable=SC1090 # the image's file, as EMT's hook does
. "$env"
[[ -v TMPFS_OVERLAYS_PATHS ]] || TMPFS_OVERLAYS_PATHS=/var
mangle() { local m=${1#/}; echo "${m//\//-}"; }

persist_mnt=${PERSISTENT_BIND_TARGET#/}
persist_mnt=/${persist_mnt%%/*}
dev=/dev/mapper/edge_persistent
[[ -e $dev ]] || dev=/dev/disk/by-partlabel/edge_persistent
mount -t ext4 -o rw "$dev" "$root$persist_mnt" || { say "cannot mount $dev on $persist_mnt"; exit 1; }

mkdir -p "$root$TMPFS_OVERLAY_TARGET"
[[ $OVERLAY == tmpfs:* ]] && mount -t tmpfs -o "size=${OVERLAY#tmpfs:}" tmpfs "$root$TMPFS_OVERLAY_TARGET"
for p in $TMPFS_OVERLAYS_PATHS; do
    mountpoint -q "$root$p" && continue
    [[ -d "$root$p" ]] || { say "skipping overlay $p: no such directory"; continue; }
    base=$root$TMPFS_OVERLAY_TARGET/$(mangle "$p").overlay
    upper=$base/$(basename "$p")
    mkdir -p "$upper" "$base/work"
    chown --reference="$root$p" "$upper"
    chmod --reference="$root$p" "$upper"
    mount -t overlay overlay -o "lowerdir=$root$p,upperdir=$upper,workdir=$base/work" "$root$p" ||
        say "overlay $p failed"
done
for p in $PERSISTENT_BIND_PATHS; do
    mountpoint -q "$root$p" && continue
    [[ -e "$root$p" ]] || { say "skipping bind $p: not in the root"; continue; }
    state=$root$PERSISTENT_BIND_TARGET/$(mangle "$p").bind
    mkdir -p "$state"
    if [[ -d "$root$p" ]]; then
        cp -an "$root$p/." "$state/"
        mount --bind "$state" "$root$p" || say "bind $p failed"
    else
        name=$(basename "$p")
        [[ -e "$state/$name" ]] || cp -a "$root$p" "$state/$name"
        mount --bind "$state/$name" "$root$p" || say "bind $p failed"
    fi
done
exit 0
