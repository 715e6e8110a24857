/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256 (FIPS 180-4), used to check a verity root hash before the kernel ever sees it. The hash
 * is nettle's (linked into /init for libcryptsetup): struct sha256_ctx, sha256_init() and
 * sha256_update(ctx, length, data) are nettle's own; edgeinit adds the one-shot sha256() and
 * sha256_final(), which also wipes the context. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#include <nettle/sha2.h>

void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_DIGEST_SIZE]);
void sha256(const void *data, size_t len, uint8_t out[SHA256_DIGEST_SIZE]);
