/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key source prompt: the recovery passphrase on the console (no echo), rd.luks.tries= times, each
 * waiting timeout= (rd.luks.options=); never with headless (nobody is there to type). Each try is
 * wiped at once; a try that sets u->fatal (an activation failed half-way) ends the prompting. */
#include <stdio.h>
#include <string.h>

#include "edgeinit/log.h"
#include "unlock.h"

static bool prompt_applies(const struct unlock *u)
{
	return !u->ctx->opts.luks_headless;
}

static bool prompt_try(struct unlock *u)
{
	const struct boot_options *o = &u->ctx->opts;
	char prompt[256];

	snprintf(prompt, sizeof(prompt), "Please enter the recovery passphrase for %s (%s): ", u->name,
		 u->where);
	for (unsigned i = 1; i <= o->luks_tries; i++) {
		int n = u->ctx->sys->machine->ask_password(prompt, u->k->passphrase, sizeof(u->k->passphrase),
						  o->luks_timeout_sec);
		bool ok;

		if (n < 0) {
			log_error_errno(n, "No passphrase was entered: %m");
			return false;
		}
		ok = u->try_passphrase(u, -1, u->k->passphrase, (size_t)n);
		explicit_bzero(u->k->passphrase, sizeof(u->k->passphrase));
		if (ok)
			return true;
		if (u->fatal)
			return false;
		log_error("Wrong passphrase for %s (try %u of %u).", u->name, i, o->luks_tries);
	}
	return false;
}

const struct key_source key_source_prompt = {
	.name = "prompt",
	.how = "the recovery passphrase",
	.applies = prompt_applies,
	.try = prompt_try,
};
