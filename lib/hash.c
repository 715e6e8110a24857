/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-1 (FIPS 180-4 6.1), SHA-384/SHA-512 (6.4, 6.5), HMAC (RFC 2104) and PBKDF2 (RFC 8018) for the
 * PCR banks edgeinit measures into. Speed is irrelevant: a few short strings per boot. */
#include <errno.h>
#include <string.h>

#include "edgeinit/hash.h"

static const struct {
	const char *name;
	uint16_t tpm2;
	size_t digest_size;
	size_t block_size;
} algs[_HASH_ALG_MAX] = {
	[HASH_SHA1] = { "sha1", 0x0004, 20, 64 },
	[HASH_SHA256] = { "sha256", 0x000B, 32, 64 },
	[HASH_SHA384] = { "sha384", 0x000C, 48, 128 },
	[HASH_SHA512] = { "sha512", 0x000D, 64, 128 },
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
	return (unsigned)alg < _HASH_ALG_MAX ? algs[alg].digest_size : 0;
}

size_t hash_block_size(enum hash_alg alg)
{
	return (unsigned)alg < _HASH_ALG_MAX ? algs[alg].block_size : 0;
}

/* Feed len bytes through a block buffer, compressing each full block. */
static void buffered_update(uint8_t *buffer, size_t block, size_t *used, const uint8_t *p, size_t len,
			    void (*compress)(void *ctx, const uint8_t *block), void *ctx)
{
	while (len > 0) {
		size_t n = block - *used < len ? block - *used : len;

		memcpy(buffer + *used, p, n);
		*used += n;
		p += n;
		len -= n;
		if (*used == block) {
			compress(ctx, buffer);
			*used = 0;
		}
	}
}

/* ---- SHA-1 ---- */

static uint32_t rol32(uint32_t x, unsigned n) { return (x << n) | (x >> (32 - n)); }

static void sha1_block(void *ctx, const uint8_t *p)
{
	struct sha1_ctx *c = ctx;
	uint32_t w[80], a, b, cc, d, e, f, k, t;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
	for (int i = 16; i < 80; i++)
		w[i] = rol32(w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16], 1);
	a = c->state[0];
	b = c->state[1];
	cc = c->state[2];
	d = c->state[3];
	e = c->state[4];
	for (int i = 0; i < 80; i++) {
		if (i < 20) {
			f = (b & cc) | (~b & d);
			k = 0x5a827999;
		} else if (i < 40) {
			f = b ^ cc ^ d;
			k = 0x6ed9eba1;
		} else if (i < 60) {
			f = (b & cc) | (b & d) | (cc & d);
			k = 0x8f1bbcdc;
		} else {
			f = b ^ cc ^ d;
			k = 0xca62c1d6;
		}
		t = rol32(a, 5) + f + e + k + w[i];
		e = d;
		d = cc;
		cc = rol32(b, 30);
		b = a;
		a = t;
	}
	c->state[0] += a;
	c->state[1] += b;
	c->state[2] += cc;
	c->state[3] += d;
	c->state[4] += e;
	memset(w, 0, sizeof(w));
}

static void sha1_init(struct sha1_ctx *c)
{
	static const uint32_t iv[5] = { 0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0 };

	memset(c, 0, sizeof(*c));
	memcpy(c->state, iv, sizeof(iv));
}

static void sha1_update(struct sha1_ctx *c, const uint8_t *p, size_t len)
{
	c->length += len;
	buffered_update(c->buffer, sizeof(c->buffer), &c->used, p, len, sha1_block, c);
}

static void sha1_final(struct sha1_ctx *c, uint8_t *out)
{
	uint64_t bits = c->length * 8;
	uint8_t pad = 0x80, zero = 0, len[8];

	sha1_update(c, &pad, 1);
	while (c->used != 56)
		sha1_update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[i] = (uint8_t)(bits >> (56 - 8 * i));
	sha1_update(c, len, 8);
	for (int i = 0; i < 5; i++)
		for (int j = 0; j < 4; j++)
			out[4 * i + j] = (uint8_t)(c->state[i] >> (24 - 8 * j));
}

