/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key sources shared by the luks and emt stages. None of them logs a secret. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "unlock.h"

static const char *const luks_kernel_modules[] = { "dm_crypt", "crypto-xts", "crypto-sha512" };

void unlock_load_drivers(struct boot_context *ctx)
{
	/* dm-crypt, the usual cipher mode, and SHA-512 (systemd-cryptenroll's keyslots use
	 * PBKDF2-SHA512, computed through AF_ALG): the kernel cannot load them without modprobe. */
	for (size_t i = 0; i < ELEMENTSOF(luks_kernel_modules); i++)
		(void)devmgr_load_driver(&ctx->dev, luks_kernel_modules[i]);
}

bool unlock_with_emt_handle(struct unlock *u)
{
	struct boot_context *ctx = u->ctx;
	struct tpm2_unseal_request req = { .emt_handle = ctx->opts.tpm2_emt_handle };
	bool ok;
	int n, r;

	n = ctx->sys->tpm2_unseal(&req, u->k->unsealed, sizeof(u->k->unsealed));
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
	u->from_tpm_attempt = true;
	ok = u->try_passphrase(u, 0, u->k->passphrase, (size_t)n);
	u->from_tpm_attempt = false;
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
	u->how = "EMT's sealed key";
	u->from_tpm = true;
	u->pcr15_policy = true;
	return true;
}

static bool unlock_with_key_file(struct unlock *u)
{
	char path[512];
	bool ok;
	int n;

	/* The initrd sits in the UKI on the ESP, which is not encrypted. */
	log_warning("rd.luks.key=%s is a key file inside the initrd, which anyone holding the disk can read from the ESP: it protects nothing against a disk attacker.",
		    u->ctx->opts.luks_key);
	if (!u->ctx->report.warning[0])
		snprintf(u->ctx->report.warning, sizeof(u->ctx->report.warning),
			 "rd.luks.key= keeps the key in the initrd on the unencrypted ESP");
	ctx_path(u->ctx, u->ctx->opts.luks_key, path, sizeof(path));
	n = read_small_file(path, u->k->passphrase, sizeof(u->k->passphrase));
	if (n <= 0) {
		log_warning_errno(n < 0 ? n : -ENODATA, "Cannot read the key file rd.luks.key=%s: %m",
				  u->ctx->opts.luks_key);
		return false;
	}
	ok = u->try_passphrase(u, -1, u->k->passphrase, (size_t)n);
	explicit_bzero(u->k->passphrase, sizeof(u->k->passphrase));
	if (!ok) {
		log_warning("The key file rd.luks.key=%s does not open %s (%s).", u->ctx->opts.luks_key,
			    u->name, u->where);
		return false;
	}
	u->how = "the key file";
	return true;
}

static bool unlock_with_prompt(struct unlock *u)
{
	const struct boot_options *o = &u->ctx->opts;
	char prompt[256];

	snprintf(prompt, sizeof(prompt), "Please enter the recovery passphrase for %s (%s): ", u->name,
		 u->where);
	for (unsigned i = 1; i <= o->luks_tries; i++) {
		int n = u->ctx->sys->ask_password(prompt, u->k->passphrase, sizeof(u->k->passphrase),
						  o->luks_timeout_sec);
		bool ok;

		if (n < 0) {
			log_error_errno(n, "No passphrase was entered: %m");
			return false;
		}
		ok = u->try_passphrase(u, -1, u->k->passphrase, (size_t)n);
		explicit_bzero(u->k->passphrase, sizeof(u->k->passphrase));
		if (ok) {
			u->how = "the recovery passphrase";
			return true;
		}
		if (u->fatal)
			return false;
		log_error("Wrong passphrase for %s (try %u of %u).", u->name, i, o->luks_tries);
	}
	return false;
}

bool unlock_without_tpm(struct unlock *u)
{
	const struct boot_options *o = &u->ctx->opts;

	if (u->fatal)
		return false;
	return (o->luks_key[0] && unlock_with_key_file(u)) ||
	       (!u->fatal && !o->luks_headless && unlock_with_prompt(u));
}

int unlock_latch_volume_key(struct boot_context *ctx, const char *name, const char *uuid,
			    const uint8_t *volume_key, size_t size)
{
	struct measure_digest d[_HASH_ALG_MAX];
	char desc[256];
	int r;

	r = measure_volume_key_description(name, uuid, desc, sizeof(desc));
	for (size_t i = 0; r >= 0 && i < ctx->n_tpm_banks; i++) {
		d[i].alg = ctx->tpm_banks[i];
		r = measure_volume_key_digest(d[i].alg, volume_key, size, name, uuid, d[i].digest);
	}
	if (r < 0)
		return log_error_errno(r, "Cannot compute the volume key measurement of %s: %m", name);
	if (streq(ctx->opts.debug_hold, "latch"))
		ctx_debug_hold(ctx, "the PCR 15 volume-key latch");
	return ctx_measure(ctx, MEASURE_PCR_SYSTEM_IDENTITY, d, desc, MEASURE_EVENT_VOLUME_KEY);
}
