/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage layout.
 * Reads: layout.env — the root's /etc/layout.env (verity-protected, as EMT's hook reads it), or
 *   else the initrd's /layout.env (signed with the UKI); ctx->sysroot with the persistent
 *   partition mounted at /opt.
 * Writes: report counts of overlays, binds, skips and seeded entries.
 * How: the file is parsed and validated (lib/layout.c) before anything is mounted, then the
 *   plan (lib/layout_plan.c) is executed in order: one tmpfs for the overlays' upper and work
 *   directories, an overlay per overlay path, then for each bind path seeding of the persistent
 *   copy (modules/seed.c: never overwriting, power-safe, a new copy all or nothing) and a bind
 *   mount. A path whose copy could not be made (a full partition) is not bound: it stays the
 *   image's copy, with an error naming the space needed. On an unencrypted persistent partition
 *   (ctx->persist_plain) binds and overlays with their upper directory on it are nosuid,nodev.
 *   The persistent partition is untrusted: every directory on it is opened component by component
 *   without following symlinks, and a planted symlink or a wrong file type skips that entry with a
 *   warning instead of mounting anything elsewhere. Paths in the image must not contain symlinks
 *   either (a mount would follow them out of the new root).
 * Fails: on an unreadable or invalid layout.env (nothing is mounted then). Single overlays and
 *   binds that fail are warnings, as with EMT's hook: the boot goes on with that path read-only. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/layout.h"
#include "edgeinit/log.h"
#include "edgeinit/seed.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"

struct layout_run {
	struct boot_context *ctx;
	char sysroot[512];      /* ctx->root + ctx->sysroot */
	int sysroot_fd;
	int persist_fd;         /* the persistent partition's root, <sysroot>/opt */
	int target_err;         /* why the last directory to create on the partition was not */
	struct seed_stats seeded;
};

/* Open path (absolute in the new root) below the new root without following any symlink. */
static int open_in_sysroot(struct layout_run *lr, const char *path, int flags)
{
	if (streq(path, "/"))
		return fcntl(lr->sysroot_fd, F_DUPFD_CLOEXEC, 3);
	return openat_beneath(lr->sysroot_fd, path + 1, flags, 0);
}

static int root_kind(void *userdata, const char *path)
{
	struct layout_run *lr = userdata;
	_cleanup_close_ int fd = open_in_sysroot(lr, path, O_PATH);
	struct stat st;

	if (fd == -ENOENT)
		return 0;
	if (fd == -ELOOP)
		return 'f'; /* exists, but is (or passes through) a symlink: refused when used */
	if (fd < 0)
		return fd;
	if (fstat(fd, &st) < 0)
		return negative_errno();
	return S_ISDIR(st.st_mode) ? 'd' : 'f';
}

static int root_is_mount(void *userdata, const char *path)
{
	struct layout_run *lr = userdata;
	char full[1024];

	snprintf(full, sizeof(full), "%s%s", lr->sysroot, path);
	return is_mount_point(full) > 0;
}

/* "/opt/.mount/x" -> ".mount/x", relative to the persistent partition; NULL if not below it. */
static const char *persist_rel(const char *path)
{
	const char *rest = str_startswith(path, LAYOUT_PERSIST_MOUNT "/");

	return rest && *rest ? rest : NULL;
}

static int open_persist_dir(struct layout_run *lr, const char *path, bool create)
{
	const char *rel = persist_rel(path);

	return rel ? persist_open_dir(lr->persist_fd, rel, create) : -EXDEV;
}

/* Overlay options are comma-separated and use ':' and '\' specially. */
static bool overlay_safe(const char *s)
{
	return !strpbrk(s, ",:\\");
}

static int do_mkdir(struct layout_run *lr, const struct layout_action *a)
{
	int fd = open_persist_dir(lr, a->target, true);

	lr->target_err = fd < 0 ? fd : 0;
	if (fd < 0)
		return log_warning_errno(fd, "Cannot create '%s' on the persistent partition: %m", a->target);
	close(fd);
	return 0;
}

