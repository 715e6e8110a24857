/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage switch-root.
 * Reads: ctx->sysroot, ctx->opts.init.
 * Writes: ctx->report.initramfs_* (what was freed, what could not be).
 * How (checks first, then the point of no return):
 *   1. the new root is a mount point; init= resolves, inside the new root, to an executable
 *      regular file; the old root is ramfs or tmpfs (so deleting it frees memory, and it is not
 *      a real disk we would wipe); then the background module loading ends (bounded);
 *   2. /dev /proc /sys /run move into the new root (or are detached if the new root lacks the
 *      directory);
 *   3. the new root moves onto "/", and we chroot into it;
 *   4. the initramfs contents are deleted through a descriptor opened before the move, never
 *      crossing into another file system.
 * Fails: before step 2, with nothing changed. After it, errors are reported; the caller still
 *   only execs an init that step 1 verified. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"

static const char *const moved_mounts[] = { "/dev", "/proc", "/sys", "/run" };

/* Open init= inside the new root, resolving symlinks as if the new root were "/". */
static int check_init(struct boot_context *ctx, const char *sysroot)
{
	_cleanup_close_ int root_fd = -EBADF, fd = -EBADF;
	struct stat st;

	root_fd = open(sysroot, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (root_fd < 0)
		return negative_errno();
	fd = openat_in_root(root_fd, ctx->opts.init + 1, O_PATH);
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	if (!S_ISREG(st.st_mode))
		return -EISDIR;
	if (!(st.st_mode & (S_IXUSR | S_IXGRP | S_IXOTH)))
		return -EACCES;
	return 0;
}

/* Delete everything below dir_fd that lives on dev. Returns nothing; counts in the report. */
static void remove_tree(struct boot_context *ctx, int dir_fd, dev_t dev)
{
	DIR *d = fdopendir(dir_fd);
	struct dirent *e;

	if (!d) {
		close(dir_fd);
		return;
	}
	while ((e = readdir(d))) {
		struct stat st;
		bool is_dir;

		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 || st.st_dev != dev) {
			ctx->report.initramfs_left_entries++;
			continue;
		}
		is_dir = S_ISDIR(st.st_mode);
		if (is_dir) {
			int sub = openat(dirfd(d), e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				remove_tree(ctx, sub, dev);
		}
		if (unlinkat(dirfd(d), e->d_name, is_dir ? AT_REMOVEDIR : 0) < 0) {
			ctx->report.initramfs_left_entries++;
			continue;
		}
		if (!is_dir)
			ctx->report.initramfs_freed_bytes += (uint64_t)st.st_size;
	}
	closedir(d);
}

static int switch_root_run(struct boot_context *ctx)
{
	char sysroot[512], src[512], dst[512], oldroot[512];
	_cleanup_close_ int oldroot_fd = -EBADF;
	struct statfs sfs;
	struct stat st;
	int r;

	ctx_path(ctx, ctx->sysroot, sysroot, sizeof(sysroot));
	ctx_path(ctx, "/", oldroot, sizeof(oldroot));

	/* 1. Checks: nothing has changed yet if one fails. */
	r = is_mount_point(sysroot);
	if (r <= 0)
		return log_error_errno(r < 0 ? r : -EINVAL, "'%s' is not a mount point, not switching to it.",
				       sysroot);
	r = check_init(ctx, sysroot);
	if (r < 0) {
		ctx_set_remedy(ctx, "Install init in the root image or set init= to an executable in it.");
		return log_error_errno(r, "init=%s is not an executable file in the new root: %m",
				       ctx->opts.init);
	}
	if (statfs(oldroot, &sfs) < 0)
		return log_error_errno(negative_errno(), "Cannot statfs '%s': %m", oldroot);
	if (sfs.f_type != RAMFS_MAGIC && sfs.f_type != TMPFS_MAGIC)
		return log_error_errno(-EPERM,
				       "The old root is not ramfs/tmpfs (magic 0x%lx); refusing to delete its contents.",
				       (unsigned long)sfs.f_type);
	oldroot_fd = ctx_open(ctx, "/", O_RDONLY | O_DIRECTORY);
	if (oldroot_fd < 0)
		return log_error_errno(oldroot_fd, "Cannot open '%s': %m", oldroot);
	if (fstat(oldroot_fd, &st) < 0)
		return log_error_errno(negative_errno(), "Cannot open '%s': %m", oldroot);

	/* Modules still waiting for a quiet moment are not needed any more; one being inserted is
	 * waited for, so no thread of the initrd is left: exec from a process whose other thread is
	 * stuck in the kernel would wait for that thread for ever. Still nothing changed. */
	r = devmgr_finish_background(&ctx->dev, true);
	if (r < 0) {
		ctx_set_remedy(ctx, "A kernel module in the initrd hangs while loading: read the kernel messages above for the driver, and leave it out of the initrd (edgeinit-mkinitrd) or fix it.");
		return log_error_errno(r, "A kernel module is still being loaded in the background; not switching root with it half loaded: %m");
	}

	/* 2. Move the API file systems. */
	for (size_t i = 0; i < ELEMENTSOF(moved_mounts); i++) {
		ctx_path(ctx, moved_mounts[i], src, sizeof(src));
		snprintf(dst, sizeof(dst), "%s%s", sysroot, moved_mounts[i]);
		if (stat(dst, &(struct stat){ 0 }) < 0) {
			log_warning("The new root has no %s; detaching it instead of moving.", moved_mounts[i]);
			(void)ctx->sys->fs->umount(src, MNT_DETACH);
			continue;
		}
		r = ctx->sys->fs->mount(src, dst, NULL, MS_MOVE, NULL);
		if (r < 0) {
			log_warning_errno(r, "Failed to move %s to %s, detaching it: %m", src, dst);
			(void)ctx->sys->fs->umount(src, MNT_DETACH);
		}
	}

	/* 3. The new root becomes "/". */
	if (chdir(sysroot) < 0)
		return log_error_errno(negative_errno(), "Failed to enter '%s': %m", sysroot);
	r = ctx->sys->fs->mount(sysroot, oldroot, NULL, MS_MOVE, NULL);
	if (r < 0)
		return log_error_errno(r, "Failed to move '%s' onto '%s': %m", sysroot, oldroot);
	r = ctx->sys->fs->chroot(".");
	if (r < 0)
		return log_error_errno(r, "Failed to chroot into the new root: %m");
	/* What the context resolves in is the new root from here on (boot.json goes to its /run). */
	(void)ctx_root_reopen(ctx);
	if (chdir("/") < 0)
		return log_error_errno(negative_errno(), "Failed to enter the new root: %m");

	/* 4. Free the initramfs. */
	remove_tree(ctx, TAKE_FD(oldroot_fd), st.st_dev);
	log_info("Freed %llu bytes of initramfs (%u entries left).",
		 (unsigned long long)ctx->report.initramfs_freed_bytes,
		 ctx->report.initramfs_left_entries);
	return 0;
}

const struct stage stage_switch_root = { .name = "switch-root", .run = switch_root_run };
