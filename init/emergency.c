/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "emergency.h"

int boot_report_write(struct boot_context *ctx)
{
	char json[16384], path[512];
	int n;

	n = report_format_json(&ctx->report, json, sizeof(json));
	if (n < 0)
		return n;
	ctx_path(ctx, "/run/edgeinit/boot.json", path, sizeof(path));
	return write_new_file(path, json);
}

void emergency(struct boot_context *ctx, const char *stage, int error)
{
	const struct boot_options *o = &ctx->opts;
	static const int reboot_cmd[] = {
		[EMERGENCY_REBOOT] = RB_AUTOBOOT,
		[EMERGENCY_POWEROFF] = RB_POWER_OFF,
		[EMERGENCY_HALT] = RB_HALT_SYSTEM,
	};
	char persist[512];
	struct timespec delay = { .tv_sec = o->emergency_delay_sec };

	ctx->report.outcome = "failed";
	ctx->report.failed_stage = stage;
	snprintf(ctx->report.error, sizeof(ctx->report.error), "%s", strerror(error < 0 ? -error : error));
	(void)boot_report_write(ctx);

	log_error("FATAL: stage '%s' failed: %s.", stage, ctx->report.error);
	log_error("What to do: %s", ctx->remedy[0] ? ctx->remedy
			: "Read the messages above; the boot report is in /run/edgeinit/boot.json.");
	log_error("No shell is started. Will %s in %u s (rd.emergency=, edgeinit.emergency_delay=).",
		  emergency_action_to_string(o->emergency), o->emergency_delay_sec);

	/* No key outlives the boot attempt in our memory. */
	emt_discard_keys();

	/* The persistent partition must be clean whatever happens next. */
	snprintf(persist, sizeof(persist), "%s%s/opt", ctx->root, ctx->sysroot);
	sync();
	(void)umount2(persist, 0);

	while (nanosleep(&delay, &delay) < 0 && errno == EINTR)
		;
	(void)ctx->sys->reboot(reboot_cmd[o->emergency]);
	/* reboot() returned: stay alive, PID 1 must never exit. */
	for (;;)
		pause();
}