static int do_mount_tmpfs(struct layout_run *lr, const struct layout_action *a)
{
	_cleanup_close_ int fd = open_persist_dir(lr, a->target, false);
	char target[1024], data[128];
	int r;

	if (fd < 0)
		return log_warning_errno(fd, "Cannot use '%s' for the overlay tmpfs: %m", a->target);
	snprintf(target, sizeof(target), "%s%s", lr->sysroot, a->target);
	if (is_mount_point(target) > 0) {
		log_info("'%s' is already mounted, keeping it.", a->target);
		return 0;
	}
	snprintf(data, sizeof(data), "%s,mode=0755", a->option);
	r = lr->ctx->sys->fs->mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, data);
	if (r < 0)
		return log_warning_errno(r, "Failed to mount the overlay tmpfs on '%s' (%s): %m", a->target,
					 a->option);
	return 0;
}

/* The upper directory is on the persistent partition (no tmpfs): what is written there through
 * the overlay comes back on the next boot. */
static bool upper_on_persist(struct layout_run *lr, int upper_fd)
{
	struct stat u, p;

	return fstat(upper_fd, &u) < 0 || fstat(lr->persist_fd, &p) < 0 || u.st_dev == p.st_dev;
}

static int do_overlay(struct layout_run *lr, const struct layout_action *a)
{
	_cleanup_close_ int lower = -EBADF, parent = -EBADF, upper = -EBADF;
	_cleanup_free_ char *parent_path = strdup(a->upper);
	char lower_abs[1024], upper_abs[1024], work_abs[1024], data[4096];
	const char *upper_name = strrchr(a->upper, '/') + 1, *work_name = strrchr(a->work, '/') + 1;
	int r;

	if (!parent_path)
		return -ENOMEM;
	lower = open_in_sysroot(lr, a->path, O_RDONLY | O_DIRECTORY);
	if (lower < 0)
		return log_warning_errno(lower, "Skipping overlay '%s' (line %u): %s: %m", a->path, a->line,
					 lower == -ELOOP ? "it contains a symlink in the image" : "cannot open it");
	snprintf(lower_abs, sizeof(lower_abs), "%s%s", lr->sysroot, a->path);
	snprintf(upper_abs, sizeof(upper_abs), "%s%s", lr->sysroot, a->upper);
	snprintf(work_abs, sizeof(work_abs), "%s%s", lr->sysroot, a->work);
	if (!overlay_safe(lower_abs) || !overlay_safe(upper_abs) || !overlay_safe(work_abs))
		return log_warning_errno(-EINVAL, "Skipping overlay '%s' (line %u): ',', ':' or '\\' in a path.",
					 a->path, a->line);

	parent = open_persist_dir(lr, dirname(parent_path), true);
	if (parent < 0)
		return log_warning_errno(parent, "Skipping overlay '%s': cannot create '%s': %m", a->path,
					 a->upper);
	if ((mkdirat(parent, upper_name, 0755) < 0 && errno != EEXIST) ||
	    (mkdirat(parent, work_name, 0755) < 0 && errno != EEXIST))
		return log_warning_errno(negative_errno(), "Skipping overlay '%s': cannot create its directories: %m",
					 a->path);
	upper = persist_open_dir(parent, upper_name, false);
	if (upper < 0 || persist_open_dir(parent, work_name, false) < 0)
		return log_warning_errno(upper < 0 ? upper : -ELOOP,
					 "Skipping overlay '%s': its upper or work directory is not a plain directory.",
					 a->path);
	/* The upper root shows through as the directory itself: same owner, mode, ACLs, label. */
	r = copy_metadata(lower, upper, false);
	if (r < 0)
		log_warning_errno(r, "Cannot copy the attributes of '%s' to its overlay, ignoring: %m", a->path);

	snprintf(data, sizeof(data), "lowerdir=%s,upperdir=%s,workdir=%s", lower_abs, upper_abs, work_abs);
	r = lr->ctx->sys->fs->mount("overlay", lower_abs, "overlay",
				lr->ctx->persist_plain && upper_on_persist(lr, upper) ? MS_NOSUID | MS_NODEV : 0, data);
	if (r < 0)
		return log_warning_errno(r, "Failed to mount the overlay on '%s': %m", a->path);
	return 0;
}

