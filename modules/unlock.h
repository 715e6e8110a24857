/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Unlocking, shared by the luks stage (one volume) and the emt stage (all of EMT's volumes): key
 * sources as a table (one struct key_source per modules/keysrc_*.c file, each stage's list in
 * unlock.c), the walker, and the PCR 15 volume-key latch. A source produces a passphrase and hands
 * it to the caller's try_passphrase, which opens what it can. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeinit/sha256.h"
#include "edgeinit/stage.h"

#define UNLOCK_VOLUMES_MAX 16
#define PASSPHRASE_MAX 1024
#define UNSEALED_MAX 128

/* Everything secret, in one locked buffer (struct secret) wiped on every path. */
struct keys {
	char passphrase[PASSPHRASE_MAX];
	uint8_t unsealed[UNSEALED_MAX];
	uint8_t pin_auth[SHA256_DIGEST_SIZE];
	char pin[256];
	uint8_t volume_key[UNLOCK_VOLUMES_MAX][LUKS_VOLUME_KEY_MAX];
	size_t volume_key_size[UNLOCK_VOLUMES_MAX];
	/* The passphrase that opened the volumes the boot needs, kept for the ones opened later. */
	char kept_passphrase[PASSPHRASE_MAX];
	size_t kept_passphrase_len;
};

struct unlock {
	struct boot_context *ctx;
	const char *name;       /* for messages: "edge_persistent", "EMT's volumes" */
	const char *where;      /* the device: "/dev/vda3", "/dev/vda" */
	struct keys *k;
	/* Try a passphrase on keyslot (-1: any) of what is still locked. true once everything
	 * the boot needs is open. */
	bool (*try_passphrase)(struct unlock *u, int keyslot, const char *pass, size_t len);
	void *userdata;
	const char *how;        /* which source opened it, for the log (set by the walker) */
	/* Set (to -errno, after logging why and setting the remedy) when the boot must stop without
	 * trying another key: a key the TPM released fits nothing (a supplanted header), or an
	 * activation failed half-way. Every source stops once it is set; the stage returns it. */
	int fatal;
	bool from_tpm;          /* the key was unsealed from the TPM (set by the walker) */
	bool from_tpm_attempt;  /* the source being tried now is a TPM one (set by the walker) */
	bool pcr15_policy;      /* the key that opened it was sealed to PCR 15 */
};

/* Load dm-crypt and the usual cipher and PBKDF hashes (no modprobe in the initrd). */
void unlock_load_drivers(struct boot_context *ctx);

/* A key source: where a key may come from. */
struct key_source {
	const char *name;       /* "tpm2-token", "emt-handle", "key-file", "prompt" */
	const char *how;        /* for the log: "Unlocked ... with <how>." */
	bool from_tpm;          /* its key comes out of the TPM: no lockdown after it */
	/* Whether this boot offers it (TPM present, option set, not headless); NULL: always. */
	bool (*applies)(const struct unlock *u);
	/* Offers its key(s) through u->try_passphrase. true once everything the boot needs is open;
	 * false with u->fatal set when the boot must stop (logged, remedy set). Sets u->pcr15_policy
	 * when the key was sealed to PCR 15. */
	bool (*try)(struct unlock *u);
};

/* Walk sources in order: skip those that do not apply, stop at the first that opens everything
 * (u->how, u->from_tpm recorded from it), stop at once when u->fatal is set. true: opened. */
bool unlock_walk(struct unlock *u, const struct key_source *const *sources, size_t n);
/* The luks stage's list: tpm2-token, emt-handle, key-file, prompt. */
bool unlock_walk_luks(struct unlock *u);
/* The emt stage's list: emt-handle, key-file, prompt. */
bool unlock_walk_emt(struct unlock *u);

/* PCR 15: HMAC(volume key, "cryptsetup:<name>:<uuid>") in every bank, as systemd-cryptsetup's
 * tpm2-measure-pcr= does. 0 or -errno (logged). */
int unlock_latch_volume_key(struct boot_context *ctx, const char *name, const char *uuid,
			    const uint8_t *volume_key, size_t size);
