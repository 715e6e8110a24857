/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boot-disk rules shared by the two devices stages (devices.c for the verity profile,
 * emt_devices.c for EMT's): what the loader said, which disks may provide a role. */
#pragma once

#include <stdint.h>

#include "edgeinit/stage.h"

/* What the loader said: the PARTUUID of the ESP it started from, "" if nothing usable. */
struct loader_info {
	char partuuid[37];
};

enum eligibility {
	ELIGIBLE,
	NOT_ON_BOOT_DISK,
	BOOT_DISK_PENDING,  /* the loader named its ESP, which is not seen yet */
	REMOVABLE,
};

/* Read LoaderDevicePartUUID into li, then unmount efivarfs. */
void loader_read(struct boot_context *ctx, struct loader_info *li);
/* Set ctx->boot_disk once the loader's ESP is seen. 0 or -errno (two partitions carry it). */
int boot_disk_update(struct boot_context *ctx, const struct loader_info *li);
/* May d provide a role found by a name or UUID the disk chose? */
enum eligibility eligible(const struct boot_context *ctx, const struct loader_info *li,
			  const struct blockdev *d);
/* Why d was ignored, for the log. */
const char *ignored_why(const struct boot_context *ctx, enum eligibility e, char *buf, size_t size,
			const struct blockdev *d);
/* The loader's ESP never appeared: log it, set the remedy, -ETIMEDOUT. */
int boot_disk_timeout(struct boot_context *ctx, const struct loader_info *li);
