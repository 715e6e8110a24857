/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Key sources shared by the luks stage (one volume) and the emt stage (all of EMT's volumes):
 * EMT's sealed key, rd.luks.key=, the console prompt, and the PCR 15 volume-key latch. A source
 * produces a passphrase and hands it to the caller's try_passphrase, which opens what it can. */
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
	const char *how;        /* which source opened it, for the log */
	/* Set (to -errno, after logging why and setting the remedy) when the boot must stop without
	 * trying another key: a key the TPM released fits nothing (a supplanted header), or an
	 * activation failed half-way. Every source stops once it is set; the stage returns it. */
	int fatal;
	bool from_tpm;          /* the key was unsealed from the TPM */
	bool pcr15_policy;      /* the key that opened it was sealed to PCR 15 */
};

/* Load dm-crypt and the usual cipher and PBKDF hashes (no modprobe in the initrd). */
void unlock_load_drivers(struct boot_context *ctx);

/* The event extended into PCR 15 as soon as EMT's key is out of the TPM. */
#define EMT_KEY_UNSEALED_EVENT "edgeinit:emt-key-unsealed"

/* EMT's sealed key: unsealed, then PCR 15 is extended at once (the key is PolicyPCR-bound to PCR 15,
 * so the TPM will not release it again in this boot, whatever is parsed next), then tried on
 * keyslot 0. A key that fits nothing sets u->fatal: that header is not the one it was sealed for. */
bool unlock_with_emt_handle(struct unlock *u);
/* After the TPM: rd.luks.key=, then rd.luks.tries= attempts on the console (not headless). The
 * caller locks the TPM down (ctx_tpm_lockdown) when one of them opened the volumes. */
bool unlock_without_tpm(struct unlock *u);

/* PCR 15: HMAC(volume key, "cryptsetup:<name>:<uuid>") in every bank, as systemd-cryptsetup's
 * tpm2-measure-pcr= does. 0 or -errno (logged). */
int unlock_latch_volume_key(struct boot_context *ctx, const char *name, const char *uuid,
			    const uint8_t *volume_key, size_t size);
