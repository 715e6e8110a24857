/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage mounts.
 * Reads: ctx->rootfs.node (the verity mapping), ctx->persist_node, ctx->sysroot.
 * Writes: report devices.
 * Side effects: mounts the root read-only at /sysroot and the persistent partition read-write
 *   at /sysroot/opt; nosuid,nodev when it is not encrypted (ctx->persist_plain), since anyone
 *   with the disk can then write setuid programs and device nodes on it. File system drivers are loaded on demand ("fs-<type>" module alias), since
 *   the kernel cannot run modprobe from an initrd without one.
 * Fails: if either mount fails, or the root has no /opt (a verity root cannot be changed to add
 *   one). The persistent partition is never formatted or repaired here. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"

static int mount_block(struct boot_context *ctx, const char *node, const char *target,
		       unsigned long flags, const char *role)
{
	struct blockdev_tags tags;
	char dev[512], dir[512];
	int r;

	ctx_path(ctx, node, dev, sizeof(dev));
	ctx_path(ctx, target, dir, sizeof(dir));
	r = ctx->sys->dev->probe_block(dev, true, &tags);
	if (r < 0 || !tags.type[0]) {
		ctx_set_remedy(ctx, "Make sure the %s holds a file system.", role);
		return log_error_errno(r < 0 ? r : -EMEDIUMTYPE,
				       "No file system found on %s (%s).", node, role);
	}
	r = ctx_ensure_filesystem(ctx, tags.type);
	if (r < 0) {
		ctx_set_remedy(ctx, "Add the '%s' file system module to the initrd (EXTRA_MODULES=).",
			       tags.type);
		return log_error_errno(r, "No driver for file system '%s' on %s: %m", tags.type, node);
	}
	r = ctx->sys->fs->mount(dev, dir, tags.type, flags, NULL);
	if (r < 0) {
		ctx_set_remedy(ctx, "Check the %s on %s; the kernel log above has the file system's reason.",
			       role, node);
		return log_error_errno(r, "Failed to mount %s (%s, %s) on %s: %m", node, role, tags.type,
				       target);
	}
	log_info("Mounted %s (%s) on %s %s%s%s.", node, tags.type, target,
		 flags & MS_RDONLY ? "read-only" : "read-write", flags & MS_NOSUID ? ", nosuid" : "",
		 flags & MS_NODEV ? ", nodev" : "");
	return 0;
}

static int mounts_run(struct boot_context *ctx)
{
	char opt_target[512];
	int r;

	r = ctx_mkdir(ctx, ctx->sysroot, 0755);
	if (r < 0)
		return log_error_errno(r, "Failed to create '%s': %m", ctx->sysroot);

	r = mount_block(ctx, ctx->rootfs.node, ctx->sysroot, MS_RDONLY, "root file system");
	if (r < 0)
		return r;
	report_add_device(&ctx->report, "root", ctx->opts.root, ctx->rootfs.node);

	snprintf(opt_target, sizeof(opt_target), "%s/opt", ctx->sysroot);
	r = ctx_mkdir(ctx, opt_target, 0755);
	if (r < 0) {
		ctx_set_remedy(ctx, "Add an empty /opt directory to the root file system image.");
		return log_error_errno(r, "The root file system has no /opt to mount the persistent partition on: %m");
	}
	/* A LUKS2 volume only holds what this device wrote: no nosuid/nodev, since EMT devices keep
	 * device nodes and setuid programs in persistent binds. A plain partition holds whatever
	 * whoever had the disk wrote: nothing on it may gain privileges or reach a device. */
	return mount_block(ctx, ctx->persist_node, opt_target,
			   ctx->persist_plain ? MS_NOSUID | MS_NODEV : 0, "persistent partition");
}

const struct stage stage_mounts = { .name = "mounts", .run = mounts_run };
