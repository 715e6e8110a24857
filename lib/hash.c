/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The PCR bank algorithms, HMAC and PBKDF2 over nettle's hashes (nettle is in /init for
 * libcryptsetup). What is edgeinit's here: the table of names and TPM2 ids, and wiping. nettle
 * leaves keyed state in its contexts and, in pbkdf2(), on its own stack; both are wiped below. */
#include <errno.h>
#include <string.h>

#include <nettle/hmac.h>
#include <nettle/nettle-meta.h>
#include <nettle/pbkdf2.h>
/* nettle names its PBKDF2-HMAC-SHA256 like edgeinit's wrapper; this file defines edgeinit's. */
#undef pbkdf2_hmac_sha256

#include "edgeinit/hash.h"

static const struct {
	const char *name;
	uint16_t tpm2;
	const struct nettle_hash *nettle;
} algs[_HASH_ALG_MAX] = {
	[HASH_SHA1] = { "sha1", 0x0004, &nettle_sha1 },
	[HASH_SHA256] = { "sha256", 0x000B, &nettle_sha256 },
	[HASH_SHA384] = { "sha384", 0x000C, &nettle_sha384 },
	[HASH_SHA512] = { "sha512", 0x000D, &nettle_sha512 },
};

const char *hash_alg_to_string(enum hash_alg alg)
{
	return (unsigned)alg < _HASH_ALG_MAX ? algs[alg].name : NULL;
}

int hash_alg_from_string(const char *s, enum hash_alg *ret)
{
	for (unsigned i = 0; s && i < _HASH_ALG_MAX; i++)
		if (strcmp(s, algs[i].name) == 0) {
			*ret = (enum hash_alg)i;
			return 0;
		}
	return -EINVAL;
}

uint16_t hash_alg_to_tpm2(enum hash_alg alg)
{
	return (unsigned)alg < _HASH_ALG_MAX ? algs[alg].tpm2 : 0;
}

int hash_alg_from_tpm2(uint16_t id, enum hash_alg *ret)
{
	for (unsigned i = 0; i < _HASH_ALG_MAX; i++)
		if (algs[i].tpm2 == id) {
			*ret = (enum hash_alg)i;
			return 0;
		}
	return -EINVAL;
}

size_t hash_digest_size(enum hash_alg alg)
{
	return (unsigned)alg < _HASH_ALG_MAX ? algs[alg].nettle->digest_size : 0;
}

size_t hash_block_size(enum hash_alg alg)
{
	return (unsigned)alg < _HASH_ALG_MAX ? algs[alg].nettle->block_size : 0;
}

/* nettle's compression functions and pbkdf2() keep key-derived words in their stack frames; this
 * overwrites the stack below the caller's frame, where they were. */
static __attribute__((noinline)) void wipe_stack_below(void)
{
	uint8_t burn[4096];

	explicit_bzero(burn, sizeof(burn));
	__asm__ volatile("" : : "r"(burn) : "memory");
}

void hash_init(struct hash_ctx *c, enum hash_alg alg)
{
	c->alg = alg;
	if ((unsigned)alg < _HASH_ALG_MAX)
		algs[alg].nettle->init(&c->u);
}

void hash_update(struct hash_ctx *c, const void *data, size_t len)
{
	if ((unsigned)c->alg < _HASH_ALG_MAX)
		algs[c->alg].nettle->update(&c->u, len, data);
}

void hash_final(struct hash_ctx *c, uint8_t *out)
{
	if ((unsigned)c->alg < _HASH_ALG_MAX)
		algs[c->alg].nettle->digest(&c->u, algs[c->alg].nettle->digest_size, out);
	explicit_bzero(&c->u, sizeof(c->u));
}

void hash_buffer(enum hash_alg alg, const void *data, size_t len, uint8_t *out)
{
	struct hash_ctx c;

	hash_init(&c, alg);
	hash_update(&c, data, len);
	hash_final(&c, out);
}

void hmac(enum hash_alg alg, const void *key, size_t key_len, const void *data, size_t len,
	  uint8_t *out)
{
	struct hash_ctx outer, inner, state;
	const struct nettle_hash *h;

	if ((unsigned)alg >= _HASH_ALG_MAX)
		return;
	h = algs[alg].nettle;
	hmac_set_key(&outer.u, &inner.u, &state.u, h, key_len, key);
	hmac_update(&state.u, h, len, data);
	hmac_digest(&outer.u, &inner.u, &state.u, h, h->digest_size, out);
	explicit_bzero(&outer, sizeof(outer));
	explicit_bzero(&inner, sizeof(inner));
	explicit_bzero(&state, sizeof(state));
	wipe_stack_below();
}

static void mac_update(void *ctx, size_t len, const uint8_t *data)
{
	hmac_sha256_update(ctx, len, data);
}

static void mac_digest(void *ctx, size_t len, uint8_t *out)
{
	hmac_sha256_digest(ctx, len, out);
}

int pbkdf2_hmac_sha256(const void *pass, size_t pass_len, const void *salt, size_t salt_len,
		       unsigned iterations, uint8_t *out, size_t out_len)
{
	struct hmac_sha256_ctx mac;

	if (iterations == 0 || out_len == 0 || out_len > SHA256_DIGEST_SIZE)
		return -EINVAL;
	hmac_sha256_set_key(&mac, pass_len, pass);
	pbkdf2(&mac, mac_update, mac_digest, SHA256_DIGEST_SIZE, iterations, salt_len, salt, out_len,
	       out);
	explicit_bzero(&mac, sizeof(mac));
	wipe_stack_below();
	return 0;
}
