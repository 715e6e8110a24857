/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage early-setup.
 * Reads: nothing but ctx->root.
 * Writes: mounts /dev (devtmpfs), /proc, /sys, /run (tmpfs, mode=755,nodev,nosuid) below the
 *   root unless already mounted; on UEFI machines efivarfs read-only at
 *   /sys/firmware/efi/efivars (loading the efivarfs module if it is not built in), for the
 *   devices stage, which reads the loader's variables and unmounts it; creates /run/edgeinit; opens the log (kmsg + console); lifts the
 *   kernel's /dev/kmsg rate limit for the initrd so no boot line is dropped (restored before
 *   switch_root).
 * Fails: if a mount fails; nothing can be reported reliably without them. efivarfs is not
 *   needed to boot: without it the boot disk stays unknown (a warning). */
#include <errno.h>
#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"

static const struct early_mount {
	const char *target;
	const char *fstype;
	unsigned long flags;
	const char *data;
} early_mounts[] = {
	{ "/dev", "devtmpfs", MS_NOSUID | MS_STRICTATIME, "mode=0755" },
	{ "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL },
	{ "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_STRICTATIME, "mode=0755" },
};

/* The loader's EFI variables (the devices stage reads LoaderDevicePartUUID). Read-only: nothing
 * in the initrd writes EFI variables. */
static void mount_efivarfs(struct boot_context *ctx)
{
	char path[512];
	int r;

	if (!ctx_exists(ctx, "/sys/firmware/efi")) {
		log_debug("No %s: not booted through UEFI, no loader variables.", "/sys/firmware/efi");
		return;
	}
	ctx_path(ctx, "/sys/firmware/efi/efivars", path, sizeof(path));
	if (is_mount_point(path) > 0)
		return;
	r = ctx_ensure_filesystem(ctx, "efivarfs");
	if (r >= 0)
		r = ctx->sys->fs->mount("efivarfs", path, "efivarfs",
				    MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	if (r < 0)
		log_warning_errno(r, "Cannot mount efivarfs on '%s', so the disk the loader started from stays unknown: %m",
				  path);
}

/* If the kernel found no /dev/console, fds 0-2 are closed: give them the console (or nothing
 * rather than letting a later open() land on fd 1). */
static void ensure_std_fds(struct boot_context *ctx)
{
	for (int fd = 0; fd < 3; fd++) {
		if (fcntl(fd, F_GETFD) >= 0)
			continue;
		int n = ctx_open(ctx, "/dev/console", O_RDWR | O_NOCTTY);

		/* ctx_open's fd is close-on-exec; 0-2 are handed to init. */
		if (n == fd)
			(void)fcntl(fd, F_SETFD, 0);
		else if (n >= 0) {
			dup2(n, fd);
			close(n);
		}
	}
}

static int early_setup_run(struct boot_context *ctx)
{
	char path[512];
	int r;

	for (size_t i = 0; i < ELEMENTSOF(early_mounts); i++) {
		const struct early_mount *m = &early_mounts[i];

		r = ctx_path(ctx, m->target, path, sizeof(path));
		if (r < 0)
			return r;
		r = ctx_mkdir(ctx, m->target, 0755);
		if (r < 0)
			return log_error_errno(r, "Failed to create '%s': %m", path);
		if (is_mount_point(path) > 0) {
			log_debug("'%s' is already mounted, keeping it.", path);
			continue;
		}
		r = ctx->sys->fs->mount(m->fstype, path, m->fstype, m->flags, m->data);
		if (r < 0) {
			ctx_set_remedy(ctx, "The kernel must provide %s; check its configuration.",
				       m->fstype);
			return log_error_errno(r, "Failed to mount %s on '%s': %m", m->fstype, path);
		}
	}

	ensure_std_fds(ctx);
	log_open(ctx->root);

	mount_efivarfs(ctx);

	r = ctx_mkdir(ctx, "/run/edgeinit", 0755);
	if (r < 0)
		log_warning_errno(r, "Failed to create '%s', ignoring: %m", "/run/edgeinit");

	r = ctx_write_file(ctx, "/proc/sys/kernel/printk_devkmsg", "on\n");
	if (r < 0)
		log_debug_errno(r, "Cannot lift the /dev/kmsg rate limit (set on the command line?): %m");
	return 0;
}

const struct stage stage_early_setup = { .name = "early-setup", .run = early_setup_run };
