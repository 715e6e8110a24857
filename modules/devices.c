/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage devices.
 * Reads: ctx->opts (the verity data and hash partitions, the persistent partition,
 *   rd.timeout=), ctx->uevent_fd, /sys/class/block below ctx->root.
 * Writes: ctx->seen (every block device and its libblkid tags), ctx->verity_data_node,
 *   ctx->verity_hash_node, ctx->persist_node, report devices; in the EMT profile only
 *   ctx->os_disk: the disk with a partition named "rootfs" (or carrying boot_uuid=), whose
 *   partitions the emt stage then reads.
 * How: block devices already present are read from sysfs; new ones arrive as kernel uevents on
 *   the socket the modules stage opened before any driver was loaded, so none is missed. Each
 *   device is probed once with libblkid, for its partition entry only unless a UUID= or LABEL=
 *   reference needs file system superblocks. Uevents with a MODALIAS get their driver loaded
 *   (hotplug). The wait is poll() on the socket with the remaining time: no sleeps, no rescans.
 * Fails: after rd.timeout seconds, naming each missing reference (or EMT's OS disk) and listing
 *   what was seen. */
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "edgeinit/emt.h"
#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "edgeinit/uevent.h"

struct wanted {
	const char *role;          /* for messages and the report */
	const char *option;        /* where the user sets it */
	const struct devref *ref;
	char *node;                /* where to store the result */
	bool found;
};

static struct blockdev *seen_find(struct boot_context *ctx, const char *name)
{
	for (unsigned i = 0; i < ctx->n_seen; i++)
		if (streq(ctx->seen[i].name, name))
			return &ctx->seen[i];
	return NULL;
}

/* Record (or re-probe, on "change") a block device and probe it with libblkid. */
static void device_add(struct boot_context *ctx, const struct uevent *ev, bool reprobe)
{
	const char *devname = ev->devname;
	struct blockdev *d = seen_find(ctx, devname);
	unsigned long long partn;
	char path[512];
	int r;

	if (d && !reprobe)
		return;
	if (!d) {
		if (strlen(devname) >= sizeof(d->name)) {
			log_warning("Block device name '%s' is too long, ignoring it.", devname);
			return;
		}
		if (ctx->n_seen >= BLOCKDEV_SEEN_MAX) {
			log_warning("More than %d block devices, ignoring '%s'.", BLOCKDEV_SEEN_MAX,
				    devname);
			return;
		}
		d = &ctx->seen[ctx->n_seen++];
		memset(d, 0, sizeof(*d));
		str_copy(d->name, sizeof(d->name), devname);
		snprintf(d->node, sizeof(d->node), "/dev/%.63s", devname);
		if (streq(ev->devtype, "partition") && parse_uint(ev->partn, 4096, &partn) == 0 &&
		    partition_disk_name(devname, d->disk, sizeof(d->disk)) >= 0)
			d->partn = (unsigned)partn;
		else
			d->disk[0] = '\0';
	}
	ctx_path(ctx, d->node, path, sizeof(path));
	r = ctx->sys->probe_block(path, ctx->probe_superblocks, &d->tags);
	d->probed = r >= 0;
	d->superblocks_probed = d->probed && ctx->probe_superblocks;
	if (r < 0)
		log_debug_errno(r, "Cannot probe '%s', ignoring: %m", d->node);
	else
		log_debug("Found %s: PARTLABEL='%s' PARTUUID=%s UUID=%s LABEL='%s' TYPE=%s", d->node,
			  d->tags.partlabel, d->tags.partuuid, d->tags.uuid, d->tags.label,
			  d->tags.type);
}

/* Mark every wanted reference that a seen device satisfies. Returns how many are missing. */
static unsigned resolve(struct boot_context *ctx, struct wanted *w, size_t n)
{
	unsigned missing = 0;

	for (size_t i = 0; i < n; i++) {
		for (unsigned j = 0; !w[i].found && j < ctx->n_seen; j++) {
			const struct blockdev *d = &ctx->seen[j];

			if (!devref_match(w[i].ref, d->node, d->probed ? &d->tags : NULL))
				continue;
			str_copy(w[i].node, DEVNODE_MAX, d->node);
			w[i].found = true;
		}
		if (!w[i].found)
			missing++;
	}
	return missing;
}

static void scan_sysfs(struct boot_context *ctx)
{
	char dir[512], path[1024], buf[1024];
	struct uevent ev;
	DIR *d;
	struct dirent *e;

	ctx_path(ctx, "/sys/class/block", dir, sizeof(dir));
	d = opendir(dir);
	if (!d) {
		log_warning_errno(negative_errno(), "Cannot list '%s', waiting for uevents only: %m", dir);
		return;
	}
	while ((e = readdir(d))) {
		int n;

		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s/uevent", dir, e->d_name);
		n = read_small_file(path, buf, sizeof(buf));
		if (n < 0 || uevent_parse_sysfs(buf, (size_t)n, &ev) < 0 || !ev.devname[0])
			continue;
		device_add(ctx, &ev, false);
	}
	closedir(d);
}

/* Drain the uevent socket. Only messages from the kernel (port id 0) are trusted. Shared with
 * the tpm2 stage, which waits on the same socket for /dev/tpmrm0. */
void ctx_drain_uevents(struct boot_context *ctx)
{
	char buf[8192];
	struct uevent ev;

	for (;;) {
		struct sockaddr_nl sender = { 0 };
		socklen_t len = sizeof(sender);
		ssize_t n = recvfrom(ctx->uevent_fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&sender, &len);

		if (n < 0) {
			if (errno == ENOBUFS) {
				/* Events were lost: sysfs still has the truth. */
				log_warning("Uevent queue overflowed, reading sysfs again.");
				scan_sysfs(ctx);
				continue;
			}
			return;
		}
		if (sender.nl_pid != 0 || uevent_parse_netlink(buf, (size_t)n, &ev) < 0)
			continue;
		if (ev.modalias[0] && streq(ev.action, "add") && ctx_load_driver(ctx, ev.modalias) > 0)
			log_debug("Loaded driver for %s (%s).", ev.devpath, ev.modalias);
		if (streq(ev.subsystem, "block") && ev.devname[0] &&
		    (streq(ev.action, "add") || streq(ev.action, "change")))
			device_add(ctx, &ev, streq(ev.action, "change"));
	}
}

static void describe_seen(struct boot_context *ctx, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < ctx->n_seen && len < size; i++) {
		const struct blockdev *d = &ctx->seen[i];
		int n = snprintf(buf + len, size - len, "%s%s%s%s%s", i ? ", " : "", d->name,
				 d->tags.partlabel[0] ? " (PARTLABEL=" : "", d->tags.partlabel,
				 d->tags.partlabel[0] ? ")" : "");

		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (ctx->n_seen == 0)
		snprintf(buf, size, "none");
}

/* EMT: the OS disk is the one with a partition named "rootfs" (EMT's installer names them), or,
 * on a disk without names, the one whose partition carries boot_uuid=. */
static const struct blockdev *emt_os_disk_partition(struct boot_context *ctx)
{
	for (unsigned i = 0; i < ctx->n_seen; i++) {
		const struct blockdev *d = &ctx->seen[i];

		if (d->partn && emt_disk_kind_supported(d->disk) && streq(d->tags.partlabel, "rootfs"))
			return d;
	}
	/* Superblocks cost most of a probe: only for this fallback, once per partition. */
	for (unsigned i = 0; i < ctx->n_seen; i++) {
		struct blockdev *d = &ctx->seen[i];

		if (d->partn && emt_disk_kind_supported(d->disk) && ctx_probe_superblocks(ctx, d) >= 0 &&
		    strcasecmp(d->tags.uuid, ctx->opts.boot_uuid) == 0)
			return d;
	}
	return NULL;
}

int ctx_probe_superblocks(struct boot_context *ctx, struct blockdev *d)
{
	char path[512];
	int r;

	if (d->superblocks_probed)
		return 0;
	ctx_path(ctx, d->node, path, sizeof(path));
	r = ctx->sys->probe_block(path, true, &d->tags);
	if (r < 0)
		return log_debug_errno(r, "Cannot probe '%s': %m", d->node);
	d->probed = d->superblocks_probed = true;
	return 0;
}

static int wait_for_uevents(struct boot_context *ctx, uint64_t deadline)
{
	uint64_t now = now_monotonic_us();
	struct pollfd p = { .fd = ctx->uevent_fd, .events = POLLIN };

	if (now >= deadline)
		return -ETIMEDOUT;
	if (poll(&p, 1, (int)((deadline - now + 999) / 1000)) < 0 && errno != EINTR)
		return log_error_errno(negative_errno(), "Failed to wait for uevents: %m");
	ctx_drain_uevents(ctx);
	return 0;
}

static int devices_run_emt(struct boot_context *ctx)
{
	uint64_t deadline = now_monotonic_us() + (uint64_t)ctx->opts.timeout_sec * 1000000;
	const struct blockdev *d;
	char seen[1024];
	int r = 0;

	scan_sysfs(ctx);
	ctx_drain_uevents(ctx);
	while (!(d = emt_os_disk_partition(ctx)) && r == 0)
		r = wait_for_uevents(ctx, deadline);
	if (d) {
		/* The kernel announces a disk's partitions one uevent after the other, but creates
		 * them in sysfs before the first: read sysfs once more so none is missed. */
		scan_sysfs(ctx);
		str_copy(ctx->os_disk, sizeof(ctx->os_disk), d->disk);
		const char *ref = streq(d->tags.partlabel, "rootfs") ? "PARTLABEL=rootfs" : "boot_uuid=";

		log_info("Found EMT's OS disk /dev/%s (%s is %s).", d->disk, d->node, ref);
		report_add_device(&ctx->report, "os-disk", ref, d->node);
		return 0;
	}
	if (r != -ETIMEDOUT)
		return r;
	describe_seen(ctx, seen, sizeof(seen));
	ctx_set_remedy(ctx,
		       "Check that the OS disk (sd*, nvme*, vd*, mmcblk*) is attached and carries EMT's partitions; rd.timeout= sets the wait.");
	return log_error_errno(-ETIMEDOUT,
			       "Timed out after %u s waiting for EMT's OS disk (a partition named 'rootfs', or one with UUID %s from boot_uuid=). Block devices seen: %s.",
			       ctx->opts.timeout_sec, ctx->opts.boot_uuid, seen);
}

static int devices_run(struct boot_context *ctx)
{
	struct boot_options *o = &ctx->opts;
	struct wanted wanted[] = {
		{ "verity-data", "systemd.verity_root_data=", &o->verity_data, ctx->verity_data_node, false },
		{ "verity-hash", "systemd.verity_root_hash=", &o->verity_hash, ctx->verity_hash_node, false },
		{ "persist", "edgeinit.persist=", &o->persist, ctx->persist_node, false },
	};
	uint64_t deadline = now_monotonic_us() + (uint64_t)o->timeout_sec * 1000000;
	char ref[300], seen[1024];
	unsigned missing;

	if (o->profile == BOOT_PROFILE_EMT)
		return devices_run_emt(ctx);
	for (size_t i = 0; i < ELEMENTSOF(wanted); i++)
		if (wanted[i].ref->kind == DEVREF_UUID || wanted[i].ref->kind == DEVREF_LABEL)
			ctx->probe_superblocks = true;
	scan_sysfs(ctx);
	ctx_drain_uevents(ctx);
	while ((missing = resolve(ctx, wanted, ELEMENTSOF(wanted))) > 0) {
		int r = wait_for_uevents(ctx, deadline);

		if (r == -ETIMEDOUT)
			break;
		if (r < 0)
			return r;
	}

	describe_seen(ctx, seen, sizeof(seen));
	for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
		devref_to_string(wanted[i].ref, ref, sizeof(ref));
		if (!wanted[i].found) {
			log_error("Timed out after %u s waiting for %s (%s partition, %s). Block devices seen: %s.",
				  o->timeout_sec, ref, wanted[i].role, wanted[i].option, seen);
			continue;
		}
		log_info("Found %s (%s) at %s.", ref, wanted[i].role, wanted[i].node);
		report_add_device(&ctx->report, wanted[i].role, ref, wanted[i].node);
	}
	if (missing > 0) {
		ctx_set_remedy(ctx,
			       "Check that the disk carries the partitions named above (GPT names are PARTLABELs), or correct the options on the UKI's command line; rd.timeout= sets the wait.");
		return -ETIMEDOUT;
	}
	return 0;
}

const struct stage stage_devices = { .name = "devices", .run = devices_run };