/* ---- SHA-512 / SHA-384 ---- */

static const uint64_t K512[80] = {
	0x428a2f98d728ae22ULL, 0x7137449123ef65cdULL, 0xb5c0fbcfec4d3b2fULL, 0xe9b5dba58189dbbcULL,
	0x3956c25bf348b538ULL, 0x59f111f1b605d019ULL, 0x923f82a4af194f9bULL, 0xab1c5ed5da6d8118ULL,
	0xd807aa98a3030242ULL, 0x12835b0145706fbeULL, 0x243185be4ee4b28cULL, 0x550c7dc3d5ffb4e2ULL,
	0x72be5d74f27b896fULL, 0x80deb1fe3b1696b1ULL, 0x9bdc06a725c71235ULL, 0xc19bf174cf692694ULL,
	0xe49b69c19ef14ad2ULL, 0xefbe4786384f25e3ULL, 0x0fc19dc68b8cd5b5ULL, 0x240ca1cc77ac9c65ULL,
	0x2de92c6f592b0275ULL, 0x4a7484aa6ea6e483ULL, 0x5cb0a9dcbd41fbd4ULL, 0x76f988da831153b5ULL,
	0x983e5152ee66dfabULL, 0xa831c66d2db43210ULL, 0xb00327c898fb213fULL, 0xbf597fc7beef0ee4ULL,
	0xc6e00bf33da88fc2ULL, 0xd5a79147930aa725ULL, 0x06ca6351e003826fULL, 0x142929670a0e6e70ULL,
	0x27b70a8546d22ffcULL, 0x2e1b21385c26c926ULL, 0x4d2c6dfc5ac42aedULL, 0x53380d139d95b3dfULL,
	0x650a73548baf63deULL, 0x766a0abb3c77b2a8ULL, 0x81c2c92e47edaee6ULL, 0x92722c851482353bULL,
	0xa2bfe8a14cf10364ULL, 0xa81a664bbc423001ULL, 0xc24b8b70d0f89791ULL, 0xc76c51a30654be30ULL,
	0xd192e819d6ef5218ULL, 0xd69906245565a910ULL, 0xf40e35855771202aULL, 0x106aa07032bbd1b8ULL,
	0x19a4c116b8d2d0c8ULL, 0x1e376c085141ab53ULL, 0x2748774cdf8eeb99ULL, 0x34b0bcb5e19b48a8ULL,
	0x391c0cb3c5c95a63ULL, 0x4ed8aa4ae3418acbULL, 0x5b9cca4f7763e373ULL, 0x682e6ff3d6b2b8a3ULL,
	0x748f82ee5defb2fcULL, 0x78a5636f43172f60ULL, 0x84c87814a1f0ab72ULL, 0x8cc702081a6439ecULL,
	0x90befffa23631e28ULL, 0xa4506cebde82bde9ULL, 0xbef9a3f7b2c67915ULL, 0xc67178f2e372532bULL,
	0xca273eceea26619cULL, 0xd186b8c721c0c207ULL, 0xeada7dd6cde0eb1eULL, 0xf57d4f7fee6ed178ULL,
	0x06f067aa72176fbaULL, 0x0a637dc5a2c898a6ULL, 0x113f9804bef90daeULL, 0x1b710b35131c471bULL,
	0x28db77f523047d84ULL, 0x32caab7b40c72493ULL, 0x3c9ebe0a15c9bebcULL, 0x431d67c49c100d4cULL,
	0x4cc5d4becb3e42b6ULL, 0x597f299cfc657e2aULL, 0x5fcb6fab3ad6faecULL, 0x6c44198c4a475817ULL,
};

static uint64_t ror64(uint64_t x, unsigned n) { return (x >> n) | (x << (64 - n)); }

