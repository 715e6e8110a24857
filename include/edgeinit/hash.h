/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The hash algorithms of the TPM2 PCR banks (SHA-1, SHA-256, SHA-384, SHA-512) behind one
 * interface, HMAC (RFC 2104) over each, and PBKDF2-HMAC-SHA256 (RFC 8018) as systemd uses it to
 * salt a TPM2 PIN. Pure: no I/O, no globals. The algorithms are nettle's (linked into /init for
 * libcryptsetup); this is the table of names and TPM2 ids over them, and the wiping of secrets. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <nettle/sha1.h>
#include <nettle/sha2.h>

#include "edgeinit/sha256.h"

#define HASH_MAX_DIGEST_SIZE 64
#define HASH_MAX_BLOCK_SIZE 128

/* Ordered as systemd's tpm2_hash_algorithms[] table. */
enum hash_alg {
	HASH_SHA1,
	HASH_SHA256,
	HASH_SHA384,
	HASH_SHA512,
	_HASH_ALG_MAX,
};

struct hash_ctx {
	enum hash_alg alg;
	union {
		struct sha1_ctx sha1;
		struct sha256_ctx sha256;
		struct sha512_ctx sha512; /* also SHA-384 */
	} u;
};

/* "sha1", "sha256", "sha384", "sha512" (lower case, as systemd writes them). */
const char *hash_alg_to_string(enum hash_alg alg);
/* -EINVAL for anything else. Case-sensitive: systemd writes lower case. */
int hash_alg_from_string(const char *s, enum hash_alg *ret);
/* TPM2_ALG_SHA1 0x0004, SHA256 0x000B, SHA384 0x000C, SHA512 0x000D (TPM 2.0 Part 2, 6.3). */
uint16_t hash_alg_to_tpm2(enum hash_alg alg);
int hash_alg_from_tpm2(uint16_t id, enum hash_alg *ret);
size_t hash_digest_size(enum hash_alg alg);
size_t hash_block_size(enum hash_alg alg);

void hash_init(struct hash_ctx *c, enum hash_alg alg);
void hash_update(struct hash_ctx *c, const void *data, size_t len);
/* Writes hash_digest_size(alg) bytes and wipes the context. */
void hash_final(struct hash_ctx *c, uint8_t *out);
void hash_buffer(enum hash_alg alg, const void *data, size_t len, uint8_t *out);

/* HMAC(key, data) with alg; writes hash_digest_size(alg) bytes. Intermediate state is wiped. */
void hmac(enum hash_alg alg, const void *key, size_t key_len, const void *data, size_t len,
	  uint8_t *out);

/* PBKDF2-HMAC-SHA256 (RFC 8018 section 5.2), out_len bytes. -EINVAL if iterations is 0 or out_len
 * is 0 or more than one block (32 bytes): that is all systemd's TPM2 PIN salting needs. */
int pbkdf2_hmac_sha256(const void *pass, size_t pass_len, const void *salt, size_t salt_len,
		       unsigned iterations, uint8_t *out, size_t out_len);
