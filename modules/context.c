/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boot context shared by the stages. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"

void boot_context_init(struct boot_context *ctx, const char *root, const struct sys_ops *sys)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->root = root;
	ctx->sys = sys;
	devmgr_init(&ctx->dev, root, sys);
	ctx->sysroot = "/sysroot";
	boot_options_init(&ctx->opts_rw);
}

void boot_context_done(struct boot_context *ctx)
{
	devmgr_done(&ctx->dev);
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

/* /proc/filesystems lines are "[nodev]\t<type>". */
bool ctx_filesystem_known(struct boot_context *ctx, const char *type)
{
	char path[512], buf[4096], *line, *save = NULL;

	ctx_path(ctx, "/proc/filesystems", path, sizeof(path));
	if (read_small_file(path, buf, sizeof(buf)) < 0)
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
