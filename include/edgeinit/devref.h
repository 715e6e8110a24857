/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Device references as users write them: PARTLABEL=, PARTUUID=, UUID=, LABEL= or a /dev path. */
#pragma once

#include <stdbool.h>

#define DEVREF_VALUE_MAX 256

enum devref_kind {
	DEVREF_NONE,
	DEVREF_PATH,
	DEVREF_PARTLABEL,
	DEVREF_PARTUUID,
	DEVREF_UUID,
	DEVREF_LABEL,
};

struct devref {
	enum devref_kind kind;
	char value[DEVREF_VALUE_MAX]; /* path, label or uuid (as given) */
};

/* What libblkid found on one block device. Empty strings mean "not present". */
struct blockdev_tags {
	char partlabel[DEVREF_VALUE_MAX];
	char partuuid[64];
	char uuid[64];
	char label[DEVREF_VALUE_MAX];
	char type[32];
};

/* Parse "PARTLABEL=x", "/dev/sda1", "/dev/disk/by-partlabel/x" (mapped to PARTLABEL=x, likewise
 * by-partuuid, by-uuid, by-label, since there is no udev to make those links). -EINVAL if the
 * value is empty, not absolute, or has an unknown KEY=; -E2BIG if it is too long. */
int devref_parse(const char *s, struct devref *ref);

/* Does a device with these tags and this /dev node satisfy ref? UUIDs compare case-insensitively. */
bool devref_match(const struct devref *ref, const char *devnode, const struct blockdev_tags *tags);

/* Format ref back into the user's form ("PARTLABEL=rootfs"). Returns buf. */
const char *devref_to_string(const struct devref *ref, char *buf, size_t size);

/* Format 16 bytes as a lower-case 8-4-4-4-12 UUID into buf (size >= 37). */
void uuid_format(const unsigned char bytes[16], char *buf);