/* A persistent copy could not be made: say what it needs and what happens to the path. */
static void seed_failed(struct layout_run *lr, const struct layout_action *a, int src_dir, const char *src_name,
			int r)
{
	uint64_t need = 0, avail = 0;
	bool full = r == -ENOSPC || r == -EDQUOT;

	if (full && seed_space(src_dir, src_name, lr->persist_fd, &need, &avail) >= 0)
		log_error_errno(r, "Cannot seed '%s' into '%s' (layout.env line %u): %m. It needs about %llu KiB; the persistent partition %s has %llu KiB free.",
				a->path, a->target, a->line, (unsigned long long)(need / 1024), lr->ctx->persist_node,
				(unsigned long long)(avail / 1024));
	else
		log_error_errno(r, "Cannot seed '%s' into '%s' (layout.env line %u): %m.", a->path, a->target, a->line);
	log_error("Nothing was copied and '%s' is not bound: it stays the image's copy, and changes to it do not survive a reboot. %s",
		  a->path, full ? "Free space on the persistent partition (/opt) and reboot: seeding is retried on every boot."
			        : "Check the persistent partition (the kernel log may say more) and reboot: seeding is retried on every boot.");
}

static int do_seed(struct layout_run *lr, const struct layout_action *a)
{
	_cleanup_free_ char *src_copy = strdup(a->path), *dst_copy = strdup(a->target);
	_cleanup_close_ int src = -EBADF, dst = -EBADF;
	unsigned failed_before = lr->seeded.failed;
	const char *src_name, *dst_name;
	int r;

	if (!src_copy || !dst_copy)
		return -ENOMEM;
	src_name = strrchr(a->path, '/') + 1;
	dst_name = strrchr(a->target, '/') + 1;
	/* Both sides by their parent: the seeding creates the copy itself, complete or not at all. */
	if (a->kind == LAYOUT_ACTION_SEED_DIR)
		src = open_in_sysroot(lr, a->path, O_RDONLY | O_DIRECTORY);
	else
		src = open_in_sysroot(lr, dirname(src_copy), O_RDONLY | O_DIRECTORY);
	dst = open_persist_dir(lr, dirname(dst_copy), false);
	if (src < 0)
		return log_warning_errno(src, "Skipping '%s' (line %u): %s: %m", a->path, a->line,
					 src == -ELOOP ? "it contains a symlink in the image" : "cannot open it");
	if (dst == -ELOOP || dst == -ENOTDIR)
		return log_warning_errno(dst, "Skipping '%s' (line %u): its persistent copy '%s' is %s.",
					 a->path, a->line, a->target,
					 dst == -ELOOP ? "behind a symlink" : "not a directory");
	if (dst < 0) {
		/* Its directory could not be made (a full partition): say so, not "missing". */
		seed_failed(lr, a, src, a->kind == LAYOUT_ACTION_SEED_DIR ? "." : src_name,
			    dst == -ENOENT && lr->target_err < 0 ? lr->target_err : dst);
		return dst;
	}
	if (a->kind == LAYOUT_ACTION_SEED_DIR)
		r = seed_dir(src, dst, dst_name, &lr->seeded);
	else
		r = seed_entry(src, src_name, dst, dst_name, &lr->seeded);
	if (r == -ELOOP || r == -ENOTDIR)
		return log_warning_errno(r, "Skipping '%s' (line %u): its persistent copy '%s' is %s.", a->path,
					 a->line, a->target, r == -ELOOP ? "a symlink" : "not a directory");
	if (r < 0) {
		seed_failed(lr, a, src, a->kind == LAYOUT_ACTION_SEED_DIR ? "." : src_name, r);
		return r;
	}
	if (lr->seeded.failed > failed_before)
		log_warning("%u entries of '%s' could not be added to its persistent copy '%s' (above); it is bound as it is, and they are tried again on the next boot.",
			    lr->seeded.failed - failed_before, a->path, a->target);
	return 0;
}

