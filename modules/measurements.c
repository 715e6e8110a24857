/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The measurement service: every PCR event of the boot goes through here, whichever stage
 * causes it (enter-initrd and leave-initrd in tpm2, the volume-key latch in the unlock paths,
 * EMT's unseal event, the TPM lockdown). Each extend goes to every active PCR bank the tpm2 stage
 * found (ctx->tpm.banks) and is recorded in systemd's log, /run/log/systemd/tpm2-measure.log, in
 * systemd's format (lib/measure.c), so systemd-pcrlock and friends see the initrd's events.
 * Fails: an extend the TPM refuses is an error for the caller (logged here); a log that cannot be
 * written is a warning. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"

static void read_boot_id(struct boot_context *ctx, uint8_t id[16])
{
	char buf[64], hex[33];
	size_t n = 0;

	memset(id, 0, 16);
	if (ctx_read_file(ctx, "/proc/sys/kernel/random/boot_id", buf, sizeof(buf)) < 0)
		return;
	for (char *p = buf; *p && n < 32; p++)
		if (*p != '-' && *p != '\n')
			hex[n++] = *p;
	hex[n] = '\0';
	(void)hex_decode(hex, id, 16);
}

static uint64_t boottime_usec(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

int ctx_measure(struct boot_context *ctx, unsigned pcr, const struct measure_digest *digests,
		const char *description, enum measure_event_type type)
{
	struct measure_record rec = {
		.pcr = pcr, .digests = digests, .n_digests = ctx->tpm.n_banks,
		.description = description, .event_type = type,
	};
	char line[MEASURE_RECORD_MAX];
	_cleanup_close_ int fd = -EBADF;
	int r, n;

	/* systemd's protocol: the sticky bit marks a log whose last record may be torn. */
	(void)ctx_mkdir(ctx, "/run/log", 0755);
	(void)ctx_mkdir(ctx, "/run/log/systemd", 0755);
	fd = ctx_create(ctx, MEASURE_LOG_PATH, O_WRONLY | O_APPEND | O_NOCTTY, 0600);
	if (fd < 0)
		log_warning_errno(fd, "Cannot open '%s', measuring without a log: %m", MEASURE_LOG_PATH);
	else if (flock(fd, LOCK_EX) < 0)
		log_warning_errno(negative_errno(), "Cannot open '%s', measuring without a log: %m", MEASURE_LOG_PATH);
	else
		(void)fchmod(fd, 0600 | S_ISVTX);

	r = ctx->sys->tpm->extend(pcr, digests, ctx->tpm.n_banks);
	if (r < 0)
		return log_error_errno(r, "Failed to extend PCR %u with '%s': %m", pcr, description);

	read_boot_id(ctx, rec.boot_id);
	rec.timestamp_usec = boottime_usec();
	n = measure_log_record(&rec, line, sizeof(line));
	if (fd >= 0 && n > 0) {
		if (write(fd, line, (size_t)n) == n && fsync(fd) == 0)
			(void)fchmod(fd, 0600);
	}
	log_debug("Measured '%s' into PCR %u (%zu banks).", description, pcr, ctx->tpm.n_banks);
	return 0;
}

int ctx_measure_string(struct boot_context *ctx, unsigned pcr, const char *event)
{
	struct measure_digest d[_HASH_ALG_MAX];

	for (size_t i = 0; i < ctx->tpm.n_banks; i++) {
		d[i].alg = ctx->tpm.banks[i];
		measure_string_digest(d[i].alg, event, d[i].digest);
	}
	return ctx_measure(ctx, pcr, d, event, MEASURE_EVENT_NONE);
}

int ctx_tpm_lockdown(struct boot_context *ctx, bool all_pcrs, const char *reason)
{
	unsigned first = all_pcrs ? 0 : MEASURE_PCR_SYSTEM_IDENTITY;
	int r;

	if (!ctx->tpm.present || ctx->tpm.locked_down)
		return 0;
	/* PCRs 0-15 are the ones software at locality 0 can extend and never reset: a policy on any
	 * of them, PCR 7 alone included, fails from now on until the next reboot. */
	for (unsigned pcr = first; pcr <= MEASURE_PCR_SYSTEM_IDENTITY; pcr++) {
		r = ctx_measure_string(ctx, pcr, TPM_LOCKDOWN_EVENT);
		if (r < 0) {
			ctx_set_remedy(ctx, "The TPM refused a PCR extend, so keys sealed to this boot would stay reachable. Check the TPM.");
			return r;
		}
	}
	if (all_pcrs)
		ctx->tpm.locked_down = true;
	log_notice("TPM lockdown (%s): extended PCRs %s; nothing sealed to this boot's PCRs can be unsealed any more.",
		   reason, all_pcrs ? "0-15" : "15");
	return 0;
}
