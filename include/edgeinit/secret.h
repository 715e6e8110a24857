/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* A buffer for secrets (unsealed keys, passphrases, volume keys): locked in memory so it never
 * reaches swap, excluded from core dumps, and wiped with explicit_bzero when freed. */
#pragma once

#include <stddef.h>
#include <stdint.h>

struct secret {
	uint8_t *data;
	size_t size;
};

/* 0 or -errno. The memory is zeroed. */
int secret_alloc(struct secret *s, size_t size);
/* Wipe and release; safe on a zeroed or already freed struct. */
void secret_free(struct secret *s);

/* Every buffer secret_alloc() handed out and secret_free() did not yet release is registered, so
 * that PID 1's crash handler can wipe them all before it reboots. Async-signal-safe: lock-free,
 * touches nothing but the registered ranges. Returns how many buffers it wiped. The owners still
 * free them as usual. */
size_t secret_wipe_all(void);

/* How many live buffers hold a byte that is not zero (tests: "no key is left"). */
size_t secret_count_nonzero(void);