static int do_bind(struct layout_run *lr, const struct layout_action *a)
{
	_cleanup_close_ int target = -EBADF;
	_cleanup_free_ char *dir_copy = strdup(a->source);
	char source_abs[1024], target_abs[1024];
	struct stat tst, sst;
	int r;

	if (!dir_copy)
		return -ENOMEM;
	target = open_in_sysroot(lr, a->path, O_PATH);
	if (target < 0)
		return log_warning_errno(target, "Skipping bind '%s' (line %u): %s: %m", a->path, a->line,
					 target == -ELOOP ? "it is or passes through a symlink in the image"
							  : "cannot open it");
	/* The source must be exactly what seeding made: reached without symlinks, same type. */
	_cleanup_close_ int dir = open_persist_dir(lr, dirname(dir_copy), false);
	if (dir < 0)
		return log_warning_errno(dir, "Skipping bind '%s': '%s' is not a plain directory.", a->path,
					 a->source);
	if (fstat(target, &tst) < 0 || fstatat(dir, strrchr(a->source, '/') + 1, &sst, AT_SYMLINK_NOFOLLOW) < 0)
		return log_warning_errno(negative_errno(), "Skipping bind '%s': %m", a->path);
	if (S_ISDIR(tst.st_mode) != S_ISDIR(sst.st_mode) || S_ISLNK(sst.st_mode)) {
		log_warning("Skipping bind '%s' (line %u): its persistent copy '%s' is %s.", a->path, a->line,
			    a->source, S_ISLNK(sst.st_mode) ? "a symlink" : "of another type");
		return -EMEDIUMTYPE;
	}
	snprintf(source_abs, sizeof(source_abs), "%s%s", lr->sysroot, a->source);
	snprintf(target_abs, sizeof(target_abs), "%s%s", lr->sysroot, a->path);
	r = lr->ctx->sys->fs->mount(source_abs, target_abs, NULL, MS_BIND, NULL);
	if (r < 0)
		return log_warning_errno(r, "Failed to bind '%s' onto '%s': %m", a->source, a->path);
	if (lr->ctx->persist_plain) {
		/* The bind inherits /opt's nosuid,nodev; set them on the bind itself so that nothing
		 * from an unencrypted partition depends on how the kernel clones a mount. */
		r = lr->ctx->sys->fs->mount(NULL, target_abs, NULL, MS_REMOUNT | MS_BIND | MS_NOSUID | MS_NODEV, NULL);
		if (r < 0) {
			log_warning_errno(r, "Cannot make the bind of '%s' nosuid,nodev, unmounting it: %m", a->path);
			(void)lr->ctx->sys->fs->umount(target_abs, MNT_DETACH);
			return r;
		}
	}
	return 0;
}

/* Read the layout: the root's own file first, else the one in the initrd. */
static int read_layout(struct layout_run *lr, char *buf, size_t size, char *used, size_t used_size)
{
	char path[1024];
	int n;

	snprintf(path, sizeof(path), "%s/etc/layout.env", lr->sysroot);
	n = read_small_file(path, buf, size);
	if (n >= 0) {
		snprintf(used, used_size, "%s/etc/layout.env", lr->ctx->sysroot);
		return n;
	}
	if (n != -ENOENT)
		return log_error_errno(n, "Failed to read '%s': %m", path);
	n = ctx_read_file(lr->ctx, "/layout.env", buf, size);
	if (n < 0)
		return log_error_errno(n, "Failed to read '%s' (and the root has no /etc/layout.env): %m", "/layout.env");
	snprintf(used, used_size, "/layout.env (initrd)");
	return n;
}

static void hold_seeding(void *ctx)
{
	ctx_debug_hold(ctx, "this seeding operation");
}

