/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage luks.
 * Runs: in the verity profile; in the EMT profile the emt stage opens every volume.
 * Reads: ctx->persist_node, ctx->opts (rd.luks.*, edgeinit.tpm2.emt-handle=), ctx->tpm.present.
 * Writes: ctx->persist_node = /dev/mapper/edge_persistent (or rd.luks.name='s name) when the
 *   partition is LUKS2 (EMT's tools expect that name), ctx->persist_plain when it is not,
 *   ctx->tpm.key_unsealed, report device "persist-luks".
 * Trust: the header is read from a disk an attacker may have rewritten. It must pass the
 *   allow-list (luks_info.rejected) before any key is offered to it; a plain partition is refused
 *   when the command line expects encryption; a key the TPM released that opens no keyslot means
 *   a supplanted header, and the boot stops without asking for a passphrase; anything but the
 *   TPM opening the volume (or a plain partition) locks the TPM down (PCRs 0-15), so code on that
 *   volume cannot unseal what was sealed to this boot.
 * How: the key sources of unlock_walk_luks (unlock.c) in order, until one opens the volume:
 *   1. systemd-tpm2 tokens in the LUKS2 header (keysrc_tpm2_token.c), with a TPM;
 *   2. EMT's sealed key at edgeinit.tpm2.emt-handle= (keysrc_emt_handle.c), with a TPM;
 *   3. rd.luks.key=, a key file in the initrd (keysrc_key_file.c);
 *   4. the recovery passphrase on the console, rd.luks.tries= times, never with headless
 *      (keysrc_prompt.c).
 *   Then the volume key is latched into PCR 15 (systemd's tpm2-measure-pcr=), so that nothing
 *   sealed to this boot's PCR 15 can be unsealed after switch_root.
 *   Secrets live in one locked buffer that is wiped on every path; none is logged.
 * Fails: when no source opens the volume (after the tries), or when the latch fails after a key
 *   sealed to PCR 15 was used. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/log.h"
#include "edgeinit/secret.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "unlock.h"

#define PERSIST_MAPPER_NAME "edge_persistent"

struct persist_volume {
	const char *node;
	const char *name;       /* mapper name */
	char uuid[37];
};

static int activate(struct unlock *u, int keyslot, const char *pass, size_t len)
{
	const struct persist_volume *v = u->userdata;
	struct keys *k = u->k;
	int r;

	k->volume_key_size[0] = sizeof(k->volume_key[0]);
	r = u->ctx->sys->luks->derive_key(v->node, keyslot, pass, len, k->volume_key[0],
					 &k->volume_key_size[0]);
	if (r == -EKEYREJECTED) {
		/* The header libcryptsetup loaded is not the one inspect passed: the disk answered
		 * differently the second time. No key went into it; stop. */
		ctx_set_remedy(u->ctx, "Treat the disk as tampered with: its LUKS2 header changed while it was read.");
		u->fatal = log_error_errno(r, "The LUKS2 header of %s was refused when it was loaded for unlocking.", v->node);
	}
	if (r < 0)
		return r;
	r = u->ctx->sys->luks->activate_key(v->node, v->name, k->volume_key[0], k->volume_key_size[0]);
	if (r < 0) {
		explicit_bzero(k->volume_key[0], sizeof(k->volume_key[0]));
		u->fatal = log_error_errno(r, "Cannot activate %s as /dev/mapper/%s: %m", v->node, v->name);
		ctx_set_remedy(u->ctx, "Check that the initrd has dm_crypt and the volume's cipher; the kernel log above has the reason.");
	}
	return r;
}

static bool try_passphrase(struct unlock *u, int keyslot, const char *pass, size_t len)
{
	return activate(u, keyslot, pass, len) >= 0;
}

/* Which option says the persistent partition is encrypted, or NULL. */
static const char *option_expecting_luks(const struct boot_options *o)
{
	if (o->n_luks_names > 0)
		return "rd.luks.name=";
	if (o->n_luks_uuids > 0)
		return "rd.luks.uuid=";
	if (o->luks_key[0])
		return "rd.luks.key=";
	if (o->tpm2_emt_handle)
		return "edgeinit.tpm2.emt-handle=";
	return NULL;
}

/* Not LUKS2: refused if the command line expects encryption, else accepted as plain. */
static int accept_plain(struct boot_context *ctx, const char *node)
{
	const char *option = option_expecting_luks(&ctx->opts);

	if (option) {
		ctx_set_remedy(ctx, "Treat the disk as tampered with (its encrypted persistent partition was replaced), or restore the LUKS2 volume; remove %s from the UKI's command line only if this device is meant to be unencrypted.",
			       option);
		return log_error_errno(-EMEDIUMTYPE, "The persistent partition %s is not LUKS2, but the command line expects it encrypted (%s).",
				       node, option);
	}
	ctx->persist_plain = true;
	log_notice("The persistent partition %s is not encrypted: it is mounted nosuid,nodev and the TPM is locked down.", node);
	return ctx_tpm_lockdown(ctx, ctx->opts.tpm2_lockdown, "plain persistent partition");
}

static int luks_run(struct boot_context *ctx)
{
	const struct boot_options *o = &ctx->opts;
	struct persist_volume v = { .node = ctx->persist_node, .name = PERSIST_MAPPER_NAME };
	struct unlock u = { .ctx = ctx, .where = v.node, .try_passphrase = try_passphrase, .userdata = &v };
	struct luks_info info;
	struct secret buf = { 0 };
	int r;

	r = ctx->sys->luks->inspect(v.node, &info);
	if (r == -EMEDIUMTYPE)
		return accept_plain(ctx, v.node);
	if (r < 0)
		return log_error_errno(r, "Cannot read the LUKS2 header of %s: %m", v.node);
	str_copy(v.uuid, sizeof(v.uuid), info.uuid);
	if (info.rejected[0]) {
		ctx_set_remedy(ctx, "Treat the disk as tampered with, or re-create the volume with an ordinary cipher (aes-xts-plain64) and PBKDF; no key was offered to this header.");
		return log_error_errno(-EKEYREJECTED, "The LUKS2 header of the persistent partition %s (LUKS UUID %s) is refused: %s.",
				       v.node, v.uuid, info.rejected);
	}
	if (!boot_options_luks_allowed(o, v.uuid)) {
		ctx_set_remedy(ctx, "Add rd.luks.uuid=%s to the command line, or remove the rd.luks.uuid= list.", v.uuid);
		return log_error_errno(-EPERM, "The persistent partition %s is LUKS2 (UUID %s), which rd.luks.uuid= does not list.",
				       v.node, v.uuid);
	}
	if (boot_options_luks_name(o, v.uuid))
		v.name = boot_options_luks_name(o, v.uuid);
	u.name = v.name;
	unlock_load_drivers(ctx);

	r = secret_alloc(&buf, sizeof(struct keys));
	if (r < 0 || !buf.data)
		return log_error_errno(r < 0 ? r : -ENOMEM, "Cannot allocate locked memory for keys: %m");
	u.k = (struct keys *)buf.data;

	if (!unlock_walk_luks(&u)) {
		r = u.fatal;
		if (r < 0)
			goto out;
		ctx_set_remedy(ctx,
			       "Type the recovery passphrase on the console at the next boot, or enroll this TPM again (systemd-cryptenroll --tpm2-device=auto).");
		r = log_error_errno(-EKEYREJECTED, "No key opened the persistent partition %s (LUKS UUID %s).",
				    v.node, v.uuid);
		goto out;
	}
	ctx->tpm.key_unsealed = u.from_tpm;
	log_info("Unlocked %s as /dev/mapper/%s with %s.", v.node, v.name, u.how);

	if (ctx->tpm.present && o->luks_measure_pcr) {
		r = unlock_latch_volume_key(ctx, v.name, v.uuid, u.k->volume_key[0], u.k->volume_key_size[0]);
		if (r < 0 && u.pcr15_policy) {
			ctx_set_remedy(ctx, "The TPM refused to extend PCR 15; the unsealed key must not stay reachable. Check the TPM.");
			goto out;
		}
	}
	/* A volume the TPM did not open may be anyone's: nothing sealed to this boot stays reachable. */
	if (!u.from_tpm) {
		r = ctx_tpm_lockdown(ctx, o->tpm2_lockdown, "the persistent partition was opened without the TPM");
		if (r < 0)
			goto out;
	}
	snprintf(ctx->persist_node, sizeof(ctx->persist_node), "/dev/mapper/%s", v.name);
	report_add_device(&ctx->report, "persist-luks", v.node, ctx->persist_node);
	r = 0;
out:
	secret_free(&buf);
	return r;
}

const struct stage stage_luks = { .name = "luks", .run = luks_run };
