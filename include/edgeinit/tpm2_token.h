/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "systemd-tpm2" LUKS2 token, as systemd-cryptenroll --tpm2-device= writes it (systemd 252 on
 * Debian 12; later versions add fields). Parsing only: what the token says, checked, and the
 * secrets derived from a PIN and from the unsealed key. Pure: no I/O, no logging, no globals.
 *
 * Fields (systemd's tpm2_make_luks2_json()/tpm2_parse_luks2_json(), src/shared/tpm2-util.c):
 *   type              "systemd-tpm2"
 *   keyslots          ["<n>", ...]: the LUKS2 keyslot(s) the unsealed passphrase opens
 *   tpm2-blob         base64: TPM2B_PRIVATE then TPM2B_PUBLIC of the sealed object
 *   tpm2-pcrs         [0..23, ...]: PCRs of the PolicyPCR (may be empty)
 *   tpm2-pcr-bank     optional, "sha1" | "sha256" | "sha384" | "sha512"; absent: sha256
 *   tpm2-primary-alg  optional, "ecc" | "rsa"; absent (tokens of systemd < 250): see below
 *   tpm2-policy-hash  hex: the policy digest the object was sealed with
 *   tpm2-pin          optional bool: PolicyAuthValue, the object's auth is derived from a PIN
 *   tpm2_salt         optional base64: PIN salt (systemd >= 254)
 *   tpm2_srk          optional base64: Esys_TR_Serialize() of the SRK used as parent (>= 254)
 *   tpm2_pubkey, tpm2_pubkey_pcrs  optional: signed PCR policy (PolicyAuthorize) key and PCRs
 * Refused as unsupported (-EOPNOTSUPP): tpm2-blob or tpm2-policy-hash as arrays (sharded/multiple
 * blobs, systemd >= 256), "tpm2_pcrlock": true or a tpm2_pcrlock_nv field (pcrlock policies), an
 * unknown PCR bank or primary algorithm. Other unknown fields are ignored, as systemd does. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgeinit/hash.h"
#include "edgeinit/tpm2_blob.h"

#define TPM2_PCRS_MAX 24
#define LUKS2_KEYSLOTS_MAX 32
#define TPM2_TOKEN_JSON_MAX (64 * 1024)
#define TPM2_TOKEN_BLOB_MAX (4 + TPM2B_PRIVATE_MAX + TPM2B_PUBLIC_MAX)
#define TPM2_TOKEN_POLICY_HASH_MAX 64
#define TPM2_TOKEN_SALT_MAX 256
#define TPM2_TOKEN_SRK_MAX 1024
#define TPM2_TOKEN_PUBKEY_MAX 8192
#define TPM2_TOKEN_REASON_MAX 256
/* systemd's tpm2_util_pbkdf2_hmac_sha256() (PBKDF2_HMAC_SHA256_ITERATIONS). */
#define TPM2_PIN_PBKDF2_ITERATIONS 10000
/* The key systemd seals: 32 random bytes; the LUKS passphrase is their base64 (44 characters). */
#define TPM2_SECRET_SIZE 32

enum tpm2_primary_alg {
	/* Field absent: systemd (since 250) reads this as ECC, the only algorithm before 250
	 * ("ECC was the only supported algorithm in systemd < 250, use that as implied default"). */
	TPM2_PRIMARY_UNSPECIFIED,
	TPM2_PRIMARY_ECC,
	TPM2_PRIMARY_RSA,
};

struct tpm2_token {
	uint32_t keyslots;        /* bit n: LUKS2 keyslot n */
	uint32_t pcr_mask;        /* bit n: PCR n */
	enum hash_alg pcr_bank;   /* HASH_SHA256 when the field is absent */
	bool pcr_bank_given;
	enum tpm2_primary_alg primary_alg;
	bool pin;
	uint8_t blob[TPM2_TOKEN_BLOB_MAX];
	size_t blob_size;
	struct tpm2_blob parts;   /* offsets into blob */
	uint8_t policy_hash[TPM2_TOKEN_POLICY_HASH_MAX];
	size_t policy_hash_size;
	uint8_t salt[TPM2_TOKEN_SALT_MAX];
	size_t salt_size;         /* 0: no tpm2_salt */
	uint8_t srk[TPM2_TOKEN_SRK_MAX];
	size_t srk_size;          /* 0: no tpm2_srk; primary from the legacy template instead */
	uint32_t srk_handle;      /* the TPM handle at the start of the serialized ESYS_TR */
	uint8_t pubkey[TPM2_TOKEN_PUBKEY_MAX];
	size_t pubkey_size;       /* 0: no signed policy; else the PEM public key as stored */
	uint32_t pubkey_pcr_mask;
};

/* Parse the token JSON text json[0..len). Returns 0 with *t filled; otherwise reason (at least
 * TPM2_TOKEN_REASON_MAX bytes) says why, quoting the field:
 *   -EMEDIUMTYPE  not a systemd-tpm2 token (another type): skip it silently
 *   -EOPNOTSUPP   a systemd-tpm2 token of a shape edgeinit does not unlock (see above)
 *   -EBADMSG      malformed: invalid or hostile JSON, a missing or mistyped field, bad base64/hex,
 *                 a PCR or keyslot out of range, a blob that does not split, or a policy hash
 *                 that differs from the sealed object's authPolicy
 *   -E2BIG        the text or a field is larger than the bounds above */
int tpm2_token_parse(const char *json, size_t len, struct tpm2_token *t, char *reason);

/* The authValue of the sealed object for a PIN, as systemd computes it: with a tpm2_salt, the PIN
 * becomes base64(PBKDF2-HMAC-SHA256(PIN, salt, 10000 iterations, 32 bytes)); the authValue is
 * SHA-256 of that string (or of the PIN itself without salt). Intermediates are wiped. -EINVAL for
 * an empty PIN. */
int tpm2_token_pin_auth(const struct tpm2_token *t, const char *pin, size_t pin_len,
			uint8_t auth[SHA256_DIGEST_SIZE]);

/* The LUKS passphrase for an unsealed secret: its base64 encoding (systemd's base64mem()).
 * Returns the passphrase length or -E2BIG. */
int tpm2_token_passphrase(const uint8_t *secret, size_t len, char *out, size_t out_size);
