/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage exitrd: leave edgeinit behind for the end of the shutdown.
 * Reads: ctx->opts.exitrd, the initrd's /init.
 * Writes: /run/initramfs/shutdown (a copy of /init, 0700) and the directories systemd-shutdown
 *   binds the API file systems and the old root onto; /run moves into the new root with
 *   switch-root, so systemd finds them there (systemd's INITRD_INTERFACE).
 * Why: only from outside the root file system can the root's verity device and the volumes
 *   below it be closed, so that no volume key is left in the kernel when the machine goes down
 *   (init/shutdown.c does that). The copy costs /run the size of /init (see the log line).
 * Fails: never; a copy that cannot be made is a warning (the shutdown is then systemd's alone). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"

static const char *const exitrd_dirs[] = { "dev", "proc", "sys", "run", "oldroot" };

static int copy_fd(int in, int out, off_t *copied)
{
	char buf[64 * 1024];

	for (;;) {
		ssize_t n = read(in, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return 0;
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return -errno;
			done += w;
		}
		*copied += n;
	}
}

static int install_exitrd(struct boot_context *ctx, off_t *size)
{
	char sub[PATH_MAX];
	_cleanup_close_ int dir = -EBADF, in = -EBADF, out = -EBADF;
	int r;

	r = ctx_mkdir(ctx, "/run/initramfs", 0700);
	if (r < 0)
		return r;
	for (size_t i = 0; i < ELEMENTSOF(exitrd_dirs); i++) {
		if (snprintf(sub, sizeof(sub), "/run/initramfs/%s", exitrd_dirs[i]) >= (int)sizeof(sub))
			return -ENAMETOOLONG;
		r = ctx_mkdir(ctx, sub, 0755);
		if (r < 0)
			return r;
	}
	dir = ctx_open(ctx, "/run/initramfs", O_PATH | O_DIRECTORY);
	if (dir < 0)
		return dir;
	in = ctx_open(ctx, "/init", O_RDONLY | O_NOFOLLOW);
	if (in < 0)
		return in;
	out = openat(dir, ".shutdown.tmp", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0700);
	if (out < 0)
		return -errno;
	*size = 0;
	r = copy_fd(in, out, size);
	if (r == 0 && renameat(dir, ".shutdown.tmp", dir, "shutdown") < 0)
		r = -errno;
	if (r < 0)
		(void)unlinkat(dir, ".shutdown.tmp", 0);
	return r;
}

static int exitrd_run(struct boot_context *ctx)
{
	off_t size = 0;
	int r;

	if (!ctx->opts.exitrd) {
		log_info("No exitrd (edgeinit.exitrd=no): the shutdown is left to systemd.");
		return 0;
	}
	r = install_exitrd(ctx, &size);
	if (r < 0) {
		log_warning_errno(r, "Could not install /run/initramfs/shutdown: %m. The shutdown "
				  "cannot close the root's verity device and the LUKS volumes.");
		return 0;
	}
	log_info("Installed /run/initramfs/shutdown (%lld KiB in /run): the shutdown ends in "
		 "edgeinit, which closes the volumes.", (long long)(size + 1023) / 1024);
	return 0;
}

const struct stage stage_exitrd = { .name = "exitrd", .run = exitrd_run };
