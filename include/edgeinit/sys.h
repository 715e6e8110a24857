/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The one seam for side effects. Everything that changes the machine (mounts, device-mapper,
 * module insertion, block probing, chroot, exec, reboot) goes through these operations, so that
 * stage tests can hand in a recording fake and a temporary directory as "/". All paths passed
 * here are absolute paths on the machine (the real implementation) or below the fake root. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeinit/devref.h"

struct verity_activation {
	const char *name;        /* mapper name, e.g. rootfs_verity */
	const char *data_node;   /* /dev/vda2 */
	const char *hash_node;   /* /dev/vda4 */
	const uint8_t *roothash;
	size_t roothash_size;
	uint32_t flags;          /* CRYPT_ACTIVATE_* from libcryptsetup */
};

struct sys_ops {
	int (*mount)(const char *source, const char *target, const char *fstype,
		     unsigned long flags, const char *data);
	int (*umount)(const char *target, int flags);
	int (*chroot)(const char *path);
	/* Load a kernel module by name or alias with its dependencies (libkmod). 0 if loaded or
	 * built in, -ENOENT if no module matches. */
	int (*load_module)(const char *name_or_alias);
	/* libblkid: fill tags for a block device node. The partition entry (PARTLABEL, PARTUUID)
	 * is always read; file system superblocks (UUID, LABEL, TYPE) only if superblocks is set,
	 * since trying every superblock type is most of the cost of a probe. */
	int (*probe_block)(const char *devnode, bool superblocks, struct blockdev_tags *tags);
	/* libcryptsetup: activate a dm-verity mapping. */
	int (*verity_activate)(const struct verity_activation *a);
	/* libdevmapper: hex root hash of an active verity mapping; -ENODEV if there is none. */
	int (*verity_active_roothash)(const char *name, char *hex, size_t size);
	/* Open a kernel uevent socket (NETLINK_KOBJECT_UEVENT); returns an fd. */
	int (*uevent_open)(void);
	/* reboot(2) with RB_* */
	int (*reboot)(int cmd);
};

/* The machine. Implemented in init/sys_real.c. */
extern const struct sys_ops sys_real;
