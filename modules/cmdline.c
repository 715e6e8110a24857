/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage cmdline.
 * Reads: /proc/cmdline below ctx->root.
 * Writes: ctx->opts (parsed with lib/cmdline.c), the debug switch of the log.
 * Fails: on an invalid security-relevant option (roothash=, verity devices/options, root=,
 *   init=) or when roothash= is missing: edgeinit only boots a dm-verity protected root; on
 *   edgeinit.persist= naming another partition than EMT's in the EMT profile. Unknown
 *   edgeinit.* keys and bad values of other options are reported and the default is kept. */
#include <errno.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/stage.h"

static void report_note(void *userdata, enum cmdline_note note, const char *key, const char *detail)
{
	(void)userdata;
	switch (note) {
	case CMDLINE_NOTE_UNKNOWN_KEY:
		log_warning("Unknown option '%s' on the kernel command line, ignoring.", key);
		break;
	case CMDLINE_NOTE_TOO_LONG:
		log_warning("Over-long word '%.40s...' on the kernel command line, ignoring.", key);
		break;
	case CMDLINE_NOTE_INVALID_VALUE:
		log_warning("Invalid value of '%s=' on the kernel command line (%s), using the default.",
			    key, detail);
		break;
	}
}

static int cmdline_run(struct boot_context *ctx)
{
	char cmdline[8192], bad_key[CMDLINE_KEY_MAX], reason[CMDLINE_REASON_MAX], ref[300];
	struct boot_options *o = &ctx->opts_rw;
	int r;

	r = ctx_read_file(ctx, "/proc/cmdline", cmdline, sizeof(cmdline));
	if (r < 0)
		return log_error_errno(r, "Failed to read '%s': %m", "/proc/cmdline");

	/* Debug output is chosen at run time; look for it first so parsing itself can be traced. */
	boot_options_init(o);
	r = boot_options_parse(cmdline, o, report_note, NULL, bad_key, reason);
	log_set_debug(o->debug);
	if (r < 0) {
		ctx_set_remedy(ctx,
			       "Fix '%s=' in the kernel command line embedded in the UKI, then rebuild and re-sign the UKI.",
			       bad_key);
		return log_error_errno(r, "Invalid '%s=' on the kernel command line: %s.", bad_key,
				       reason);
	}
	if (o->roothash_size == 0 && o->profile != BOOT_PROFILE_EMT) {
		ctx_set_remedy(ctx,
			       "Add roothash=<hex> (printed by 'veritysetup format') and the verity partitions to the UKI's command line.");
		return log_error_errno(-ENOKEY,
				       "No roothash= (nor EMT's boot_uuid=) on the kernel command line: edgeinit only boots a dm-verity protected root.");
	}
	/* EMT's profile takes the persistent partition from EMT's layout (edge_persistent, opened
	 * by the emt stage): a different one named on the signed command line would be ignored,
	 * so the contradiction stops the boot instead. */
	if (o->profile == BOOT_PROFILE_EMT &&
	    (o->persist.kind != DEVREF_PARTLABEL || !streq(o->persist.value, "edge_persistent"))) {
		ctx_set_remedy(ctx,
			       "Remove edgeinit.persist= from the UKI's command line (the EMT profile uses EMT's edge_persistent partition), or boot the verity profile (roothash= and the verity partitions) to choose the partition.");
		return log_error_errno(-EINVAL,
				       "edgeinit.persist=%s cannot be used with boot_uuid= (EMT profile): EMT's persistent partition is the OS disk's edge_persistent.",
				       devref_to_string(&o->persist, ref, sizeof(ref)));
	}
	ctx->opts_parsed = true;
	ctx->report.profile = boot_profile_to_string(o->profile);

	log_debug("root=%s init=%s rd.timeout=%u rd.emergency=%s", o->root, o->init, o->timeout_sec,
		  emergency_action_to_string(o->emergency));
	log_debug("verity data=%s", devref_to_string(&o->verity_data, ref, sizeof(ref)));
	log_debug("verity hash=%s on-corruption=%s", devref_to_string(&o->verity_hash, ref, sizeof(ref)),
		  verity_corruption_mode_to_string(o->verity_corruption));
	log_debug("persist=%s", devref_to_string(&o->persist, ref, sizeof(ref)));
	if (o->profile == BOOT_PROFILE_EMT)
		log_info("EMT profile: boot_uuid=%s selects the slot; partitions by EMT's GPT names.",
			 o->boot_uuid);
	return 0;
}

const struct stage stage_cmdline = { .name = "cmdline", .run = cmdline_run };