static int layout_run(struct boot_context *ctx)
{
	struct layout_run lr = { .ctx = ctx, .sysroot_fd = -EBADF, .persist_fd = -EBADF, .target_err = 0 };
	struct layout_root_ops ops = { .kind = root_kind, .is_mount = root_is_mount, .userdata = &lr };
	struct layout_plan plan = { 0 };
	struct layout_diag diag = { 0 };
	_cleanup_free_ char *text = malloc(LAYOUT_FILE_MAX + 1);
	_cleanup_free_ struct layout *l = calloc(1, sizeof(*l));
	char used[256], persist[1024], blocked[LAYOUT_PATH_MAX] = "";
	unsigned done = 0, failed = 0, skipped = 0;
	const char *hold;
	int n, r;

	if (!text || !l)
		return log_error_errno(-ENOMEM, "Out of memory.");
	ctx_path(ctx, ctx->sysroot, lr.sysroot, sizeof(lr.sysroot));
	lr.sysroot_fd = ctx_open(ctx, ctx->sysroot, O_RDONLY | O_DIRECTORY);
	snprintf(persist, sizeof(persist), "%s%s", lr.sysroot, LAYOUT_PERSIST_MOUNT);
	lr.persist_fd = open(persist, O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	if (lr.sysroot_fd < 0 || lr.persist_fd < 0) {
		r = log_error_errno(lr.sysroot_fd < 0 ? lr.sysroot_fd : negative_errno(),
				    "Cannot open the new root or its %s: %m", LAYOUT_PERSIST_MOUNT);
		goto out;
	}

	n = read_layout(&lr, text, LAYOUT_FILE_MAX + 1, used, sizeof(used));
	if (n < 0) {
		r = n;
		goto out;
	}
	if (n > LAYOUT_FILE_MAX) {
		ctx_set_remedy(ctx, "Keep layout.env below %d KiB.", LAYOUT_FILE_MAX / 1024);
		r = log_error_errno(-EFBIG, "%s is too large.", used);
		goto out;
	}
	r = layout_parse(text, (size_t)n, l, &diag);
	if (r >= 0)
		r = layout_validate(l, &diag);
	if (r < 0) {
		ctx_set_remedy(ctx, "Fix %s in the image; 'edgeinit-layout check FILE' lists every error. Nothing was mounted.",
			       used);
		log_error("%s:%u:%u: %s", used, diag.line, diag.column, diag.message);
		goto out;
	}
	r = layout_plan_build(l, &ops, &plan);
	if (r < 0) {
		log_error_errno(r, "Cannot plan the layout of %s: %m", used);
		goto out;
	}

	hold = str_startswith(ctx->opts.debug_hold, "seed:");
	if (hold)
		seed_inject_hold((unsigned)strtoul(hold, NULL, 10), hold_seeding, ctx);
	for (size_t i = 0; i < plan.n; i++) {
		const struct layout_action *a = &plan.actions[i];

		/* A bind path whose copy could not be made is never bound (an empty or partial copy
		 * would hide the image's files). */
		if (a->kind == LAYOUT_ACTION_BIND && streq(blocked, a->path))
			continue;
		switch (a->kind) {
		case LAYOUT_ACTION_MKDIR:
			/* A directory's copy is created by its seeding, complete or not at all. */
			if (a->path[0] && i + 1 < plan.n && plan.actions[i + 1].kind == LAYOUT_ACTION_SEED_DIR &&
			    streq(plan.actions[i + 1].path, a->path))
				continue;
			r = do_mkdir(&lr, a);
			break;
		case LAYOUT_ACTION_MOUNT_TMPFS:
			r = do_mount_tmpfs(&lr, a);
			break;
		case LAYOUT_ACTION_OVERLAY:
			r = ctx_ensure_filesystem(ctx, "overlay");
			if (r < 0)
				log_warning_errno(r, "No overlay file system driver (add 'overlay' to the initrd): %m");
			else
				r = do_overlay(&lr, a);
			break;
		case LAYOUT_ACTION_SEED_DIR:
		case LAYOUT_ACTION_SEED_FILE:
			r = do_seed(&lr, a);
			break;
		case LAYOUT_ACTION_BIND:
			r = do_bind(&lr, a);
			break;
		case LAYOUT_ACTION_SKIP:
			log_warning("Skipping '%s' (%s line %u): %s.", a->path, used, a->line, a->reason);
			skipped++;
			continue;
		}
		if (r < 0 && (a->kind == LAYOUT_ACTION_SEED_DIR || a->kind == LAYOUT_ACTION_SEED_FILE))
			str_copy(blocked, sizeof(blocked), a->path);
		if (r < 0)
			failed++;
		else if (a->kind == LAYOUT_ACTION_OVERLAY || a->kind == LAYOUT_ACTION_BIND)
			done++;
	}
	ctx->report.layout_mounts = done;
	ctx->report.layout_failed = failed;
	ctx->report.layout_skipped = skipped + lr.seeded.skipped;
	ctx->report.layout_seeded = lr.seeded.created + lr.seeded.hardlinked;
	log_info("Layout from %s: %u overlays and binds, %u skipped, %u failed; seeded %u entries (%llu bytes), kept %u.",
		 used, done, skipped, failed, lr.seeded.created + lr.seeded.hardlinked,
		 (unsigned long long)lr.seeded.bytes, lr.seeded.kept);
	r = 0;
out:
	seed_inject_hold(0, NULL, NULL);
	layout_plan_free(&plan);
	closep(&lr.sysroot_fd);
	closep(&lr.persist_fd);
	return r;
}

const struct stage stage_layout = { .name = "layout", .run = layout_run };
