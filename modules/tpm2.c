/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage tpm2.
 * Reads: ctx->opts (rd.luks.options=tpm2-device=), the device manager (its wait).
 * Writes: ctx->tpm.present, ctx->tpm.banks, ctx->tpm.measured_enter_initrd.
 * How: the TPM driver is built in or was loaded by coldplug; if /dev/tpmrm0 is not there yet, the
 *   stage waits for its uevent, bounded by what the firmware says (tpm_firmware_facts). With a TPM it extends
 *   "enter-initrd" into PCR 11 in every active bank, as systemd-pcrphase does, before anything
 *   is unsealed, and logs it to /run/log/systemd/tpm2-measure.log (through the measurement
 *   service, modules/measurements.c).
 * Fails: only if the TPM is there but the measurement fails (a policy bound to PCR 11 must not see
 *   a boot that skipped it). No TPM is not an error: the unlock falls back to recovery. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"

struct tpm_wait {
	const struct boot_context *ctx;
	const char *device;
};

static int node_exists(void *arg)
{
	const struct tpm_wait *w = arg;

	return ctx_exists(w->ctx, w->device);
}

/* Wait for the TPM device node, at most until deadline; devices that show up meanwhile get their
 * drivers as in the devices stage. */
static void wait_for_tpm(struct boot_context *ctx, const char *device, uint64_t deadline)
{
	struct tpm_wait w = { .ctx = ctx, .device = device };

	(void)devmgr_wait(&ctx->dev, node_exists, &w, deadline);
}

/* How long a TPM may take to appear, by what the firmware says; the first row whose path exists
 * applies. ACPI firmware lists a TPM 2.0 in its TPM2 table (the fact systemd-tpm2-generator relies
 * on): with the table, a missing node only means a slow driver (tpm_tis probing a busy machine
 * takes seconds); on an ACPI machine without it there is nothing to wait for; without ACPI tables
 * (device tree) a short wait. */
static const struct tpm_firmware_fact {
	const char *path;
	int wait_sec;
	bool announced;
	const char *says;
} tpm_firmware_facts[] = {
	{ "/sys/firmware/acpi/tables/TPM2", 30, true, "the firmware's ACPI TPM2 table announces one" },
	{ "/sys/firmware/acpi/tables", 0, false, "the firmware's ACPI tables announce none" },
	{ "/", 5, false, "no ACPI tables say whether there is one" },
};

static const struct tpm_firmware_fact *tpm_firmware_says(struct boot_context *ctx)
{
	for (size_t i = 0; i + 1 < ELEMENTSOF(tpm_firmware_facts); i++) {
		if (ctx_exists(ctx, tpm_firmware_facts[i].path))
			return &tpm_firmware_facts[i];
	}
	return &tpm_firmware_facts[ELEMENTSOF(tpm_firmware_facts) - 1];
}

static int tpm2_run(struct boot_context *ctx)
{
	const struct boot_options *o = &ctx->opts;
	struct measure_digest d[_HASH_ALG_MAX];
	const struct tpm_firmware_fact *fw;
	char path[512];
	int r;

	if (!o->luks_tpm2) {
		log_info("TPM use is off (rd.luks.options=tpm2-device=off).");
		return 0;
	}
	fw = tpm_firmware_says(ctx);
	wait_for_tpm(ctx, o->luks_tpm2_device, now_monotonic_us() + (uint64_t)fw->wait_sec * 1000000ULL);
	ctx_path(ctx, o->luks_tpm2_device, path, sizeof(path));
	r = ctx->sys->tpm->open(path);
	if (r < 0) {
		if (fw->announced)
			log_warning("No TPM at %s after %d s, although %s (%s): LUKS volumes need their recovery passphrase. Check the TPM in the firmware settings and that the initrd has its driver (tpm_tis, tpm_crb).",
				    o->luks_tpm2_device, fw->wait_sec, fw->says, strerror(-r));
		else
			log_notice("No TPM at %s after %d s (%s; %s): LUKS volumes need their recovery passphrase.",
				   o->luks_tpm2_device, fw->wait_sec, fw->says, strerror(-r));
		return 0;
	}
	r = ctx->sys->tpm->banks(ctx->tpm.banks, ELEMENTSOF(ctx->tpm.banks));
	if (r <= 0) {
		ctx_set_remedy(ctx, "The TPM answers but reports no complete PCR bank; check its firmware settings.");
		return log_error_errno(r < 0 ? r : -ENODEV, "Cannot read the TPM's PCR banks: %m");
	}
	ctx->tpm.n_banks = (size_t)r;
	ctx->tpm.present = true;

	for (size_t i = 0; i < ctx->tpm.n_banks; i++) {
		d[i].alg = ctx->tpm.banks[i];
		measure_string_digest(d[i].alg, measure_phase_to_string(MEASURE_PHASE_ENTER_INITRD), d[i].digest);
	}
	r = ctx_measure(ctx, MEASURE_PCR_KERNEL_BOOT, d,
			measure_phase_to_string(MEASURE_PHASE_ENTER_INITRD), MEASURE_EVENT_PHASE);
	if (r < 0) {
		ctx_set_remedy(ctx, "The TPM refused a PCR extend; check it in the firmware, or clear it.");
		return r;
	}
	ctx->tpm.measured_enter_initrd = true;
	log_info("TPM at %s: %zu PCR banks; measured enter-initrd into PCR 11.", o->luks_tpm2_device,
		 ctx->tpm.n_banks);
	return 0;
}

/* The fatal path: the TPM session (and its keys) ends with the boot attempt. */
static void tpm2_discard(struct boot_context *ctx)
{
	ctx->sys->tpm->close();
}

const struct stage stage_tpm2 = { .name = "tpm2", .run = tpm2_run, .discard = tpm2_discard };

/* Stage leave-initrd: "leave-initrd" into PCR 11 right before switch_root, so that a key sealed to
 * the initrd phase cannot be unsealed by the running system. Fails closed when a key was
 * unsealed: that is exactly the case the measurement protects. */
static int leave_initrd_run(struct boot_context *ctx)
{
	struct measure_digest d[_HASH_ALG_MAX];
	int r;

	if (!ctx->tpm.present)
		return 0;
	for (size_t i = 0; i < ctx->tpm.n_banks; i++) {
		d[i].alg = ctx->tpm.banks[i];
		measure_string_digest(d[i].alg, measure_phase_to_string(MEASURE_PHASE_LEAVE_INITRD), d[i].digest);
	}
	r = ctx_measure(ctx, MEASURE_PCR_KERNEL_BOOT, d,
			measure_phase_to_string(MEASURE_PHASE_LEAVE_INITRD), MEASURE_EVENT_PHASE);
	if (r < 0 && ctx->tpm.key_unsealed) {
		ctx_set_remedy(ctx, "The TPM refused a PCR extend; the unsealed key must not stay reachable. Check the TPM.");
		return r;
	}
	/* Nothing uses the TPM after this: free tss2's context and its buffers now. */
	ctx->sys->tpm->close();
	return 0;
}

const struct stage stage_leave_initrd = { .name = "leave-initrd", .run = leave_initrd_run };
