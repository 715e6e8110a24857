/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key source emt-handle: EMT's sealed key at edgeinit.tpm2.emt-handle=, when there is a TPM.
 * Unsealed, then PCR 15 is extended at once (the key is PolicyPCR-bound to PCR 15, so the TPM will
 * not release it again in this boot, whatever is parsed next), then tried on keyslot 0. A key
 * that fits nothing sets u->fatal: that header is not the one it was sealed for, and no passphrase
 * is asked for. The key is wiped on every path and never logged. */
#include <errno.h>
#include <string.h>

#include "edgeinit/log.h"
#include "unlock.h"

/* The event extended into PCR 15 as soon as EMT's key is out of the TPM. */
#define EMT_KEY_UNSEALED_EVENT "edgeinit:emt-key-unsealed"

static bool emt_handle_applies(const struct unlock *u)
{
	return u->ctx->tpm.present && u->ctx->opts.tpm2_emt_handle;
}

static bool emt_handle_try(struct unlock *u)
{
	struct boot_context *ctx = u->ctx;
	struct tpm2_unseal_request req = { .emt_handle = ctx->opts.tpm2_emt_handle };
	bool ok;
	int n, r;

	n = ctx->sys->tpm->unseal(&req, u->k->unsealed, sizeof(u->k->unsealed));
	if (n < 0) {
		log_warning("TPM refused the sealed key at handle 0x%08x: %s.", req.emt_handle,
			    n == -EPERM ? "PCR 15 does not match (another machine, or PCR 15 already extended)"
			    : n == -ENOENT ? "no such object in this TPM"
					   : strerror(-n));
		return false;
	}
	/* EMT seals the passphrase itself (64 hex characters) for keyslot 0. */
	memcpy(u->k->passphrase, u->k->unsealed, (size_t)n);
	explicit_bzero(u->k->unsealed, sizeof(u->k->unsealed));
	/* Close the door before anything from the disk is read with the key in hand. */
	r = ctx_measure_string(ctx, MEASURE_PCR_SYSTEM_IDENTITY, EMT_KEY_UNSEALED_EVENT);
	if (r < 0) {
		explicit_bzero(u->k->passphrase, sizeof(u->k->passphrase));
		ctx_set_remedy(ctx, "The TPM refused to extend PCR 15 after releasing the key; check the TPM.");
		u->fatal = r;
		return false;
	}
	log_info("Extended PCR 15 right after the unseal: EMT's sealed key cannot be unsealed again in this boot.");
	ok = u->try_passphrase(u, 0, u->k->passphrase, (size_t)n);
	explicit_bzero(u->k->passphrase, sizeof(u->k->passphrase));
	if (!ok) {
		if (!u->fatal) {
			log_error("The TPM released the sealed key at handle 0x%08x, but it does not open %s (%s): this LUKS2 header is not the one the key was sealed for.",
				  req.emt_handle, u->name, u->where);
			ctx_set_remedy(ctx, "Treat the disk as tampered with: a LUKS2 volume was replaced (no passphrase is asked for). If it was re-created on purpose, re-seal EMT's key for it.");
			u->fatal = -EKEYREJECTED;
		}
		return false;
	}
	u->pcr15_policy = true;
	return true;
}

const struct key_source key_source_emt_handle = {
	.name = "emt-handle",
	.how = "EMT's sealed key",
	.from_tpm = true,
	.applies = emt_handle_applies,
	.try = emt_handle_try,
};
