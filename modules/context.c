/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boot context shared by the stages. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"

/* The root, O_PATH, at fd 3 or above: until early-setup gives fds 0-2 the console they may be
 * closed, and the console must not land on the root's fd. */
static int root_open(const char *root)
{
	int fd = open(root[0] ? root : "/", O_PATH | O_DIRECTORY | O_CLOEXEC), moved;

	if (fd < 0)
		return negative_errno();
	if (fd > 2)
		return fd;
	moved = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	moved = moved < 0 ? negative_errno() : moved;
	close(fd);
	return moved;
}

void boot_context_init(struct boot_context *ctx, const char *root, const struct sys_ops *sys)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->root = root;
	ctx->root_fd = root_open(root);
	ctx->sys = sys;
	devmgr_init(&ctx->dev, root, sys);
	ctx->sysroot = "/sysroot";
	boot_options_init(&ctx->opts_rw);
}

void boot_context_done(struct boot_context *ctx)
{
	devmgr_done(&ctx->dev);
	if (ctx->root_fd >= 0)
		close(ctx->root_fd);
	ctx->root_fd = -EBADF;
}

int ctx_root_reopen(struct boot_context *ctx)
{
	int fd = root_open(ctx->root);

	/* Never the old root again: if the new one cannot be opened, nothing resolves. */
	if (ctx->root_fd >= 0)
		close(ctx->root_fd);
	ctx->root_fd = fd;
	return fd < 0 ? fd : 0;
}

void root_plan_hash_from_cmdline(struct root_plan *p, const struct boot_options *o)
{
	memcpy(p->roothash, o->roothash, o->roothash_size);
	p->roothash_size = o->roothash_size;
	p->roothash_source = "cmdline";
}

int ctx_path(const struct boot_context *ctx, const char *path, char *buf, size_t size)
{
	int n = snprintf(buf, size, "%s%s", ctx->root, path);

	if (n >= 0 && (size_t)n < size)
		return 0;
	/* Never a truncated path, which could name another file: an empty one, which every call
	 * refuses (ENOENT), so callers that only open the result fail closed. */
	if (size > 0)
		buf[0] = '\0';
	log_warning("Path '%s%s' is too long (%zu bytes at most), not using it.", ctx->root, path,
		    size ? size - 1 : 0);
	return -E2BIG;
}

int ctx_open(const struct boot_context *ctx, const char *path, int flags)
{
	if (ctx->root_fd < 0)
		return ctx->root_fd;
	return openat_in_root(ctx->root_fd, path, flags);
}

/* The directory holding path's last component, resolved in the root: fd, with *name pointing
 * at that component in path ("", ".", ".." and a trailing "/" name no entry: -EINVAL). */
static int open_parent(const struct boot_context *ctx, const char *path, const char **name)
{
	const char *slash = strrchr(path, '/');
	char dir[PATH_MAX];
	size_t n = slash ? (size_t)(slash - path) : 0;

	*name = slash ? slash + 1 : path;
	if (!**name || streq(*name, ".") || streq(*name, ".."))
		return -EINVAL;
	if (n >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, n);
	dir[n] = '\0';
	return ctx_open(ctx, n ? dir : "/", O_PATH | O_DIRECTORY);
}

int ctx_create(const struct boot_context *ctx, const char *path, int flags, mode_t mode)
{
	_cleanup_close_ int dir = -EBADF;
	const char *name;
	int fd;

	dir = open_parent(ctx, path, &name);
	if (dir < 0)
		return dir;
	fd = openat(dir, name, flags | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
	return fd < 0 ? negative_errno() : fd;
}

int ctx_read_file(const struct boot_context *ctx, const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -EBADF;

	if (size == 0)
		return -EINVAL;
	fd = ctx_open(ctx, path, O_RDONLY | O_NOCTTY);
	if (fd < 0)
		return fd;
	return read_small_fd(fd, buf, size);
}

int ctx_write_file(const struct boot_context *ctx, const char *path, const char *content)
{
	_cleanup_close_ int fd = ctx_open(ctx, path, O_WRONLY | O_NOCTTY);

	if (fd < 0)
		return fd;
	return write_small_fd(fd, content);
}

int ctx_write_new_file(const struct boot_context *ctx, const char *path, const char *content)
{
	_cleanup_close_ int dir = -EBADF;
	const char *name;

	dir = open_parent(ctx, path, &name);
	if (dir < 0)
		return dir;
	return write_new_file_at(dir, name, content);
}

int ctx_mkdir(const struct boot_context *ctx, const char *path, mode_t mode)
{
	_cleanup_close_ int dir = -EBADF, fd = -EBADF;
	const char *name;

	dir = open_parent(ctx, path, &name);
	if (dir < 0)
		return dir;
	if (mkdirat(dir, name, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return negative_errno();
	/* Something is there: fine if it is a directory (a symlink to one, followed in the root). */
	fd = ctx_open(ctx, path, O_PATH | O_DIRECTORY);
	return fd < 0 ? fd : 0;
}

DIR *ctx_opendir(const struct boot_context *ctx, const char *path)
{
	int fd = ctx_open(ctx, path, O_RDONLY | O_DIRECTORY);
	DIR *d;

	if (fd < 0) {
		errno = -fd;
		return NULL;
	}
	d = fdopendir(fd);
	if (!d) {
		int e = errno;

		close(fd);
		errno = e;
	}
	return d;
}

bool ctx_exists(const struct boot_context *ctx, const char *path)
{
	_cleanup_close_ int fd = ctx_open(ctx, path, O_PATH);

	return fd >= 0;
}

/* /proc/filesystems lines are "[nodev]\t<type>". */
bool ctx_filesystem_known(struct boot_context *ctx, const char *type)
{
	char buf[4096], *line, *save = NULL;

	if (ctx_read_file(ctx, "/proc/filesystems", buf, sizeof(buf)) < 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *t = strrchr(line, '\t');

		if (streq(t ? t + 1 : line, type))
			return true;
	}
	return false;
}

int ctx_ensure_filesystem(struct boot_context *ctx, const char *type)
{
	char alias[64];

	if (ctx_filesystem_known(ctx, type))
		return 0;
	snprintf(alias, sizeof(alias), "fs-%s", type);
	return devmgr_load_module(&ctx->dev, alias);
}

void ctx_set_remedy(struct boot_context *ctx, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(ctx->remedy, sizeof(ctx->remedy), fmt, ap);
	va_end(ap);
}

static uint64_t clock_us(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t now_monotonic_us(void) { return clock_us(CLOCK_MONOTONIC); }
uint64_t now_realtime_us(void) { return clock_us(CLOCK_REALTIME); }

unsigned ctx_debug_hold_max_sec = 120;

void ctx_debug_hold(struct boot_context *ctx, const char *where)
{
	struct timespec left = { .tv_sec = ctx_debug_hold_max_sec };

	sync();
	log_warning("edgeinit.debug.hold=%s: holding %u s before %s (a test knob: power-cut tests cut here).",
		    ctx->opts.debug_hold, ctx_debug_hold_max_sec, where);
	while (nanosleep(&left, &left) < 0 && errno == EINTR)
		;
}
