/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Between the files of EMT's profile: the layout the emt stage found (emt.c) and the key pool
 * that opens its volumes (emt_keys.c, which also holds the emt-late stage). */
#pragma once

#include "edgeinit/emt.h"
#include "edgeinit/stage.h"

/* What the emt stage read from the OS disk. */
struct emt_layout {
	struct boot_context *ctx;
	enum emt_mode mode;
	char slot;                                  /* 'a' or 'b' */
	struct blockdev *role[_EMT_ROLE_MAX];
};

static inline enum emt_role slot_data_role(char slot) { return slot == 'a' ? EMT_ROOTFS_A : EMT_ROOTFS_B; }
static inline enum emt_role slot_hash_role(char slot) { return slot == 'a' ? EMT_HASHMAP_A : EMT_HASHMAP_B; }

/* FDE: plan every LUKS2 volume EMT's script opens, unseal or ask for the key once, open the
 * volumes the slot needs (the keyslots' PBKDFs in parallel), and start deriving the others in
 * the background for emt-late. 0 or -errno (logged, remedy set). */
int emt_keys_open(const struct emt_layout *l);

/* Forget an earlier run (stage tests run many in one process): discards it, then waits for an
 * abandoned background derivation to end (bounded by the PBKDF bounds). */
void emt_keys_reset(void);

/* The fatal path, for the emt and emt-late stages: never waits. Keys are wiped now; a background
 * derivation still running is abandoned (its buffer stays allocated, wiped, until the reboot). */
void emt_keys_discard(struct boot_context *ctx);
