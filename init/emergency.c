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

#include "crash.h"
#include "edgeinit/bounded.h"
#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/secret.h"
#include "emergency.h"
#include "../modules/failures.h"

/* How long the fatal path waits for sync(2) and the umount of the persistent partition: on a
 * failing or hostile disk either can block for ever, and rd.emergency= must happen regardless. */
#define EMERGENCY_SYNC_TIMEOUT_MS 10000

/* The blocking part of the fatal path; runs in its own thread. Its buffer is static because an
 * abandoned thread outlives emergency()'s frame (and emergency() runs once). */
static char persist_path[512];

/* How long the fatal path waits for the failure report to be saved (a write to /opt or to an EFI
 * variable): a hung disk or firmware must not stop the reboot. */
#define EMERGENCY_REPORT_TIMEOUT_MS 5000

/* Static for the same reason as persist_path. */
static struct failure_record failure_rec;

static void save_failure(void *arg)
{
	failure_save(arg, &failure_rec);
}

static void sync_and_umount(void *arg)
{
	(void)arg;
	sync();
	(void)umount2(persist_path, 0);
}

int boot_report_write(struct boot_context *ctx)
{
	char json[24576]; /* up to 6 KiB of it previous_failures */
	int n;

	n = report_format_json(&ctx->report, json, sizeof(json));
	if (n < 0)
		return n;
	return ctx_write_new_file(ctx, "/run/edgeinit/boot.json", json);
}

void emergency(struct boot_context *ctx, const char *stage, int error)
{
	const struct boot_options *o = &ctx->opts;
	static const int reboot_cmd[] = {
		[EMERGENCY_REBOOT] = RB_AUTOBOOT,
		[EMERGENCY_POWEROFF] = RB_POWER_OFF,
		[EMERGENCY_HALT] = RB_HALT_SYSTEM,
	};
	struct timespec delay = { .tv_sec = o->emergency_delay_sec };
	int r;

	/* A fault from here on is reported as such, not as one in the stage that failed. */
	crash_set_stage("emergency");
	/* Closed for the exec of init, which failed: the report and the failure record need it. */
	if (ctx->root_fd < 0)
		(void)ctx_root_reopen(ctx);
	ctx->report.outcome = "failed";
	ctx->report.failed_stage = stage;
	snprintf(ctx->report.error, sizeof(ctx->report.error), "%s", strerror(error < 0 ? -error : error));
	(void)boot_report_write(ctx);

	log_error("FATAL: stage '%s' failed: %s.", stage, ctx->report.error);
	log_error("What to do: %s", ctx->remedy[0] ? ctx->remedy
			: "Read the messages above; the boot report is in /run/edgeinit/boot.json.");
	log_error("No shell is started. Will %s in %u s (rd.emergency=, edgeinit.emergency_delay=).",
		  emergency_action_to_string(o->emergency), o->emergency_delay_sec);

	/* No key outlives the boot attempt in our memory: every stage that started discards what it
	 * holds, newest first (EMT's keys without waiting for its background derivation, the TPM
	 * session), then every locked buffer left is wiped. */
	boot_discard(ctx);
	(void)secret_wipe_all();

	/* The reason survives the fallback: after the wipe (nothing secret is left to leak into it)
	 * and before /opt is unmounted. Its text is edgeinit's own: the error and the remedy. */
	failure_record_fill(ctx, stage, ctx->report.error, &failure_rec);
	r = bounded_run(save_failure, ctx, EMERGENCY_REPORT_TIMEOUT_MS);
	if (r == -ETIMEDOUT)
		log_error("Saving the failure report did not finish within %u s (a failing disk or firmware?); following rd.emergency= without it.",
			  EMERGENCY_REPORT_TIMEOUT_MS / 1000);
	else if (r < 0)
		log_error_errno(r, "Failed to start saving the failure report: %m; going on without it.");

	/* The persistent partition should be clean whatever happens next, but not at the price
	 * of never rebooting. */
	snprintf(persist_path, sizeof(persist_path), "%s%s/opt", ctx->root, ctx->sysroot);
	r = bounded_run(sync_and_umount, NULL, EMERGENCY_SYNC_TIMEOUT_MS);
	if (r == -ETIMEDOUT)
		log_error("Syncing and unmounting %s did not finish within %u s (a failing disk?); "
			  "following rd.emergency= without them.",
			  persist_path, EMERGENCY_SYNC_TIMEOUT_MS / 1000);
	else if (r < 0)
		log_error_errno(r, "Failed to start the sync of %s: %m; going on without it.", persist_path);

	while (nanosleep(&delay, &delay) < 0 && errno == EINTR)
		;
	(void)ctx->sys->machine->reboot(reboot_cmd[o->emergency]);
	/* reboot() returned: stay alive, PID 1 must never exit. */
	for (;;)
		pause();
}