static void sha512_block(void *ctx, const uint8_t *p)
{
	struct sha512_ctx *c = ctx;
	uint64_t w[80], v[8], t1, t2;

	for (int i = 0; i < 16; i++) {
		w[i] = 0;
		for (int j = 0; j < 8; j++)
			w[i] = w[i] << 8 | p[8 * i + j];
	}
	for (int i = 16; i < 80; i++) {
		uint64_t s0 = ror64(w[i - 15], 1) ^ ror64(w[i - 15], 8) ^ (w[i - 15] >> 7);
		uint64_t s1 = ror64(w[i - 2], 19) ^ ror64(w[i - 2], 61) ^ (w[i - 2] >> 6);

		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	memcpy(v, c->state, sizeof(v));
	for (int i = 0; i < 80; i++) {
		t1 = v[7] + (ror64(v[4], 14) ^ ror64(v[4], 18) ^ ror64(v[4], 41)) +
		     ((v[4] & v[5]) ^ (~v[4] & v[6])) + K512[i] + w[i];
		t2 = (ror64(v[0], 28) ^ ror64(v[0], 34) ^ ror64(v[0], 39)) +
		     ((v[0] & v[1]) ^ (v[0] & v[2]) ^ (v[1] & v[2]));
		memmove(v + 1, v, 7 * sizeof(v[0]));
		v[4] += t1;
		v[0] = t1 + t2;
	}
	for (int i = 0; i < 8; i++)
		c->state[i] += v[i];
	memset(w, 0, sizeof(w));
	memset(v, 0, sizeof(v));
}

static void sha512_init(struct sha512_ctx *c, bool sha384)
{
	static const uint64_t iv512[8] = {
		0x6a09e667f3bcc908ULL, 0xbb67ae8584caa73bULL, 0x3c6ef372fe94f82bULL,
		0xa54ff53a5f1d36f1ULL, 0x510e527fade682d1ULL, 0x9b05688c2b3e6c1fULL,
		0x1f83d9abfb41bd6bULL, 0x5be0cd19137e2179ULL,
	};
	static const uint64_t iv384[8] = {
		0xcbbb9d5dc1059ed8ULL, 0x629a292a367cd507ULL, 0x9159015a3070dd17ULL,
		0x152fecd8f70e5939ULL, 0x67332667ffc00b31ULL, 0x8eb44a8768581511ULL,
		0xdb0c2e0d64f98fa7ULL, 0x47b5481dbefa4fa4ULL,
	};

	memset(c, 0, sizeof(*c));
	memcpy(c->state, sha384 ? iv384 : iv512, sizeof(c->state));
}

static void sha512_update(struct sha512_ctx *c, const uint8_t *p, size_t len)
{
	c->length += len;
	buffered_update(c->buffer, sizeof(c->buffer), &c->used, p, len, sha512_block, c);
}

static void sha512_final(struct sha512_ctx *c, uint8_t *out, size_t out_len)
{
	uint64_t bits = c->length * 8;
	uint8_t pad = 0x80, zero = 0, len[16] = { 0 };

	sha512_update(c, &pad, 1);
	while (c->used != 112)
		sha512_update(c, &zero, 1);
	for (int i = 0; i < 8; i++)
		len[8 + i] = (uint8_t)(bits >> (56 - 8 * i));
	sha512_update(c, len, 16);
	for (size_t i = 0; i < out_len; i++)
		out[i] = (uint8_t)(c->state[i / 8] >> (56 - 8 * (i % 8)));
}

/* ---- dispatch ---- */

void hash_init(struct hash_ctx *c, enum hash_alg alg)
{
	c->alg = alg;
	switch (alg) {
	case HASH_SHA1:
		sha1_init(&c->u.sha1);
		break;
	case HASH_SHA256:
		sha256_init(&c->u.sha256);
		break;
	case HASH_SHA384:
	case HASH_SHA512:
		sha512_init(&c->u.sha512, alg == HASH_SHA384);
		break;
	case _HASH_ALG_MAX:
		break;
	}
}

void hash_update(struct hash_ctx *c, const void *data, size_t len)
{
	switch (c->alg) {
	case HASH_SHA1:
		sha1_update(&c->u.sha1, data, len);
		break;
	case HASH_SHA256:
		sha256_update(&c->u.sha256, data, len);
		break;
	case HASH_SHA384:
	case HASH_SHA512:
		sha512_update(&c->u.sha512, data, len);
		break;
	case _HASH_ALG_MAX:
		break;
	}
}

void hash_final(struct hash_ctx *c, uint8_t *out)
{
	switch (c->alg) {
	case HASH_SHA1:
		sha1_final(&c->u.sha1, out);
		break;
	case HASH_SHA256:
		sha256_final(&c->u.sha256, out);
		break;
	case HASH_SHA384:
	case HASH_SHA512:
		sha512_final(&c->u.sha512, out, hash_digest_size(c->alg));
		break;
	case _HASH_ALG_MAX:
		break;
	}
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
	uint8_t k[HASH_MAX_BLOCK_SIZE] = { 0 }, pad[HASH_MAX_BLOCK_SIZE], inner[HASH_MAX_DIGEST_SIZE];
	size_t block = hash_block_size(alg), digest = hash_digest_size(alg);
	struct hash_ctx c;

	if (key_len > block)
		hash_buffer(alg, key, key_len, k);
	else if (key_len > 0)
		memcpy(k, key, key_len);

	for (size_t i = 0; i < block; i++)
		pad[i] = k[i] ^ 0x36;
	hash_init(&c, alg);
	hash_update(&c, pad, block);
	hash_update(&c, data, len);
	hash_final(&c, inner);

	for (size_t i = 0; i < block; i++)
		pad[i] = k[i] ^ 0x5c;
	hash_init(&c, alg);
	hash_update(&c, pad, block);
	hash_update(&c, inner, digest);
	hash_final(&c, out);

	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	explicit_bzero(inner, sizeof(inner));
}

int pbkdf2_hmac_sha256(const void *pass, size_t pass_len, const void *salt, size_t salt_len,
		       unsigned iterations, uint8_t *out, size_t out_len)
{
	static const uint8_t block_index[4] = { 0, 0, 0, 1 };
	uint8_t u[SHA256_DIGEST_SIZE], t[SHA256_DIGEST_SIZE], k[64] = { 0 }, pad[64];
	struct hash_ctx c;

	if (iterations == 0 || out_len == 0 || out_len > SHA256_DIGEST_SIZE)
		return -EINVAL;

	/* U1 = HMAC(P, S || INT(1)): the salt is streamed, so it needs no copy. */
	if (pass_len > sizeof(k))
		sha256(pass, pass_len, k);
	else if (pass_len > 0)
		memcpy(k, pass, pass_len);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x36;
	hash_init(&c, HASH_SHA256);
	hash_update(&c, pad, sizeof(pad));
	hash_update(&c, salt, salt_len);
	hash_update(&c, block_index, sizeof(block_index));
	hash_final(&c, u);
	for (size_t i = 0; i < sizeof(pad); i++)
		pad[i] = k[i] ^ 0x5c;
	hash_init(&c, HASH_SHA256);
	hash_update(&c, pad, sizeof(pad));
	hash_update(&c, u, sizeof(u));
	hash_final(&c, u);
	memcpy(t, u, sizeof(t));

	for (unsigned n = 1; n < iterations; n++) {
		hmac(HASH_SHA256, pass, pass_len, u, sizeof(u), u);
		for (size_t i = 0; i < sizeof(t); i++)
			t[i] ^= u[i];
	}
	memcpy(out, t, out_len);
	explicit_bzero(u, sizeof(u));
	explicit_bzero(t, sizeof(t));
	explicit_bzero(k, sizeof(k));
	explicit_bzero(pad, sizeof(pad));
	return 0;
}
