/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device manager: the one service through which stages see devices. It owns the kernel
 * uevent socket, the block devices seen with what libblkid said about them, and the drivers
 * loaded for device aliases (coldplug and hotplug share the "seen" list), and it has the one
 * bounded wait every stage that waits for a device uses. */
#pragma once

#include <stdbool.h>
#include <stdint.h>

#include "edgeinit/devref.h"
#include "edgeinit/sys.h"

#define DEVNODE_MAX 160
#define BLOCKDEV_SEEN_MAX 64
#define MODALIAS_SEEN_MAX 512

/* A block device seen during the boot, with what libblkid said about it. */
struct blockdev {
	char name[64];           /* vda3 */
	char node[DEVNODE_MAX];  /* /dev/vda3 */
	char disk[64];           /* vda for a partition, "" for a whole disk */
	unsigned partn;          /* partition number, 0 for a whole disk */
	bool probed;
	bool superblocks_probed; /* tags include UUID, LABEL, TYPE */
	struct blockdev_tags tags;
	bool removable;          /* its disk is removable media or on USB (sysfs) */
};

/* The disk a device is on: itself for a whole disk. */
static inline const char *blockdev_disk(const struct blockdev *d)
{
	return d->disk[0] ? d->disk : d->name;
}

struct device_manager {
	const char *root;        /* "" on the machine, the fake root in stage tests */
	const struct sys_ops *sys;
	int uevent_fd;           /* opened by the modules stage before any driver is loaded */
	unsigned modules_loaded;
	/* Device aliases a driver was already looked up for. */
	char *aliases_seen[MODALIAS_SEEN_MAX];
	unsigned n_aliases_seen;
	struct blockdev seen[BLOCKDEV_SEEN_MAX];
	unsigned n_seen;
	/* A UUID=/LABEL= reference needs file system superblocks: probe them on every device. */
	bool probe_superblocks;
};

void devmgr_init(struct device_manager *dm, const char *root, const struct sys_ops *sys);
/* Close the socket and free the alias list. Safe to call twice. */
void devmgr_done(struct device_manager *dm);

/* Open the uevent socket. 0 or -errno. */
int devmgr_open(struct device_manager *dm);
/* Load a module by name (counted). 0, or -errno from libkmod. */
int devmgr_load_module(struct device_manager *dm, const char *name);
/* Load names in the background, in this order, while the boot waits (sys_dev_ops); a later
 * devmgr_load_module() of one of them waits for its turn. 0 or -errno (nothing started). */
int devmgr_load_background(struct device_manager *dm, const char *const *names, size_t n);
/* End the background loading (bounded), loading nothing more with skip_rest. 0 or -ETIMEDOUT. */
int devmgr_finish_background(struct device_manager *dm, bool skip_rest);
/* Load the driver for a device alias once per boot. Returns 1 if a module was loaded, 0 if the
 * alias was handled before or has no module in the initrd. */
int devmgr_load_driver(struct device_manager *dm, const char *alias);

/* Record every block device sysfs shows now. */
void devmgr_scan(struct device_manager *dm);
/* Read every pending uevent: drivers for new devices (MODALIAS), new block devices recorded and
 * probed. Never blocks. Only the kernel's messages (port id 0) are read. */
void devmgr_drain(struct device_manager *dm);

/* ready(userdata): > 0 done, 0 not yet, < 0 an error that ends the wait. */
typedef int (*devmgr_ready_fn)(void *userdata);
/* The one wait: ask ready, and until it says done, handle uevents as they come, never past
 * deadline (monotonic us). Returns 0 once ready, ready's error, or -ETIMEDOUT (at once when there
 * is no uevent socket: nothing can change; a boot never gets here without one, the modules stage
 * fails first). */
int devmgr_wait(struct device_manager *dm, devmgr_ready_fn ready, void *userdata, uint64_t deadline);

struct blockdev *devmgr_find(struct device_manager *dm, const char *name);
/* Probe d's file system superblock (UUID, LABEL, TYPE) unless that was done. 0 or -errno. */
int devmgr_probe_superblocks(struct device_manager *dm, struct blockdev *d);
/* Every device seen, for messages: "vda1 (PARTLABEL=esp), vda2, sda [removable]" or "none". */
void devmgr_describe(const struct device_manager *dm, char *buf, size_t size);
