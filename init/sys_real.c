/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The real machine behind struct sys_ops: syscalls, libkmod, libblkid, libcryptsetup and
 * libdevmapper. Stage logic stays in modules/; this file only translates. */
#include <blkid/blkid.h>
#include <errno.h>
#include <fcntl.h>
#include <libcryptsetup.h>
#include <libdevmapper.h>
#include <linux/netlink.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <unistd.h>

#include "edgeinit/log.h"
#include "edgeinit/strutil.h"
#include "edgeinit/sys.h"
#include "edgeinit/verity.h"
#include "sys_real.h"

#ifndef BLKGETSIZE64 /* <linux/fs.h>, which clashes with <sys/mount.h> */
#define BLKGETSIZE64 _IOR(0x12, 114, size_t)
#endif

static int real_mount(const char *source, const char *target, const char *fstype,
		      unsigned long flags, const char *data)
{
	return mount(source, target, fstype, flags, data) < 0 ? negative_errno() : 0;
}

static int real_umount(const char *target, int flags)
{
	return umount2(target, flags) < 0 ? negative_errno() : 0;
}

static int real_chroot(const char *path)
{
	return chroot(path) < 0 ? negative_errno() : 0;
}

static int real_reboot(int cmd)
{
	return reboot(cmd) < 0 ? negative_errno() : 0;
}

static void copy_tag(blkid_probe pr, const char *name, char *out, size_t size)
{
	const char *v = NULL;

	out[0] = '\0';
	if (blkid_probe_lookup_value(pr, name, &v, NULL) == 0 && v)
		(void)str_copy(out, size, v);
}

static int real_probe_block(const char *devnode, bool superblocks, struct blockdev_tags *tags)
{
	blkid_probe pr;
	int r;

	memset(tags, 0, sizeof(*tags));
	pr = blkid_new_probe_from_filename(devnode);
	if (!pr)
		return errno > 0 ? -errno : -EIO;
	blkid_probe_enable_superblocks(pr, superblocks);
	if (superblocks)
		blkid_probe_set_superblocks_flags(pr, BLKID_SUBLKS_LABEL | BLKID_SUBLKS_UUID |
							      BLKID_SUBLKS_TYPE);
	blkid_probe_enable_partitions(pr, 1);
	blkid_probe_set_partitions_flags(pr, BLKID_PARTS_ENTRY_DETAILS);
	r = blkid_do_safeprobe(pr);
	if (r == -1) {
		blkid_free_probe(pr);
		return -EIO;
	}
	/* r == 1 (nothing found) and -2 (ambiguous) still carry the partition entry. */
	copy_tag(pr, "PART_ENTRY_NAME", tags->partlabel, sizeof(tags->partlabel));
	copy_tag(pr, "PART_ENTRY_UUID", tags->partuuid, sizeof(tags->partuuid));
	if (r == 0 && superblocks) {
		copy_tag(pr, "UUID", tags->uuid, sizeof(tags->uuid));
		copy_tag(pr, "LABEL", tags->label, sizeof(tags->label));
		copy_tag(pr, "TYPE", tags->type, sizeof(tags->type));
	}
	blkid_free_probe(pr);
	return 0;
}

static void crypt_log_to_edgeinit(int level, const char *msg, void *usrptr)
{
	char line[512];

	(void)usrptr;
	str_copy(line, sizeof(line), msg);
	line[strcspn(line, "\n")] = '\0';
	log_full_errno(level == CRYPT_LOG_ERROR ? LOG_LEVEL_ERR
		       : level == CRYPT_LOG_DEBUG ? LOG_LEVEL_DEBUG
						  : LOG_LEVEL_INFO,
		       0, "libcryptsetup: %s", line);
}

static int real_verity_activate(const struct verity_activation *a)
{
	struct crypt_device *cd = NULL;
	struct crypt_params_verity params = { 0 };
	int r;

	crypt_set_log_callback(NULL, crypt_log_to_edgeinit, NULL);
	r = crypt_init_data_device(&cd, a->hash_node, a->data_node);
	if (r < 0)
		goto out;
	crypt_set_log_callback(cd, crypt_log_to_edgeinit, NULL);
	r = crypt_load(cd, CRYPT_VERITY, &params);
	if (r < 0)
		goto out;
	r = crypt_activate_by_volume_key(cd, a->name, (const char *)a->roothash, a->roothash_size,
					 a->flags);
out:
	crypt_free(cd);
	return r;
}

/* libdevmapper prints to stderr by default; its messages belong in our log, at debug level
 * unless they are errors. */
