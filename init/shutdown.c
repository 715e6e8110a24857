/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The exitrd: edgeinit as /run/initramfs/shutdown.
 *
 * At the end of a shutdown systemd-shutdown pivots into /run/initramfs (the old root stays
 * reachable at /oldroot) and executes /shutdown with the verb as argv[1] (the interface dracut
 * uses, systemd's INITRD_INTERFACE). From there edgeinit can finish what systemd cannot while it
 * still runs from the verity root: unmount everything below /oldroot, children first; close
 * the device-mapper devices edgeinit opened (rootfs_verity, the LUKS and EMT volumes), so that
 * no volume key stays in the kernel; sync; then reboot, power off, halt or kexec as asked.
 *
 * Every step is bounded, and PID 1 never returns from here: if a step fails, the machine still
 * goes down the way systemd asked, with the reason on the console. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libcryptsetup.h>
#include <libdevmapper.h>
#include <libmount.h>
#include <linux/reboot.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/bounded.h"
#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/macro.h"
#include "edgeinit/strutil.h"
#include "shutdown.h"

#define OLDROOT "/oldroot"
#define STEP_TIMEOUT_MS 10000  /* one umount, one close, the final sync */
#define MAX_MOUNTS 256
#define MAX_ROUNDS 4           /* busy mounts and stacked mappings are retried */
/* All unmounts together, then all closes together: a disk that hangs every call must not hold
 * the power-off for 10 s per mount point, and hung unmounts must not eat the time the LUKS
 * volumes need to be closed (or suspended, which wipes their keys). */
#define UNMOUNT_BUDGET_MS 45000
#define CLOSE_BUDGET_MS 30000

static const struct {
	const char *verb;
	int cmd;
	const char *doing;
} reboot_verbs[] = {
	{ "reboot", RB_AUTOBOOT, "rebooting" },
	{ "poweroff", RB_POWER_OFF, "powering off" },
	{ "halt", RB_HALT_SYSTEM, "halting" },
	{ "kexec", LINUX_REBOOT_CMD_KEXEC, "starting the loaded kernel (kexec)" },
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static uint64_t deadline_ms;

static bool out_of_time(const char *what)
{
	if (now_ms() < deadline_ms)
		return false;
	log_warning("shutdown: out of time: %s is left as it is", what);
	return true;
}

/* systemd bind-mounts /dev /proc /sys into the exitrd when the directories exist (edgeinit
 * creates them); mount our own if it did not, so that logging and sysfs work either way. */
static void mount_api_filesystems(void)
{
	static const struct {
		const char *what, *where, *type, *probe;
	} api[] = {
		{ "proc", "/proc", "proc", "/proc/self" },
		{ "sysfs", "/sys", "sysfs", "/sys/block" },
		{ "devtmpfs", "/dev", "devtmpfs", "/dev/kmsg" },
	};

	for (size_t i = 0; i < ELEMENTSOF(api); i++) {
		if (access(api[i].probe, F_OK) == 0)
			continue;
		(void)mkdir(api[i].where, 0755);
		(void)mount(api[i].what, api[i].where, api[i].type, MS_NOSUID | MS_NOEXEC, NULL);
	}
}

struct umount_call {
	const char *target;
	int flags;
	int r;
};

static void umount_blocking(void *arg)
{
	struct umount_call *c = arg;

	c->r = umount2(c->target, c->flags) < 0 ? -errno : 0;
}

/* umount2() in a thread with a deadline: a dead disk must not hold up the power-off. The call
 * lives in static storage because a timed-out thread may still use it. */
static int umount_bounded(const char *target, int flags)
{
	static struct umount_call calls[MAX_MOUNTS * MAX_ROUNDS + 8];
	static unsigned n_calls;
	struct umount_call *c;
	int r;

	if (n_calls >= ELEMENTSOF(calls))
		return -ENOSPC;
	c = &calls[n_calls++];
	*c = (struct umount_call){ .target = strdup(target), .flags = flags, .r = -EINPROGRESS };
	if (!c->target)
		return -ENOMEM;
	r = bounded_run(umount_blocking, c, STEP_TIMEOUT_MS);
	return r < 0 ? r : c->r;
}

static bool under_oldroot(const char *path)
{
	const char *rest = str_startswith(path, OLDROOT);

	return rest && (*rest == '\0' || *rest == '/');
}

struct old_mount {
	char *target;
	bool on_block_device; /* a disk's file system (not proc, sysfs, tmpfs, ...) */
};

/* The mount points below /oldroot (and /oldroot itself), children before their parents.
 * Returns how many were written to mounts. */
static size_t collect_oldroot_mounts(struct old_mount mounts[], size_t max)
{
	struct libmnt_table *tb = mnt_new_table();
	struct libmnt_iter *itr = mnt_new_iter(MNT_ITER_BACKWARD);
	struct libmnt_fs *fs;
	size_t n = 0;

	if (!tb || !itr || mnt_table_parse_mtab(tb, "/proc/self/mountinfo") < 0)
		goto out;
	/* mountinfo lists a mount after the one it is mounted on, so walking it backwards gives
	 * children first; a mount moved later than its children is caught by the next round. */
	while (n < max && mnt_table_next_fs(tb, itr, &fs) == 0) {
		const char *t = mnt_fs_get_target(fs), *src = mnt_fs_get_srcpath(fs);

		if (!t || !under_oldroot(t))
			continue;
		mounts[n].target = strdup(t);
		mounts[n].on_block_device = src && str_startswith(src, "/dev/");
		if (mounts[n].target)
			n++;
	}
out:
	mnt_free_iter(itr);
	mnt_unref_table(tb);
	return n;
}

/* Unmount everything below /oldroot. A busy disk file system is remounted read-only (its
 * journal is then clean) and detached in the last round. Returns how many are still mounted. */
static unsigned unmount_oldroot(unsigned *unmounted)
{
	struct old_mount mounts[MAX_MOUNTS];
	size_t n = 0;

	for (unsigned round = 0; round < MAX_ROUNDS; round++) {
		bool last = round + 1 == MAX_ROUNDS, progress = false;

		n = collect_oldroot_mounts(mounts, ELEMENTSOF(mounts));
		for (size_t i = 0; i < n; i++) {
			const char *t = mounts[i].target;
			int r = out_of_time(t) ? -ECANCELED : umount_bounded(t, last ? MNT_DETACH : 0);

			if (r == 0 && last) {
				log_warning("shutdown: %s was still busy: detached", t);
				(*unmounted)++;
			} else if (r == 0) {
				log_info("shutdown: unmounted %s", t);
				(*unmounted)++;
				progress = true;
			} else if (r == -EBUSY && !last && mounts[i].on_block_device) {
				/* Keep the data safe while something still holds it. */
				(void)mount(NULL, t, NULL, MS_REMOUNT | MS_RDONLY, NULL);
			} else if (r != -EBUSY && r != -EINVAL && r != -ENOENT && r != -ECANCELED) {
				log_warning_errno(r, "shutdown: could not unmount %s: %m", t);
			}
			free(mounts[i].target);
		}
		if (n == 0)
			break;
		if (!progress && !last)
			round = MAX_ROUNDS - 2; /* nothing moves: go to the detaching round */
	}
	n = collect_oldroot_mounts(mounts, ELEMENTSOF(mounts));
	for (size_t i = 0; i < n; i++) {
		log_warning("shutdown: %s is still mounted", mounts[i].target);
		free(mounts[i].target);
	}
	return (unsigned)n;
}

enum close_how {
	CLOSE_CRYPTSETUP,   /* a LUKS, plain or verity mapping: libcryptsetup's own deactivate */
	CLOSE_DM_REMOVE,    /* anything else (LVM volumes the system set up): a device-mapper remove */
	CLOSE_SUSPEND_LUKS, /* a LUKS volume still held: suspend it, which wipes its volume key */
};

struct close_call {
	char name[128];
	enum close_how how;
	int r;
};

static int dm_remove(const char *name)
{
	struct dm_task *dmt = dm_task_create(DM_DEVICE_REMOVE);
	int r = -ENOMEM;

	if (dmt && dm_task_set_name(dmt, name))
		r = dm_task_run(dmt) ? 0 : -EBUSY;
	if (dmt)
		dm_task_destroy(dmt);
	return r;
}

static void close_blocking(void *arg)
{
	struct close_call *c = arg;
	struct crypt_device *cd = NULL;

	if (c->how == CLOSE_DM_REMOVE) {
		c->r = dm_remove(c->name);
		return;
	}
	c->r = crypt_init_by_name(&cd, c->name);
	if (c->r < 0)
		return;
	/* A LUKS volume that cannot be closed (still held) is suspended: the kernel forgets its
	 * volume key. */
	c->r = c->how == CLOSE_SUSPEND_LUKS ? crypt_suspend(cd, c->name) : crypt_deactivate(cd, c->name);
	crypt_free(cd);
}

static int close_mapping_bounded(const char *name, enum close_how how)
{
	static struct close_call calls[64 * MAX_ROUNDS];
	static unsigned n_calls;
	struct close_call *c;
	int r;

	if (n_calls >= ELEMENTSOF(calls))
		return -ENOSPC;
	c = &calls[n_calls++];
	*c = (struct close_call){ .how = how, .r = -EINPROGRESS };
	(void)str_copy(c->name, sizeof(c->name), name);
	r = bounded_run(close_blocking, c, STEP_TIMEOUT_MS);
	return r < 0 ? r : c->r;
}

static bool dir_is_empty(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return true;
	while ((e = readdir(d)))
		if (!streq(e->d_name, ".") && !streq(e->d_name, "..")) {
			empty = false;
			break;
		}
	closedir(d);
	return empty;
}

/* Close every device-mapper device, the ones nothing sits on first (verity over a LUKS volume
 * goes before the volume). Returns how many are left open. */
static unsigned close_mappings(unsigned *closed)
{
	unsigned left = 0;

	for (unsigned round = 0; round < MAX_ROUNDS; round++) {
		DIR *d = opendir("/sys/block");
		struct dirent *e;
		bool progress = false, last = round + 1 == MAX_ROUNDS;

		left = 0;
		if (!d)
			break;
		while ((e = readdir(d))) {
			char path[PATH_MAX], name[128], uuid[160] = "";
			int r;

			if (!str_startswith(e->d_name, "dm-"))
				continue;
			snprintf(path, sizeof(path), "/sys/block/%s/dm/name", e->d_name);
			if (read_small_file(path, name, sizeof(name)) <= 0)
				continue;
			name[strcspn(name, "\n")] = '\0';
			snprintf(path, sizeof(path), "/sys/block/%s/dm/uuid", e->d_name);
			(void)read_small_file(path, uuid, sizeof(uuid));
			snprintf(path, sizeof(path), "/sys/block/%s/holders", e->d_name);
			left++;
			if ((!dir_is_empty(path) && !last) || out_of_time(name))
				continue;
			r = close_mapping_bounded(name, str_startswith(uuid, "CRYPT-") ||
							   str_startswith(uuid, "VERITY-") ?
							   CLOSE_CRYPTSETUP : CLOSE_DM_REMOVE);
			if (r == 0) {
				log_info("shutdown: closed %s", name);
				(*closed)++;
				left--;
				progress = true;
			} else if (last && str_startswith(uuid, "CRYPT-LUKS") &&
				   close_mapping_bounded(name, CLOSE_SUSPEND_LUKS) == 0) {
				log_warning_errno(r, "shutdown: %s is still in use (%m): suspended, its "
						  "volume key is wiped from the kernel", name);
			} else if (last) {
				log_warning_errno(r, "shutdown: could not close %s: %m", name);
			}
		}
		closedir(d);
		if (left == 0)
			break;
		if (!progress && !last)
			round = MAX_ROUNDS - 2; /* only held devices are left: go to the last round */
	}
	return left;
}

static void sync_blocking(void *arg)
{
	(void)arg;
	sync();
}

_noreturn_ void shutdown_main(int argc, char **argv)
{
	const char *verb = argc > 1 ? argv[1] : "";
	int cmd = RB_AUTOBOOT;
	const char *doing = "rebooting";
	unsigned unmounted = 0, closed = 0, busy_mounts, open_maps;
	uint64_t t0 = now_ms();

	deadline_ms = t0 + UNMOUNT_BUDGET_MS;
	mount_api_filesystems();
	/* A fault here must not leave the machine hanging in a panic. */
	(void)write_small_file("/proc/sys/kernel/panic", "10");
	log_open("");
	for (size_t i = 0; i < ELEMENTSOF(reboot_verbs); i++)
		if (streq(verb, reboot_verbs[i].verb)) {
			cmd = reboot_verbs[i].cmd;
			doing = reboot_verbs[i].doing;
		}
	if (!streq(doing, "rebooting") || streq(verb, "reboot"))
		log_info("shutdown: edgeinit exitrd, verb \"%s\"", verb);
	else
		log_warning("shutdown: unknown verb \"%s\" from systemd-shutdown: rebooting", verb);
	crypt_set_log_callback(NULL, NULL, NULL);

	busy_mounts = unmount_oldroot(&unmounted);
	(void)bounded_run(sync_blocking, NULL, STEP_TIMEOUT_MS);
	deadline_ms = now_ms() + CLOSE_BUDGET_MS;
	open_maps = close_mappings(&closed);
	(void)bounded_run(sync_blocking, NULL, STEP_TIMEOUT_MS);

	log_info("shutdown: %u file systems unmounted, %u mappings closed, %u mounts and %u "
		 "mappings left, in %" PRIu64 " ms; %s",
		 unmounted, closed, busy_mounts, open_maps, now_ms() - t0, doing);
	log_close();
	(void)reboot(cmd);
	/* kexec without a loaded kernel, or a refused power-off: reboot is always possible. */
	(void)reboot(RB_AUTOBOOT);
	for (;;)
		pause();
}
