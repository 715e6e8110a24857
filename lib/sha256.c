/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256 through nettle; see sha256.h. */
#include <string.h>

#include "edgeinit/sha256.h"

void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE])
{
	sha256_digest(c, SHA256_DIGEST_SIZE, out);
	explicit_bzero(c, sizeof(*c)); /* nettle resets the state, but leaves the last block */
}

void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE])
{
	struct sha256_ctx c;

	sha256_init(&c);
	sha256_update(&c, len, data);
	sha256_final(&c, out);
}