static void dm_log_to_edgeinit(int level, const char *file, int line, int dm_errno_or_class,
			       const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	(void)file, (void)line, (void)dm_errno_or_class;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log_full_errno((level & 7) <= 3 ? LOG_LEVEL_WARNING : LOG_LEVEL_DEBUG, 0, "libdevmapper: %s", msg);
}

/* Run a device-mapper task of the given type on name; NULL if the device does not exist. */
static struct dm_task *dm_task_for(int type, const char *name)
{
	struct dm_task *dmt = dm_task_create(type);
	struct dm_info info;

	if (!dmt)
		return NULL;
	if (!dm_task_set_name(dmt, name) || !dm_task_run(dmt) || !dm_task_get_info(dmt, &info) ||
	    !info.exists) {
		dm_task_destroy(dmt);
		return NULL;
	}
	return dmt;
}

static int real_verity_active_roothash(const char *name, char *hex, size_t size)
{
	struct dm_task *dmt;
	uint64_t start, length;
	char *type = NULL, *params = NULL;
	int r;

	dm_log_with_errno_init(dm_log_to_edgeinit);
	/* DM_DEVICE_INFO answers "does not exist" quietly; a table query would log an error. */
	dmt = dm_task_for(DM_DEVICE_INFO, name);
	if (!dmt)
		return -ENODEV;
	dm_task_destroy(dmt);
	dmt = dm_task_for(DM_DEVICE_TABLE, name);
	if (!dmt)
		return -ENODEV;
	dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
	if (!type || strcmp(type, "verity") != 0 || !params)
		r = -EMEDIUMTYPE;
	else
		r = verity_table_root_hash(params, hex, size);
	dm_task_destroy(dmt);
	return r;
}

static int real_dm_linear(const char *name, const char *node)
{
	struct dm_task *dmt = NULL;
	uint64_t bytes = 0;
	uint32_t cookie = 0;
	char params[256];
	int fd, r = 0;

	fd = open(node, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return negative_errno();
	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0)
		r = negative_errno();
	close(fd);
	if (r < 0)
		return r;
	if (bytes < 512)
		return -EMEDIUMTYPE;
	dm_log_with_errno_init(dm_log_to_edgeinit);
	snprintf(params, sizeof(params), "%s 0", node);
	dmt = dm_task_create(DM_DEVICE_CREATE);
	/* Built without udev: the cookie makes libdevmapper create /dev/mapper/<name> itself. */
	if (!dmt || !dm_task_set_name(dmt, name) ||
	    !dm_task_add_target(dmt, 0, bytes / 512, "linear", params) ||
	    !dm_task_set_cookie(dmt, &cookie, 0) || !dm_task_run(dmt))
		r = -EIO;
	else
		(void)dm_udev_wait(cookie);
	if (dmt)
		dm_task_destroy(dmt);
	return r;
}

static int real_uevent_open(void)
{
	struct sockaddr_nl addr = { .nl_family = AF_NETLINK, .nl_groups = 1 /* kernel events */ };
	int fd, size = 8 * 1024 * 1024;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return negative_errno();
	/* A burst of coldplug events must not overflow the queue (ENOBUFS would lose events). */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0) {
		int r = negative_errno();

		close(fd);
		return r;
	}
	return fd;
}

static const struct sys_fs_ops real_fs = {
	.mount = real_mount,
	.umount = real_umount,
	.chroot = real_chroot,
};

static const struct sys_dev_ops real_dev = {
	.load_module = real_load_module,
	.load_modules_background = real_load_modules_background,
	.load_modules_finish = real_load_modules_finish,
	.uevent_open = real_uevent_open,
	.probe_block = real_probe_block,
};

static const struct sys_dm_ops real_dm = {
	.verity_activate = real_verity_activate,
	.verity_active_roothash = real_verity_active_roothash,
	.linear = real_dm_linear,
};

static const struct sys_tpm_ops real_tpm = {
	.open = real_tpm2_open,
	.unseal = real_tpm2_unseal,
	.object_exists = real_tpm2_object_exists,
	.close = real_tpm2_close,
	.banks = real_tpm2_banks,
	.extend = real_tpm2_extend,
};

static const struct sys_luks_ops real_luks = {
	.inspect = real_luks_inspect,
	.token_json = real_luks_token_json,
	.derive_key = real_luks_derive_key,
	.activate_key = real_luks_activate_key,
};

static const struct sys_machine_ops real_machine = {
	.reboot = real_reboot,
	.ask_password = real_ask_password,
};

const struct sys_ops sys_real = {
	.fs = &real_fs,
	.dev = &real_dev,
	.dm = &real_dm,
	.tpm = &real_tpm,
	.luks = &real_luks,
	.machine = &real_machine,
};
