/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage devices, EMT profile: find EMT's OS disk.
 * Runs: in the EMT profile, under the name "devices" (the verity profile's is devices.c).
 * Reads: ctx->opts (boot_uuid=, rd.timeout=), the device manager (ctx->dev), LoaderDevicePartUUID
 *   through devices.h.
 * Writes: ctx->boot_disk, ctx->os_disk: the disk with a partition named "rootfs" (or
 *   carrying boot_uuid=), whose partitions the emt stage then reads; the report's "os-disk".
 * Trust: as devices.c: the OS disk comes from the boot disk alone when the loader named it; two
 *   candidate disks are fatal.
 * Fails: after rd.timeout seconds naming what was seen; at once on two candidate disks, or a
 *   boot disk without EMT's partitions. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "edgeinit/emt.h"
#include "edgeinit/log.h"
#include "edgeinit/strutil.h"
#include "devices.h"

/* EMT: the OS disk is the one with a partition named "rootfs" (EMT's installer names them), or,
 * on a disk without names, the one whose partition carries boot_uuid=. Only eligible disks
 * count (the boot disk when known); others are named once. *dup is set to a second eligible
 * disk's partition when there is one. */
static const struct blockdev *emt_os_disk_partition(struct boot_context *ctx,
						    const struct loader_info *li, bool *warned,
						    const struct blockdev **dup)
{
	const struct blockdev *found = NULL;
	char why[160];

	*dup = NULL;
	for (unsigned i = 0; i < ctx->dev.n_seen; i++) {
		const struct blockdev *d = &ctx->dev.seen[i];
		enum eligibility e;

		if (!d->partn || !emt_disk_kind_supported(d->disk) || !streq(d->tags.partlabel, "rootfs"))
			continue;
		e = eligible(ctx, li, d);
		if (e == BOOT_DISK_PENDING)
			continue;
		if (e != ELIGIBLE) {
			if (!warned[i])
				log_warning("Ignoring %s, a partition named 'rootfs' on /dev/%s: %s.",
					    d->node, d->disk, ignored_why(ctx, e, why, sizeof(why), d));
			warned[i] = true;
			continue;
		}
		if (!found)
			found = d;
		else if (!*dup && !streq(d->disk, found->disk))
			*dup = d;
	}
	if (found)
		return found;
	/* Superblocks cost most of a probe: only for this fallback, once per partition. */
	for (unsigned i = 0; i < ctx->dev.n_seen; i++) {
		struct blockdev *d = &ctx->dev.seen[i];

		if (!d->partn || !emt_disk_kind_supported(d->disk) || eligible(ctx, li, d) != ELIGIBLE)
			continue;
		if (devmgr_probe_superblocks(&ctx->dev, d) < 0 || strcasecmp(d->tags.uuid, ctx->opts.boot_uuid) != 0)
			continue;
		if (!found)
			found = d;
		else if (!*dup && !streq(d->disk, found->disk))
			*dup = d;
	}
	return found;
}

struct os_disk_wait {
	struct boot_context *ctx;
	const struct loader_info *li;
	bool *warned;
	const struct blockdev *d, *dup;
};

/* devmgr_wait's question. Every partition of the boot disk is known once it is seen: no OS disk
 * there is final, whatever other disks carry. */
static int os_disk_found(void *userdata)
{
	struct os_disk_wait *w = userdata;
	int r = boot_disk_update(w->ctx, w->li);

	if (r < 0)
		return r;
	w->d = emt_os_disk_partition(w->ctx, w->li, w->warned, &w->dup);
	return w->d || w->ctx->boot_disk[0];
}

static int emt_devices_run(struct boot_context *ctx)
{
	uint64_t deadline = now_monotonic_us() + (uint64_t)ctx->opts.timeout_sec * 1000000;
	struct loader_info loader, *li = &loader;
	const struct blockdev *d, *dup;
	bool warned[BLOCKDEV_SEEN_MAX] = { false };
	struct os_disk_wait w = { .ctx = ctx, .li = li, .warned = warned };
	char seen[1024];
	int r = 0;

	loader_read(ctx, li);
	devmgr_scan(&ctx->dev);
	devmgr_drain(&ctx->dev);
	r = devmgr_wait(&ctx->dev, os_disk_found, &w, deadline);
	if (r < 0 && r != -ETIMEDOUT)
		return r;
	d = w.d;
	dup = w.dup;
	if (d) {
		/* The kernel announces a disk's partitions one uevent after the other, but creates
		 * them in sysfs before the first: read sysfs once more so none is missed. */
		devmgr_scan(&ctx->dev);
		r = boot_disk_update(ctx, li);
		if (r < 0)
			return r;
		d = emt_os_disk_partition(ctx, li, warned, &dup);
	}
	if (d && dup) {
		const struct blockdev *x = d, *y = dup;
		const char *what = streq(d->tags.partlabel, "rootfs") ? "a partition named 'rootfs'"
								      : "a partition with the UUID of boot_uuid=";

		if (strverscmp(x->node, y->node) > 0) {
			x = dup;
			y = d;
		}
		ctx_set_remedy(ctx,
			       "Remove the disk that is not this device's own, or boot through systemd-boot or systemd-stub, which tell edgeinit the disk they started from (LoaderDevicePartUUID).");
		return log_error_errno(-EEXIST,
				       "Two disks carry %s: /dev/%s (%s) and /dev/%s (%s), and the loader did not say which disk it started from. Refusing to guess EMT's OS disk.",
				       what, x->disk, x->node, y->disk, y->node);
	}
	if (d) {
		str_copy(ctx->os_disk, sizeof(ctx->os_disk), d->disk);
		const char *ref = streq(d->tags.partlabel, "rootfs") ? "PARTLABEL=rootfs" : "boot_uuid=";

		log_info("Found EMT's OS disk /dev/%s (%s is %s).", d->disk, d->node, ref);
		report_add_device(&ctx->report, "os-disk", ref, d->node);
		return 0;
	}
	if (ctx->boot_disk[0]) {
		ctx_set_remedy(ctx,
			       "EMT's OS disk must be the disk the device booted from: check the firmware's boot order, and remove disks that are not this device's own.");
		return log_error_errno(-ENODEV,
				       "The boot disk /dev/%s (the ESP the loader started from) has no partition named 'rootfs' and none with UUID %s (boot_uuid=); partitions on other disks are not used.",
				       ctx->boot_disk, ctx->opts.boot_uuid);
	}
	if (r != -ETIMEDOUT)
		return r;
	if (li->partuuid[0])
		return boot_disk_timeout(ctx, li);
	devmgr_describe(&ctx->dev, seen, sizeof(seen));
	ctx_set_remedy(ctx,
		       "Check that the OS disk (sd*, nvme*, vd*, mmcblk*) is attached and carries EMT's partitions; rd.timeout= sets the wait.");
	return log_error_errno(-ETIMEDOUT,
			       "Timed out after %u s waiting for EMT's OS disk (a partition named 'rootfs', or one with UUID %s from boot_uuid=). Block devices seen: %s.",
			       ctx->opts.timeout_sec, ctx->opts.boot_uuid, seen);
}

const struct stage stage_emt_devices = { .name = "devices", .run = emt_devices_run };
