#!/bin/sh
# Sourced by dracut before switch_root, with the root at $NEWROOT.
/sbin/emt-persistent-mount "${NEWROOT:-/sysroot}"
