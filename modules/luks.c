/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage luks.
 * Reads: ctx->persist_node, ctx->opts (rd.luks.*, edgeinit.tpm2.emt-handle=), ctx->tpm_present.
 * Writes: ctx->persist_node = /dev/mapper/edge_persistent when the partition is LUKS2 (EMT's tools
 *   expect that name), ctx->unlocked_with_tpm, report device "persist-luks".
 * How: key sources in order, each until one opens the volume:
 *   1. systemd-tpm2 tokens in the LUKS2 header (systemd-cryptenroll --tpm2-device=), every one;
 *   2. EMT's sealed key at edgeinit.tpm2.emt-handle= (passphrase of keyslot 0);
 *   3. rd.luks.key=, a key file in the initrd;
 *   4. the recovery passphrase on the console, rd.luks.tries= times (never with headless).
 *   Then the volume key is latched into PCR 15 (systemd's tpm2-measure-pcr=), so that nothing
 *   sealed to this boot's PCR 15 can be unsealed after switch_root.
 *   Secrets live in one locked buffer that is wiped on every path; none is logged.
 * Fails: when no source opens the volume (after the tries), or when the latch fails after a key
 *   sealed to PCR 15 was used. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/secret.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "edgeinit/tpm2_token.h"

#define PERSIST_MAPPER_NAME "edge_persistent"

static const char *const luks_kernel_modules[] = { "dm_crypt", "crypto-xts", "crypto-sha512" };
#define LUKS_TOKENS_MAX 32
#define PASSPHRASE_MAX 1024
#define UNSEALED_MAX 128

/* The layout of the one locked buffer. */
struct keys {
	char passphrase[PASSPHRASE_MAX];
	uint8_t unsealed[UNSEALED_MAX];
	uint8_t pin_auth[SHA256_DIGEST_SIZE];
	char pin[256];
	uint8_t volume_key[LUKS_VOLUME_KEY_MAX];
	size_t volume_key_size;
};

struct unlock {
	struct boot_context *ctx;
	const char *node;
	char uuid[37];
	struct keys *k;
	const char *how;        /* which source opened it, for the log */
	bool from_tpm;          /* the key was unsealed from the TPM */
	bool pcr15_policy;      /* the key that opened it was sealed to PCR 15 */
};

static int activate(struct unlock *u, int keyslot, const char *pass, size_t len)
{
	u->k->volume_key_size = sizeof(u->k->volume_key);
	return u->ctx->sys->luks_activate(u->node, PERSIST_MAPPER_NAME, keyslot, pass, len,
					  u->k->volume_key, &u->k->volume_key_size);
}

/* Ask for a token's PIN on the console (not with headless). */
static int ask_pin(struct unlock *u, int token, const struct tpm2_token *t)
{
	char prompt[256];
	int n;

	if (u->ctx->opts.luks_headless)
		return -ENOKEY;
	snprintf(prompt, sizeof(prompt), "Please enter the TPM2 PIN for %s (token %d): ", PERSIST_MAPPER_NAME, token);
	n = u->ctx->sys->ask_password(prompt, u->k->pin, sizeof(u->k->pin), u->ctx->opts.luks_timeout_sec);
	if (n <= 0)
		return n < 0 ? n : -ENOKEY;
	return tpm2_token_pin_auth(t, u->k->pin, (size_t)n, u->k->pin_auth);
}

static bool try_tokens(struct unlock *u)
{
	struct boot_context *ctx = u->ctx;
	_cleanup_free_ char *json = malloc(TPM2_TOKEN_JSON_MAX + 1);
	_cleanup_free_ struct tpm2_token *t = malloc(sizeof(*t));
	char reason[TPM2_TOKEN_REASON_MAX];
	unsigned found = 0;

	if (!json || !t)
		return false;
	for (int token = 0; token < LUKS_TOKENS_MAX; token++) {
		struct tpm2_unseal_request req = { .token = t };
		int n = ctx->sys->luks_token_json(u->node, token, json, TPM2_TOKEN_JSON_MAX + 1);

		if (n < 0) {
			if (n != -ENOENT)
				log_warning_errno(n, "Cannot read LUKS token %d of %s: %m", token, u->node);
			continue;
		}
		n = tpm2_token_parse(json, (size_t)n, t, reason);
		if (n == -EMEDIUMTYPE) {
			log_debug("LUKS token %d of %s is not a systemd-tpm2 token.", token, u->node);
			continue;
		}
		found++;
		if (n == 0 && t->pubkey_size > 0) {
			log_warning("LUKS token %d of %s uses a signed PCR policy (tpm2_pubkey), which edgeinit does not support yet, skipping it.",
				    token, u->node);
			continue;
		}
		if (n < 0) {
			log_warning("LUKS token %d of %s cannot be used: %s.", token, u->node, reason);
			continue;
		}
		if (t->pin) {
			int r = ask_pin(u, token, t);

			if (r < 0) {
				log_warning("LUKS token %d needs a PIN (%s), skipping it.", token,
					    ctx->opts.luks_headless ? "headless" : strerror(-r));
				continue;
			}
			req.pin_auth = u->k->pin_auth;
			req.pin_auth_size = sizeof(u->k->pin_auth);
		}
		n = ctx->sys->tpm2_unseal(&req, u->k->unsealed, sizeof(u->k->unsealed));
		explicit_bzero(u->k->pin_auth, sizeof(u->k->pin_auth));
		if (n < 0) {
			log_warning("TPM refused LUKS token %d: %s.", token,
				    n == -EPERM ? "the PCR policy does not match this boot (refused before Unseal)"
				    : n == -EACCES ? "dictionary-attack lockout or wrong PIN"
						   : strerror(-n));
			continue;
		}
		int len = tpm2_token_passphrase(u->k->unsealed, (size_t)n, u->k->passphrase,
						sizeof(u->k->passphrase));
		explicit_bzero(u->k->unsealed, sizeof(u->k->unsealed));
		for (int slot = 0; len > 0 && slot < 32; slot++) {
			if (!(t->keyslots & (1u << slot)))
				continue;
			if (activate(u, slot, u->k->passphrase, (size_t)len) >= 0) {
				u->how = "a systemd-tpm2 token";
				u->from_tpm = true;
				u->pcr15_policy = t->pcr_mask & (1u << MEASURE_PCR_SYSTEM_IDENTITY);
				return true;
			}
		}
		log_warning("The key unsealed from LUKS token %d does not open its keyslots.", token);
	}
	if (found == 0)
		log_info("%s has no systemd-tpm2 token.", u->node);
	return false;
}

static bool try_emt_handle(struct unlock *u)
{
	struct boot_context *ctx = u->ctx;
	struct tpm2_unseal_request req = { .emt_handle = ctx->opts.tpm2_emt_handle };
	int n;

	n = ctx->sys->tpm2_unseal(&req, u->k->unsealed, sizeof(u->k->unsealed));
	if (n < 0) {
		log_warning("TPM refused the sealed key at handle 0x%08x: %s.", req.emt_handle,
			    n == -EPERM ? "PCR 15 does not match (another machine, or PCR 15 already extended)"
			    : n == -ENOENT ? "no such object in this TPM"
					   : strerror(-n));
		return false;
	}
	/* EMT seals the passphrase itself (64 hex characters) for keyslot 0. */
	memcpy(u->k->passphrase, u->k->unsealed, (size_t)n);
	explicit_bzero(u->k->unsealed, sizeof(u->k->unsealed));
	if (activate(u, 0, u->k->passphrase, (size_t)n) < 0) {
		log_warning("The key sealed at handle 0x%08x does not open keyslot 0 of %s.", req.emt_handle,
			    u->node);
		return false;
	}
	u->how = "EMT's sealed key";
	u->from_tpm = true;
	u->pcr15_policy = true;
	return true;
}

static bool try_key_file(struct unlock *u)
{
	char path[512];
	int n;

	ctx_path(u->ctx, u->ctx->opts.luks_key, path, sizeof(path));
	n = read_small_file(path, u->k->passphrase, sizeof(u->k->passphrase));
	if (n <= 0) {
		log_warning_errno(n < 0 ? n : -ENODATA, "Cannot read the key file rd.luks.key=%s: %m",
				  u->ctx->opts.luks_key);
		return false;
	}
	if (activate(u, -1, u->k->passphrase, (size_t)n) < 0) {
		log_warning("The key file rd.luks.key=%s does not open %s.", u->ctx->opts.luks_key, u->node);
		return false;
	}
	u->how = "the key file";
	return true;
}

static bool try_prompt(struct unlock *u)
{
	const struct boot_options *o = &u->ctx->opts;
	char prompt[256];

	snprintf(prompt, sizeof(prompt), "Please enter the recovery passphrase for %s (%s): ",
		 PERSIST_MAPPER_NAME, u->node);
	for (unsigned i = 1; i <= o->luks_tries; i++) {
		int n = u->ctx->sys->ask_password(prompt, u->k->passphrase, sizeof(u->k->passphrase),
						  o->luks_timeout_sec);
		int r;

		if (n < 0) {
			log_error_errno(n, "No passphrase was entered: %m");
			return false;
		}
		r = activate(u, -1, u->k->passphrase, (size_t)n);
		explicit_bzero(u->k->passphrase, sizeof(u->k->passphrase));
		if (r >= 0) {
			u->how = "the recovery passphrase";
			return true;
		}
		log_error("Wrong passphrase for %s (try %u of %u).", PERSIST_MAPPER_NAME, i, o->luks_tries);
	}
	return false;
}

/* PCR 15: HMAC(volume key, "cryptsetup:<name>:<uuid>") in every bank. */
static int latch_volume_key(struct unlock *u)
{
	struct boot_context *ctx = u->ctx;
	struct measure_digest d[_HASH_ALG_MAX];
	char desc[256];
	int r;

	r = measure_volume_key_description(PERSIST_MAPPER_NAME, u->uuid, desc, sizeof(desc));
	for (size_t i = 0; r >= 0 && i < ctx->n_tpm_banks; i++) {
		d[i].alg = ctx->tpm_banks[i];
		r = measure_volume_key_digest(d[i].alg, u->k->volume_key, u->k->volume_key_size,
					      PERSIST_MAPPER_NAME, u->uuid, d[i].digest);
	}
	if (r < 0)
		return log_error_errno(r, "Cannot compute the volume key measurement: %m");
	return ctx_measure(ctx, MEASURE_PCR_SYSTEM_IDENTITY, d, desc, MEASURE_EVENT_VOLUME_KEY);
}

static int luks_run(struct boot_context *ctx)
{
	const struct boot_options *o = &ctx->opts;
	struct unlock u = { .ctx = ctx, .node = ctx->persist_node };
	struct secret buf = { 0 };
	bool ok = false;
	int r;

	r = ctx->sys->luks_uuid(u.node, u.uuid);
	if (r == -EMEDIUMTYPE) {
		log_debug("%s is not LUKS2; nothing to unlock.", u.node);
		return 0;
	}
	if (r < 0)
		return log_error_errno(r, "Cannot read the LUKS2 header of %s: %m", u.node);
	if (!boot_options_luks_allowed(o, u.uuid)) {
		ctx_set_remedy(ctx, "Add rd.luks.uuid=%s to the command line, or remove the rd.luks.uuid= list.", u.uuid);
		return log_error_errno(-EPERM, "The persistent partition %s is LUKS2 (UUID %s), which rd.luks.uuid= does not list.",
				       u.node, u.uuid);
	}
	/* dm-crypt, the usual cipher mode, and SHA-512 (systemd-cryptenroll's keyslots use
	 * PBKDF2-SHA512, computed through AF_ALG): the kernel cannot load them without modprobe. */
	for (size_t i = 0; i < ELEMENTSOF(luks_kernel_modules); i++)
		(void)ctx_load_driver(ctx, luks_kernel_modules[i]);

	r = secret_alloc(&buf, sizeof(struct keys));
	if (r < 0 || !buf.data)
		return log_error_errno(r < 0 ? r : -ENOMEM, "Cannot allocate locked memory for keys: %m");
	struct keys *k = (struct keys *)buf.data;
	u.k = k;

	if (ctx->tpm_present)
		ok = try_tokens(&u) || (o->tpm2_emt_handle && try_emt_handle(&u));
	if (!ok && o->luks_key[0])
		ok = try_key_file(&u);
	if (!ok && !o->luks_headless)
		ok = try_prompt(&u);
	explicit_bzero(k->passphrase, sizeof(k->passphrase));
	if (!ok) {
		ctx_set_remedy(ctx,
			       "Type the recovery passphrase on the console at the next boot, or enroll this TPM again (systemd-cryptenroll --tpm2-device=auto).");
		r = log_error_errno(-EKEYREJECTED, "No key opened the persistent partition %s (LUKS UUID %s).",
				    u.node, u.uuid);
		goto out;
	}
	ctx->unlocked_with_tpm = u.from_tpm;
	log_info("Unlocked %s as /dev/mapper/%s with %s.", u.node, PERSIST_MAPPER_NAME, u.how);

	if (ctx->tpm_present && o->luks_measure_pcr) {
		r = latch_volume_key(&u);
		if (r < 0 && u.pcr15_policy) {
			ctx_set_remedy(ctx, "The TPM refused to extend PCR 15; the unsealed key must not stay reachable. Check the TPM.");
			goto out;
		}
	}
	report_add_device(&ctx->report, "persist-luks", u.node, "/dev/mapper/" PERSIST_MAPPER_NAME);
	snprintf(ctx->persist_node, sizeof(ctx->persist_node), "/dev/mapper/%s", PERSIST_MAPPER_NAME);
	r = 0;
out:
	secret_free(&buf);
	return r;
}

const struct stage stage_luks = { .name = "luks", .run = luks_run };
