/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage devices.
 * Reads: ctx->opts (the verity data and hash partitions, the persistent partition,
 *   rd.timeout=), ctx->uevent_fd, /sys/class/block and the EFI variable LoaderDevicePartUUID
 *   (efivarfs, mounted read-only by early-setup) below ctx->root.
 * Writes: ctx->seen (every block device, its libblkid tags, whether its disk is removable),
 *   ctx->boot_disk, ctx->verity_data_node, ctx->verity_hash_node, ctx->persist_node, report
 *   devices. Runs: in the verity profile; EMT's profile has its own devices stage (emt_devices.c),
 *   which shares the discovery below through devices.h.
 * Trust: every name and UUID on a disk is the attacker's choice, so roles come from the boot
 *   disk, the one holding the ESP the loader started from (systemd-boot and systemd-stub
 *   publish its PARTUUID): references by PARTLABEL=, LABEL= and UUID=, and EMT's OS disk, are
 *   taken from it alone. PARTUUID= and /dev/ paths on the signed command line are explicit and
 *   resolve on any disk. When the loader did not say, removable disks (or disks on USB) never
 *   provide a role. Two candidates for one role are fatal, never "the first one seen".
 * How: block devices already present are read from sysfs; new ones arrive as kernel uevents on
 *   the socket the modules stage opened before any driver was loaded, so none is missed. Each
 *   device is probed once with libblkid, for its partition entry only unless a UUID= or LABEL=
 *   reference needs file system superblocks. Uevents with a MODALIAS get their driver loaded
 *   (hotplug). The wait is poll() on the socket with the remaining time: no sleeps, no rescans.
 * Fails: after rd.timeout seconds, naming each missing reference (or EMT's OS disk) and listing
 *   what was seen; at once when two partitions match one role, or carry the loader's PARTUUID. */
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <unistd.h>

#include "edgeinit/efivar.h"
#include "edgeinit/emt.h"
#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "edgeinit/uevent.h"
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


static struct blockdev *seen_find(struct boot_context *ctx, const char *name)
{
	for (unsigned i = 0; i < ctx->n_seen; i++)
		if (streq(ctx->seen[i].name, name))
			return &ctx->seen[i];
	return NULL;
}

/* The disk a device is on: itself for a whole disk. */
static const char *disk_of(const struct blockdev *d)
{
	return d->disk[0] ? d->disk : d->name;
}

/* Removable media (sysfs "removable", the SCSI RMB bit USB sticks and card readers set) or a
 * disk on USB (its sysfs path runs through a USB device: USB hard disks claim not to be
 * removable). Anything the kernel does not say is treated as fixed. */
static bool disk_removable(struct boot_context *ctx, const char *disk)
{
	char rel[128], path[512], buf[16], target[1024];
	ssize_t n;

	snprintf(rel, sizeof(rel), "/sys/class/block/%s/removable", disk);
	ctx_path(ctx, rel, path, sizeof(path));
	if (read_small_file(path, buf, sizeof(buf)) > 0 && buf[0] == '1')
		return true;
	snprintf(rel, sizeof(rel), "/sys/class/block/%s", disk);
	ctx_path(ctx, rel, path, sizeof(path));
	n = readlink(path, target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return strstr(target, "/usb") != NULL;
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
		d->removable = disk_removable(ctx, disk_of(d));
	}
	ctx_path(ctx, d->node, path, sizeof(path));
	r = ctx->sys->probe_block(path, ctx->probe_superblocks, &d->tags);
	d->probed = r >= 0;
	d->superblocks_probed = d->probed && ctx->probe_superblocks;
	if (r < 0)
		log_debug_errno(r, "Cannot probe '%s', ignoring: %m", d->node);
	else
		log_debug("Found %s: PARTLABEL='%s' PARTUUID=%s UUID=%s LABEL='%s' TYPE=%s%s", d->node,
			  d->tags.partlabel, d->tags.partuuid, d->tags.uuid, d->tags.label,
			  d->tags.type, d->removable ? " (removable)" : "");
}

void scan_sysfs(struct boot_context *ctx)
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

void describe_seen(struct boot_context *ctx, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < ctx->n_seen && len < size; i++) {
		const struct blockdev *d = &ctx->seen[i];
		int n = snprintf(buf + len, size - len, "%s%s%s%s%s%s", i ? ", " : "", d->name,
				 d->tags.partlabel[0] ? " (PARTLABEL=" : "", d->tags.partlabel,
				 d->tags.partlabel[0] ? ")" : "",
				 !d->partn && d->removable ? " [removable]" : "");

		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (ctx->n_seen == 0)
		snprintf(buf, size, "none");
}

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
	ctx_path(ctx, "/sys/firmware/efi/efivars", dir, sizeof(dir));
	snprintf(path, sizeof(path), "%s/%s", dir, EFIVAR_LOADER_DEVICE_PART_UUID);
	n = read_small_file(path, (char *)buf, sizeof(buf));
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
	if (is_mount_point(dir) > 0) {
		r = ctx->sys->umount(dir, 0);
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
	for (unsigned i = 0; i < ctx->n_seen; i++) {
		const struct blockdev *d = &ctx->seen[i];

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
		scan_sysfs(ctx);
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
		return streq(disk_of(d), ctx->boot_disk) ? ELIGIBLE : NOT_ON_BOOT_DISK;
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
			 disk_of(d));
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
		for (unsigned j = 0; j < ctx->n_seen; j++) {
			const struct blockdev *d = &ctx->seen[j];
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

int wait_for_uevents(struct boot_context *ctx, uint64_t deadline)
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

int boot_disk_timeout(struct boot_context *ctx, const struct loader_info *li)
{
	char seen[1024];

	describe_seen(ctx, seen, sizeof(seen));
	ctx_set_remedy(ctx,
		       "Check that the disk this device booted from is attached and its driver is in the initrd; rd.timeout= sets the wait.");
	return log_error_errno(-ETIMEDOUT,
			       "Timed out after %u s waiting for the boot disk: no partition has PARTUUID %s, the ESP the loader started from (LoaderDevicePartUUID). Block devices seen: %s.",
			       ctx->opts.timeout_sec, li->partuuid, seen);
}

static int devices_run(struct boot_context *ctx)
{
	struct boot_options *o = &ctx->opts;
	struct wanted wanted[] = {
		{ .role = "verity-data", .what = "verity data partition",
		  .option = "systemd.verity_root_data=", .ref = &o->verity_data, .node = ctx->verity_data_node },
		{ .role = "verity-hash", .what = "verity hash partition",
		  .option = "systemd.verity_root_hash=", .ref = &o->verity_hash, .node = ctx->verity_hash_node },
		{ .role = "persist", .what = "persistent partition",
		  .option = "edgeinit.persist=", .ref = &o->persist, .node = ctx->persist_node },
	};
	uint64_t deadline = now_monotonic_us() + (uint64_t)o->timeout_sec * 1000000;
	struct loader_info li;
	char ref[300], seen[1024], where[96];
	unsigned missing;
	bool pending;
	int r;

	loader_read(ctx, &li);
	for (size_t i = 0; i < ELEMENTSOF(wanted); i++)
		if (wanted[i].ref->kind == DEVREF_UUID || wanted[i].ref->kind == DEVREF_LABEL)
			ctx->probe_superblocks = true;
	scan_sysfs(ctx);
	ctx_drain_uevents(ctx);
	for (;;) {
		r = boot_disk_update(ctx, &li);
		if (r < 0)
			return r;
		missing = resolve(ctx, &li, wanted, ELEMENTSOF(wanted));
		if (missing == 0)
			break;
		r = wait_for_uevents(ctx, deadline);
		if (r == -ETIMEDOUT)
			break;
		if (r < 0)
			return r;
	}
	if (missing == 0) {
		/* Every partition of the disks seen so far is in sysfs: the candidates are all
		 * known, and two for one role are refused. */
		scan_sysfs(ctx);
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
	describe_seen(ctx, seen, sizeof(seen));
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
	return 0;
}

const struct stage stage_devices = { .name = "devices", .run = devices_run };
