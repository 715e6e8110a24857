#!/bin/sh
# Sourced by dracut's initqueue on every pass after udev settles: unlock once.
[ -e /dev/mapper/rootfs_verity ] || [ -e /run/emt-fde.done ] || { /sbin/emt-fde-unlock; : >/run/emt-fde.done; }
