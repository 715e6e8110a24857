/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel uevents as they arrive on NETLINK_KOBJECT_UEVENT (and in sysfs "uevent" files). */
#pragma once

#include <stddef.h>

#define UEVENT_FIELD_MAX 256

struct uevent {
	char action[16];     /* add, remove, change, bind, ... ("" for a sysfs uevent file) */
	char devpath[UEVENT_FIELD_MAX];
	char subsystem[64];
	char devname[UEVENT_FIELD_MAX];
	char devtype[32];
	char modalias[UEVENT_FIELD_MAX];
	char partname[UEVENT_FIELD_MAX];
	char partn[12];      /* partition number, "" for whole disks */
};

/* Parse one kernel netlink message: "action@devpath\0KEY=VALUE\0...". -EINVAL if it is not a
 * kernel uevent (e.g. a udev "libudev" message) or is malformed. */
int uevent_parse_netlink(const char *buf, size_t len, struct uevent *ev);

/* Parse the contents of a sysfs uevent file: "KEY=VALUE\n..." */
int uevent_parse_sysfs(const char *buf, size_t len, struct uevent *ev);
