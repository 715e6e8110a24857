/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device manager (include/edgeinit/device_manager.h): block devices from sysfs and kernel
 * uevents, each probed once with libblkid, drivers loaded by modalias, and the one bounded wait.
 * Used by the modules stage (socket, coldplug), both devices stages, tpm2 (its device node),
 * emt (superblocks) and the unlock paths (cipher modules).
 * Trust: a uevent is read only from the kernel (netlink port id 0); names come from the kernel,
 *   tags from disks (hostile: the stages decide what they may provide).
 * Waits: poll() on the socket with the time left, no sleeps, no rescans; a lost uevent
 *   (ENOBUFS) means reading sysfs again. */
#include <dirent.h>
#include <errno.h>
#include <linux/netlink.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "edgeinit/device_manager.h"
#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "edgeinit/uevent.h"

void devmgr_init(struct device_manager *dm, const char *root, const struct sys_ops *sys)
{
	memset(dm, 0, sizeof(*dm));
	dm->root = root;
	dm->sys = sys;
	dm->uevent_fd = -EBADF;
}

void devmgr_done(struct device_manager *dm)
{
	closep(&dm->uevent_fd);
	dm->uevent_fd = -EBADF;
	for (unsigned i = 0; i < dm->n_aliases_seen; i++)
		free(dm->aliases_seen[i]);
	dm->n_aliases_seen = 0;
}

/* "<root><path>"; a path that does not fit is empty, which opens nothing. */
static const char *dm_path(const struct device_manager *dm, const char *path, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", dm->root, path);

	if (n < 0 || (size_t)n >= size)
		buf[0] = '\0';
	return buf;
}

int devmgr_open(struct device_manager *dm)
{
	int fd = dm->sys->dev->uevent_open();

	if (fd < 0)
		return fd;
	closep(&dm->uevent_fd);
	dm->uevent_fd = fd;
	return 0;
}

int devmgr_load_module(struct device_manager *dm, const char *name)
{
	int r = dm->sys->dev->load_module(name);

	if (r < 0)
		return r;
	dm->modules_loaded++;
	return 0;
}

int devmgr_load_background(struct device_manager *dm, const char *const *names, size_t n)
{
	return dm->sys->dev->load_modules_background(names, n);
}

int devmgr_finish_background(struct device_manager *dm, bool skip_rest)
{
	return dm->sys->dev->load_modules_finish(skip_rest);
}

int devmgr_load_driver(struct device_manager *dm, const char *alias)
{
	char *copy;

	for (unsigned i = 0; i < dm->n_aliases_seen; i++)
		if (streq(dm->aliases_seen[i], alias))
			return 0;
	/* Remember it first: a lookup that found nothing need not be repeated either. */
	copy = strdup(alias);
	if (copy && dm->n_aliases_seen < MODALIAS_SEEN_MAX)
		dm->aliases_seen[dm->n_aliases_seen++] = copy;
	else
		free(copy);
	return devmgr_load_module(dm, alias) < 0 ? 0 : 1;
}

struct blockdev *devmgr_find(struct device_manager *dm, const char *name)
{
	for (unsigned i = 0; i < dm->n_seen; i++)
		if (streq(dm->seen[i].name, name))
			return &dm->seen[i];
	return NULL;
}

/* Removable media (sysfs "removable", the SCSI RMB bit USB sticks and card readers set) or a
 * disk on USB (its sysfs path runs through a USB device: USB hard disks claim not to be
 * removable). Anything the kernel does not say is treated as fixed. */
static bool disk_removable(const struct device_manager *dm, const char *disk)
{
	char rel[128], path[512], buf[16], target[1024];
	ssize_t n;

	snprintf(rel, sizeof(rel), "/sys/class/block/%s/removable", disk);
	if (read_small_file(dm_path(dm, rel, path, sizeof(path)), buf, sizeof(buf)) > 0 && buf[0] == '1')
		return true;
	snprintf(rel, sizeof(rel), "/sys/class/block/%s", disk);
	n = readlink(dm_path(dm, rel, path, sizeof(path)), target, sizeof(target) - 1);
	if (n <= 0)
		return false;
	target[n] = '\0';
	return strstr(target, "/usb") != NULL;
}

