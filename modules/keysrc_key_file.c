/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key source key-file: rd.luks.key=, a key file inside the initrd, tried on any keyslot. It is
 * read from the UKI on the unencrypted ESP, so it protects nothing against a disk attacker: a
 * warning says so, on the console and in the report. The key is wiped after the try. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "unlock.h"

static bool key_file_applies(const struct unlock *u)
{
	return u->ctx->opts.luks_key[0];
}

static bool key_file_try(struct unlock *u)
{
	bool ok;
	int n;

	/* The initrd sits in the UKI on the ESP, which is not encrypted. */
	log_warning("rd.luks.key=%s is a key file inside the initrd, which anyone holding the disk can read from the ESP: it protects nothing against a disk attacker.",
		    u->ctx->opts.luks_key);
	if (!u->ctx->report.warning[0])
		snprintf(u->ctx->report.warning, sizeof(u->ctx->report.warning),
			 "rd.luks.key= keeps the key in the initrd on the unencrypted ESP");
	n = ctx_read_file(u->ctx, u->ctx->opts.luks_key, u->k->passphrase, sizeof(u->k->passphrase));
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
	return true;
}

const struct key_source key_source_key_file = {
	.name = "key-file",
	.how = "the key file",
	.applies = key_file_applies,
	.try = key_file_try,
};
