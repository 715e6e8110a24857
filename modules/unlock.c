/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unlocking shared by the luks and emt stages: the drivers, the key-source walker and each
 * stage's list of sources (the sources themselves are modules/keysrc_*.c), the PCR 15 latch. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "unlock.h"

/* dm-crypt, the usual cipher mode, and SHA-512 (systemd-cryptenroll's keyslots use
 * PBKDF2-SHA512, computed through AF_ALG): the kernel cannot load them without modprobe. The list
 * is data (modules.d/luks.list, which edgeinit-mkinitrd puts in the initrd); the build turns it
 * into initializers. */
static const struct luks_module {
	const char *name;
	const char *why;
} luks_kernel_modules[] = {
#include "modlist_luks.h"
};

void unlock_load_drivers(struct boot_context *ctx)
{
	for (size_t i = 0; i < ELEMENTSOF(luks_kernel_modules); i++)
		if (devmgr_load_driver(&ctx->dev, luks_kernel_modules[i].name) <= 0)
			log_debug("Module %s (%s) not loaded: built in, loaded already, or not in the initrd.",
				  luks_kernel_modules[i].name, luks_kernel_modules[i].why);
}

bool unlock_walk(struct unlock *u, const struct key_source *const *sources, size_t n)
{
	for (size_t i = 0; i < n && !u->fatal; i++) {
		const struct key_source *s = sources[i];
		bool ok;

		if (s->applies && !s->applies(u))
			continue;
		u->from_tpm_attempt = s->from_tpm;
		ok = s->try(u);
		u->from_tpm_attempt = false;
		if (ok) {
			u->how = s->how;
			u->from_tpm = s->from_tpm;
			return true;
		}
	}
	return false;
}

/* The key sources, one per modules/keysrc_*.c file. A new one is declared here and named in
 * the lists that offer it. */
extern const struct key_source key_source_tpm2_token, key_source_emt_handle, key_source_key_file,
	key_source_prompt;

/* Each stage's list, in the order they are tried: the TPM first, then what a person brings. */
static const struct key_source *const luks_sources[] = {
	&key_source_tpm2_token,
	&key_source_emt_handle,
	&key_source_key_file,
	&key_source_prompt,
};
static const struct key_source *const emt_sources[] = {
	&key_source_emt_handle,
	&key_source_key_file,
	&key_source_prompt,
};

bool unlock_walk_luks(struct unlock *u)
{
	return unlock_walk(u, luks_sources, ELEMENTSOF(luks_sources));
}

bool unlock_walk_emt(struct unlock *u)
{
	return unlock_walk(u, emt_sources, ELEMENTSOF(emt_sources));
}

int unlock_latch_volume_key(struct boot_context *ctx, const char *name, const char *uuid,
			    const uint8_t *volume_key, size_t size)
{
	struct measure_digest d[_HASH_ALG_MAX];
	char desc[256];
	int r;

	r = measure_volume_key_description(name, uuid, desc, sizeof(desc));
	for (size_t i = 0; r >= 0 && i < ctx->tpm.n_banks; i++) {
		d[i].alg = ctx->tpm.banks[i];
		r = measure_volume_key_digest(d[i].alg, volume_key, size, name, uuid, d[i].digest);
	}
	if (r < 0)
		return log_error_errno(r, "Cannot compute the volume key measurement of %s: %m", name);
	if (streq(ctx->opts.debug_hold, "latch"))
		ctx_debug_hold(ctx, "the PCR 15 volume-key latch");
	return ctx_measure(ctx, MEASURE_PCR_SYSTEM_IDENTITY, d, desc, MEASURE_EVENT_VOLUME_KEY);
}