/* Record (or re-probe, on "change") a block device and probe it with libblkid. */
static void device_add(struct device_manager *dm, const struct uevent *ev, bool reprobe)
{
	const char *devname = ev->devname;
	struct blockdev *d = devmgr_find(dm, devname);
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
		if (dm->n_seen >= BLOCKDEV_SEEN_MAX) {
			log_warning("More than %d block devices, ignoring '%s'.", BLOCKDEV_SEEN_MAX,
				    devname);
			return;
		}
		d = &dm->seen[dm->n_seen++];
		memset(d, 0, sizeof(*d));
		str_copy(d->name, sizeof(d->name), devname);
		snprintf(d->node, sizeof(d->node), "/dev/%.63s", devname);
		if (streq(ev->devtype, "partition") && parse_uint(ev->partn, 4096, &partn) == 0 &&
		    partition_disk_name(devname, d->disk, sizeof(d->disk)) >= 0)
			d->partn = (unsigned)partn;
		else
			d->disk[0] = '\0';
		d->removable = disk_removable(dm, blockdev_disk(d));
	}
	r = dm->sys->dev->probe_block(dm_path(dm, d->node, path, sizeof(path)), dm->probe_superblocks,
				 &d->tags);
	d->probed = r >= 0;
	d->superblocks_probed = d->probed && dm->probe_superblocks;
	if (r < 0)
		log_debug_errno(r, "Cannot probe '%s', ignoring: %m", d->node);
	else
		log_debug("Found %s: PARTLABEL='%s' PARTUUID=%s UUID=%s LABEL='%s' TYPE=%s%s", d->node,
			  d->tags.partlabel, d->tags.partuuid, d->tags.uuid, d->tags.label,
			  d->tags.type, d->removable ? " (removable)" : "");
}

void devmgr_scan(struct device_manager *dm)
{
	char dir[512], path[1024], buf[1024];
	struct uevent ev;
	DIR *d;
	struct dirent *e;

	d = opendir(dm_path(dm, "/sys/class/block", dir, sizeof(dir)));
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
		device_add(dm, &ev, false);
	}
	closedir(d);
}

void devmgr_drain(struct device_manager *dm)
{
	char buf[8192];
	struct uevent ev;

	if (dm->uevent_fd < 0)
		return;
	for (;;) {
		struct sockaddr_nl sender = { 0 };
		socklen_t len = sizeof(sender);
		ssize_t n = recvfrom(dm->uevent_fd, buf, sizeof(buf), MSG_DONTWAIT,
				     (struct sockaddr *)&sender, &len);

		if (n < 0) {
			if (errno == ENOBUFS) {
				/* Events were lost: sysfs still has the truth. */
				log_warning("Uevent queue overflowed, reading sysfs again.");
				devmgr_scan(dm);
				continue;
			}
			return;
		}
		if (sender.nl_pid != 0 || uevent_parse_netlink(buf, (size_t)n, &ev) < 0)
			continue;
		if (ev.modalias[0] && streq(ev.action, "add") && devmgr_load_driver(dm, ev.modalias) > 0)
			log_debug("Loaded driver for %s (%s).", ev.devpath, ev.modalias);
		if (streq(ev.subsystem, "block") && ev.devname[0] &&
		    (streq(ev.action, "add") || streq(ev.action, "change")))
			device_add(dm, &ev, streq(ev.action, "change"));
	}
}

int devmgr_wait(struct device_manager *dm, devmgr_ready_fn ready, void *userdata, uint64_t deadline)
{
	for (;;) {
		struct pollfd p = { .fd = dm->uevent_fd, .events = POLLIN };
		uint64_t now;
		int r = ready(userdata);

		if (r != 0)
			return r < 0 ? r : 0;
		now = now_monotonic_us();
		if (now >= deadline || dm->uevent_fd < 0)
			return -ETIMEDOUT;
		if (poll(&p, 1, (int)((deadline - now + 999) / 1000)) < 0 && errno != EINTR)
			return log_error_errno(negative_errno(), "Failed to wait for uevents: %m");
		devmgr_drain(dm);
	}
}

int devmgr_probe_superblocks(struct device_manager *dm, struct blockdev *d)
{
	char path[512];
	int r;

	if (d->superblocks_probed)
		return 0;
	r = dm->sys->dev->probe_block(dm_path(dm, d->node, path, sizeof(path)), true, &d->tags);
	if (r < 0)
		return log_debug_errno(r, "Cannot probe '%s': %m", d->node);
	d->probed = d->superblocks_probed = true;
	return 0;
}

void devmgr_describe(const struct device_manager *dm, char *buf, size_t size)
{
	size_t len = 0;

	buf[0] = '\0';
	for (unsigned i = 0; i < dm->n_seen && len < size; i++) {
		const struct blockdev *d = &dm->seen[i];
		int n = snprintf(buf + len, size - len, "%s%s%s%s%s%s", i ? ", " : "", d->name,
				 d->tags.partlabel[0] ? " (PARTLABEL=" : "", d->tags.partlabel,
				 d->tags.partlabel[0] ? ")" : "",
				 !d->partn && d->removable ? " [removable]" : "");

		if (n < 0)
			break;
		len += (size_t)n;
	}
	if (dm->n_seen == 0)
		snprintf(buf, size, "none");
}
