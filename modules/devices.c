/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage devices.
 * Reads: ctx->opts (the verity data and hash partitions, the persistent partition,
 *   rd.timeout=), the device manager (ctx->dev: block devices from sysfs and uevents, each probed
 *   once with libblkid) and the EFI variable LoaderDevicePartUUID (efivarfs, mounted read-only by
 *   early-setup) below ctx->root.
 * Writes: ctx->boot_disk, the root plan (ctx->rootfs: the verity pair and roothash= from the
 *   command line), ctx->persist_node, report devices. Runs: in the verity profile; EMT's profile has its own devices stage
 *   (emt_devices.c), which shares the boot-disk rules below through devices.h.
 * Trust: every name and UUID on a disk is the attacker's choice, so roles come from the boot
 *   disk, the one holding the ESP the loader started from (systemd-boot and systemd-stub
 *   publish its PARTUUID): references by PARTLABEL=, LABEL= and UUID=, and EMT's OS disk, are
 *   taken from it alone. PARTUUID= and /dev/ paths on the signed command line are explicit and
 *   resolve on any disk. When the loader did not say, removable disks (or disks on USB) never
 *   provide a role. Two candidates for one role are fatal, never "the first one seen".
 * How: the device manager's one wait (devmgr_wait) until every reference resolves; superblocks
 *   are probed only when a UUID= or LABEL= reference needs them.
 * Fails: after rd.timeout seconds, naming each missing reference (or EMT's OS disk) and listing
 *   what was seen; at once when two partitions match one role, or carry the loader's PARTUUID. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>

#include "edgeinit/efivar.h"
#include "edgeinit/emt.h"
#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "devices.h"
struct wanted {
	const char *role;          /* for the report and the timeout message */
	const char *what;          /* for the operator: "persistent partition" */
	const char *option;        /* where the user sets it */
	const struct devref *ref;
	char *node;                /* where to store the result */
	bool found;
	unsigned matches;          /* eligible devices that match (two: refuse) */
	char second[DEVNODE_MAX];  /* the second one, for the message */
	bool warned[BLOCKDEV_SEEN_MAX]; /* an ignored candidate was named already */
};


/* ---- the boot disk ---- */

/* Two device nodes in the kernel's order (vda3 before vda10), for messages that do not depend
 * on the order devices were seen in. */
static void order_pair(const char **a, const char **b)
{
	if (strverscmp(*a, *b) > 0) {
		const char *t = *a;

		*a = *b;
		*b = t;
	}
}


/* Read LoaderDevicePartUUID, then unmount efivarfs: the running system mounts it itself,
 * writable, and would otherwise inherit this read-only mount through switch_root. */
void loader_read(struct boot_context *ctx, struct loader_info *li)
{
	char dir[512], path[640];
	uint8_t buf[EFIVAR_UUID_FILE_SIZE + 2];
	uint32_t attr = 0;
	int n, r;

	li->partuuid[0] = '\0';
	snprintf(path, sizeof(path), "/sys/firmware/efi/efivars/%s", EFIVAR_LOADER_DEVICE_PART_UUID);
	n = ctx_read_file(ctx, path, (char *)buf, sizeof(buf));
	if (n == -ENOENT || n == -ENOTDIR)
		log_info("The loader did not say which disk it started from (no EFI variable LoaderDevicePartUUID): removable disks provide no partition.");
	else if (n < 0)
		log_warning_errno(n, "Cannot read the EFI variable LoaderDevicePartUUID, so removable disks provide no partition: %m");
	else if (efivar_decode_uuid(buf, (size_t)n, &attr, li->partuuid) < 0)
		log_warning("The EFI variable LoaderDevicePartUUID is malformed (%d bytes), ignoring it: removable disks provide no partition.", n);
	else if (attr & EFI_VARIABLE_NON_VOLATILE) {
		/* The loader's copy is volatile; a non-volatile one survives from a running system
		 * that wrote it (the loader only adds the variable when it is missing). */
		log_warning("The EFI variable LoaderDevicePartUUID (%s) is non-volatile: the loader did not write it, ignoring it: removable disks provide no partition.",
			    li->partuuid);
		li->partuuid[0] = '\0';
	}
	/* The mount point, as the string umount needs. */
	if (ctx_path(ctx, "/sys/firmware/efi/efivars", dir, sizeof(dir)) == 0 && is_mount_point(dir) > 0) {
		r = ctx->sys->fs->umount(dir, 0);
		if (r < 0)
			log_warning_errno(r, "Cannot unmount efivarfs from '%s', ignoring: %m", dir);
	}
}

/* Which seen partitions carry the loader's PARTUUID: the first two. Returns how many. */
static unsigned loader_partitions(struct boot_context *ctx, const struct loader_info *li,
				  const struct blockdev **first, const struct blockdev **second)
{
	unsigned n = 0;

	*first = *second = NULL;
	for (unsigned i = 0; i < ctx->dev.n_seen; i++) {
		const struct blockdev *d = &ctx->dev.seen[i];

		if (!d->partn || !d->probed || strcasecmp(d->tags.partuuid, li->partuuid) != 0)
			continue;
		if (n++ == 0)
			*first = d;
		else if (n == 2)
			*second = d;
	}
	return n;
}

/* Find the boot disk once its ESP is seen, reading sysfs again so that every partition of it
 * is known; also called at the end of the stage, when a copy of the ESP's PARTUUID on a disk
 * that came later is fatal too. */
int boot_disk_update(struct boot_context *ctx, const struct loader_info *li)
{
	const struct blockdev *esp, *other;

	if (!li->partuuid[0])
		return 0;
	if (!ctx->boot_disk[0] && loader_partitions(ctx, li, &esp, &other) > 0)
		devmgr_scan(&ctx->dev);
	if (loader_partitions(ctx, li, &esp, &other) >= 2) {
		const char *a = esp->node, *b = other->node;

		order_pair(&a, &b);
		ctx_set_remedy(ctx,
			       "Remove the disk that is not this device's own: a partition there copies the PARTUUID of this device's ESP.");
		return log_error_errno(-EEXIST,
				       "Two partitions carry the PARTUUID of the ESP the loader started from (LoaderDevicePartUUID=%s): %s and %s. Refusing to guess the boot disk.",
				       li->partuuid, a, b);
	}
	if (!esp || ctx->boot_disk[0])
		return 0;
	str_copy(ctx->boot_disk, sizeof(ctx->boot_disk), esp->disk);
	log_info("Boot disk: /dev/%s (the ESP the loader started from, PARTUUID %s).", ctx->boot_disk,
		 li->partuuid);
	report_add_device(&ctx->report, "boot-disk", "LoaderDevicePartUUID", esp->node);
	return 0;
}


/* May d provide a role found by a name or UUID the disk chose? */
enum eligibility eligible(const struct boot_context *ctx, const struct loader_info *li,
				 const struct blockdev *d)
{
	if (ctx->boot_disk[0])
		return streq(blockdev_disk(d), ctx->boot_disk) ? ELIGIBLE : NOT_ON_BOOT_DISK;
	if (li->partuuid[0])
		return BOOT_DISK_PENDING;
	return d->removable ? REMOVABLE : ELIGIBLE;
}

static bool ref_explicit(const struct devref *ref)
{
	return ref->kind == DEVREF_PARTUUID || ref->kind == DEVREF_PATH;
}

const char *ignored_why(const struct boot_context *ctx, enum eligibility e, char *buf,
			       size_t size, const struct blockdev *d)
{
	if (e == NOT_ON_BOOT_DISK)
		snprintf(buf, size, "it is not on the boot disk /dev/%s", ctx->boot_disk);
	else
		snprintf(buf, size,
			 "/dev/%s is removable and the loader did not say which disk it started from",
			 blockdev_disk(d));
	return buf;
}

/* ---- the verity profile ---- */

/* Mark every wanted reference that an eligible seen device satisfies, count the candidates and
 * name each ignored one once. Returns how many references are missing. */
static unsigned resolve(struct boot_context *ctx, const struct loader_info *li, struct wanted *w,
			size_t n)
{
	unsigned missing = 0;
	char ref[300], why[160];

	for (size_t i = 0; i < n; i++) {
		w[i].found = false;
		w[i].matches = 0;
		for (unsigned j = 0; j < ctx->dev.n_seen; j++) {
			const struct blockdev *d = &ctx->dev.seen[j];
			enum eligibility e = ref_explicit(w[i].ref) ? ELIGIBLE : eligible(ctx, li, d);

			if (!devref_match(w[i].ref, d->node, d->probed ? &d->tags : NULL))
				continue;
			if (e == BOOT_DISK_PENDING)
				continue;
			if (e != ELIGIBLE) {
				if (!w[i].warned[j])
					log_warning("Ignoring %s, which matches %s (%s, %s): %s.", d->node,
						    devref_to_string(w[i].ref, ref, sizeof(ref)), w[i].what,
						    w[i].option, ignored_why(ctx, e, why, sizeof(why), d));
				w[i].warned[j] = true;
				continue;
			}
			if (w[i].matches++ == 0) {
				str_copy(w[i].node, DEVNODE_MAX, d->node);
				w[i].found = true;
			} else if (w[i].matches == 2) {
				str_copy(w[i].second, sizeof(w[i].second), d->node);
			}
		}
		if (!w[i].found)
			missing++;
	}
	return missing;
}

static int refuse_duplicates(struct boot_context *ctx, struct wanted *w, size_t n)
{
	char ref[300], a[DEVNODE_MAX];

	for (size_t i = 0; i < n; i++) {
		const char *x = a, *y = w[i].second;

		if (w[i].matches < 2)
			continue;
		/* Neither is used: no later stage may pick up the first one. */
		str_copy(a, sizeof(a), w[i].node);
		w[i].node[0] = '\0';
		order_pair(&x, &y);
		devref_to_string(w[i].ref, ref, sizeof(ref));
		ctx_set_remedy(ctx,
			       "Name the %s by PARTUUID= on the signed command line (%s), or remove the duplicate.",
			       w[i].what, w[i].option);
		return log_error_errno(-EEXIST,
				       "Two partitions match %s (%s, %s): %s and %s. Refusing to guess.",
				       ref, w[i].what, w[i].option, x, y);
	}
	return 0;
}

int boot_disk_timeout(struct boot_context *ctx, const struct loader_info *li)
{
	char seen[1024];

	devmgr_describe(&ctx->dev, seen, sizeof(seen));
	ctx_set_remedy(ctx,
		       "Check that the disk this device booted from is attached and its driver is in the initrd; rd.timeout= sets the wait.");
	return log_error_errno(-ETIMEDOUT,
			       "Timed out after %u s waiting for the boot disk: no partition has PARTUUID %s, the ESP the loader started from (LoaderDevicePartUUID). Block devices seen: %s.",
			       ctx->opts.timeout_sec, li->partuuid, seen);
}

struct devices_wait {
	struct boot_context *ctx;
	const struct loader_info *li;
	struct wanted *wanted;
	size_t n;
	unsigned missing;
};

/* devmgr_wait's question: is every wanted partition there (or is the boot disk refused)? */
static int all_found(void *userdata)
{
	struct devices_wait *w = userdata;
	int r = boot_disk_update(w->ctx, w->li);

	if (r < 0)
		return r;
	w->missing = resolve(w->ctx, w->li, w->wanted, w->n);
	return w->missing == 0;
}

static int devices_run(struct boot_context *ctx)
{
	const struct boot_options *o = &ctx->opts;
	struct wanted wanted[] = {
		{ .role = "verity-data", .what = "verity data partition",
		  .option = "systemd.verity_root_data=", .ref = &o->verity_data, .node = ctx->rootfs.data_node },
		{ .role = "verity-hash", .what = "verity hash partition",
		  .option = "systemd.verity_root_hash=", .ref = &o->verity_hash, .node = ctx->rootfs.hash_node },
		{ .role = "persist", .what = "persistent partition",
		  .option = "edgeinit.persist=", .ref = &o->persist, .node = ctx->persist_node },
	};
	uint64_t deadline = now_monotonic_us() + (uint64_t)o->timeout_sec * 1000000;
	struct loader_info li;
	struct devices_wait w = { .ctx = ctx, .li = &li, .wanted = wanted, .n = ELEMENTSOF(wanted) };
	char ref[300], seen[1024], where[96];
	unsigned missing;
	bool pending;
	int r;

	loader_read(ctx, &li);
	for (size_t i = 0; i < ELEMENTSOF(wanted); i++)
		if (wanted[i].ref->kind == DEVREF_UUID || wanted[i].ref->kind == DEVREF_LABEL)
			ctx->dev.probe_superblocks = true;
	devmgr_scan(&ctx->dev);
	devmgr_drain(&ctx->dev);
	r = devmgr_wait(&ctx->dev, all_found, &w, deadline);
	if (r < 0 && r != -ETIMEDOUT)
		return r;
	missing = w.missing;
	if (missing == 0) {
		/* Every partition of the disks seen so far is in sysfs: the candidates are all
		 * known, and two for one role are refused. */
		devmgr_scan(&ctx->dev);
		r = boot_disk_update(ctx, &li);
		if (r < 0)
			return r;
		missing = resolve(ctx, &li, wanted, ELEMENTSOF(wanted));
		r = refuse_duplicates(ctx, wanted, ELEMENTSOF(wanted));
		if (r < 0)
			return r;
	}

	pending = li.partuuid[0] && !ctx->boot_disk[0];
	if (pending && missing > 0)
		(void)boot_disk_timeout(ctx, &li);
	devmgr_describe(&ctx->dev, seen, sizeof(seen));
	where[0] = '\0';
	if (ctx->boot_disk[0])
		snprintf(where, sizeof(where), " on the boot disk /dev/%s", ctx->boot_disk);
	else if (!li.partuuid[0])
		snprintf(where, sizeof(where), " on a fixed disk");
	for (size_t i = 0; i < ELEMENTSOF(wanted); i++) {
		devref_to_string(wanted[i].ref, ref, sizeof(ref));
		if (!wanted[i].found) {
			if (!pending)
				log_error("Timed out after %u s waiting for %s (%s partition, %s)%s. Block devices seen: %s.",
					  o->timeout_sec, ref, wanted[i].role, wanted[i].option,
					  ref_explicit(wanted[i].ref) ? "" : where, seen);
			continue;
		}
		log_info("Found %s (%s) at %s.", ref, wanted[i].role, wanted[i].node);
		report_add_device(&ctx->report, wanted[i].role, ref, wanted[i].node);
	}
	if (missing > 0) {
		if (!pending)
			ctx_set_remedy(ctx,
				       "Check that the disk carries the partitions named above (GPT names are PARTLABELs), or correct the options on the UKI's command line; rd.timeout= sets the wait.");
		return -ETIMEDOUT;
	}
	root_plan_hash_from_cmdline(&ctx->rootfs, o);
	return 0;
}

const struct stage stage_devices = { .name = "devices", .run = devices_run };
