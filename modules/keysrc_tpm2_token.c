/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key source tpm2-token: the systemd-tpm2 tokens in the LUKS2 header of u->where
 * (systemd-cryptenroll --tpm2-device=), every one, when there is a TPM. A token's PIN is asked on
 * the console (not with headless); a signed PCR policy (tpm2_pubkey) is skipped. A key the TPM
 * released that opens none of its token's keyslots sets u->fatal: the header is not the one it was
 * sealed for, and asking for a passphrase then is what an attacker wants. Secrets are wiped on
 * every path and never logged. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/log.h"
#include "edgeinit/tpm2_token.h"
#include "unlock.h"

#define LUKS_TOKENS_MAX 32

static bool tpm2_token_applies(const struct unlock *u)
{
	return u->ctx->tpm.present;
}

/* Ask for a token's PIN on the console (not with headless). */
static int ask_pin(struct unlock *u, int token, const struct tpm2_token *t)
{
	char prompt[256];
	int n;

	if (u->ctx->opts.luks_headless)
		return -ENOKEY;
	snprintf(prompt, sizeof(prompt), "Please enter the TPM2 PIN for %s (token %d): ", u->name, token);
	n = u->ctx->sys->machine->ask_password(prompt, u->k->pin, sizeof(u->k->pin), u->ctx->opts.luks_timeout_sec);
	if (n <= 0)
		return n < 0 ? n : -ENOKEY;
	return tpm2_token_pin_auth(t, u->k->pin, (size_t)n, u->k->pin_auth);
}

static bool tpm2_token_try(struct unlock *u)
{
	struct boot_context *ctx = u->ctx;
	const char *node = u->where;
	_cleanup_free_ char *json = malloc(TPM2_TOKEN_JSON_MAX + 1);
	_cleanup_free_ struct tpm2_token *t = malloc(sizeof(*t));
	char reason[TPM2_TOKEN_REASON_MAX];
	unsigned found = 0;

	if (!json || !t)
		return false;
	for (int token = 0; token < LUKS_TOKENS_MAX; token++) {
		struct tpm2_unseal_request req = { .token = t };
		int n = ctx->sys->luks->token_json(node, token, json, TPM2_TOKEN_JSON_MAX + 1);

		if (n < 0) {
			if (n != -ENOENT)
				log_warning_errno(n, "Cannot read LUKS token %d of %s: %m", token, node);
			continue;
		}
		n = tpm2_token_parse(json, (size_t)n, t, reason);
		if (n == -EMEDIUMTYPE) {
			log_debug("LUKS token %d of %s is not a systemd-tpm2 token.", token, node);
			continue;
		}
		found++;
		if (n == 0 && t->pubkey_size > 0) {
			log_warning("LUKS token %d of %s uses a signed PCR policy (tpm2_pubkey), which edgeinit does not support yet, skipping it.",
				    token, node);
			continue;
		}
		if (n < 0) {
			log_warning("LUKS token %d of %s cannot be used: %s.", token, node, reason);
			continue;
		}
		if (t->pin) {
			int r = ask_pin(u, token, t);

			if (r < 0) {
				log_warning("LUKS token %d needs a PIN (%s), skipping it.", token,
					    ctx->opts.luks_headless ? "headless" : strerror(-r));
				continue;
			}
			req.pin_auth = u->k->pin_auth;
			req.pin_auth_size = sizeof(u->k->pin_auth);
		}
		n = ctx->sys->tpm->unseal(&req, u->k->unsealed, sizeof(u->k->unsealed));
		explicit_bzero(u->k->pin_auth, sizeof(u->k->pin_auth));
		if (n < 0) {
			log_warning("TPM refused LUKS token %d: %s.", token,
				    n == -EPERM ? "the PCR policy does not match this boot (refused before Unseal)"
				    : n == -EACCES ? "dictionary-attack lockout or wrong PIN"
						   : strerror(-n));
			continue;
		}
		int len = tpm2_token_passphrase(u->k->unsealed, (size_t)n, u->k->passphrase,
						sizeof(u->k->passphrase));
		explicit_bzero(u->k->unsealed, sizeof(u->k->unsealed));
		for (int slot = 0; len > 0 && slot < 32 && !u->fatal; slot++) {
			if (!(t->keyslots & (1u << slot)))
				continue;
			if (u->try_passphrase(u, slot, u->k->passphrase, (size_t)len)) {
				explicit_bzero(u->k->passphrase, sizeof(u->k->passphrase));
				u->pcr15_policy = t->pcr_mask & (1u << MEASURE_PCR_SYSTEM_IDENTITY);
				return true;
			}
		}
		explicit_bzero(u->k->passphrase, sizeof(u->k->passphrase));
		if (u->fatal)
			return false;
		/* This TPM sealed it and released it for this boot's PCRs: the header is not the one
		 * it was sealed for. Asking for a passphrase now is what an attacker wants. */
		log_error("The TPM released the key of LUKS token %d, but it opens no keyslot of %s: this LUKS2 header is not the one the key was sealed for.",
			  token, node);
		ctx_set_remedy(ctx, "Treat the disk as tampered with: its LUKS2 header was replaced (no passphrase is asked for). If the volume was re-created on purpose, enroll the TPM again (systemd-cryptenroll --wipe-slot=tpm2 --tpm2-device=auto).");
		u->fatal = -EKEYREJECTED;
		return false;
	}
	if (found == 0)
		log_info("%s has no systemd-tpm2 token.", node);
	return false;
}

const struct key_source key_source_tpm2_token = {
	.name = "tpm2-token",
	.how = "a systemd-tpm2 token",
	.from_tpm = true,
	.applies = tpm2_token_applies,
	.try = tpm2_token_try,
};
