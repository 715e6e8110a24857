/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: systemd-tpm2 token parsing (JSON, base64, hex, blob split). Oracles: only the
 * documented codes, a reason exactly when refused, and on success a token whose every field is in
 * range: keyslots and PCRs in their masks, the blob split covering the blob exactly, the policy
 * hash equal to the sealed object's authPolicy, sizes within their buffers; parsing is
 * deterministic. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/tpm2_token.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static struct tpm2_token t, t2;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char reason[TPM2_TOKEN_REASON_MAX], reason2[TPM2_TOKEN_REASON_MAX];
	int r;

	if (size > TPM2_TOKEN_JSON_MAX + 16)
		return 0;
	memset(reason, 'R', sizeof(reason));
	r = tpm2_token_parse((const char *)data, size, &t, reason);
	CHECK(r == 0 || r == -EMEDIUMTYPE || r == -EOPNOTSUPP || r == -EBADMSG || r == -E2BIG);
	CHECK(memchr(reason, '\0', sizeof(reason)) != NULL);
	CHECK((r == 0) == (reason[0] == '\0'));

	CHECK(tpm2_token_parse((const char *)data, size, &t2, reason2) == r);
	CHECK(strcmp(reason, reason2) == 0);
	if (r < 0)
		return 0;
	CHECK(memcmp(&t, &t2, sizeof(t)) == 0);

	CHECK(t.keyslots != 0);
	CHECK((t.pcr_mask >> TPM2_PCRS_MAX) == 0 && (t.pubkey_pcr_mask >> TPM2_PCRS_MAX) == 0);
	CHECK(t.pcr_bank < _HASH_ALG_MAX);
	CHECK(t.pcr_bank_given || t.pcr_bank == HASH_SHA256);
	CHECK(t.primary_alg <= TPM2_PRIMARY_RSA);
	CHECK(t.blob_size > 0 && t.blob_size <= sizeof(t.blob));
	CHECK(t.parts.private_offset == 0);
	CHECK(t.parts.public_offset == t.parts.private_size);
	CHECK(t.parts.private_size + t.parts.public_size == t.blob_size);
	CHECK(t.parts.private_size >= 3 && t.parts.private_size <= 2 + TPM2B_PRIVATE_MAX);
	CHECK(t.parts.public_size >= 12 && t.parts.public_size <= 2 + TPM2B_PUBLIC_MAX);
	CHECK(t.parts.type == TPM2_BLOB_TYPE_KEYEDHASH);
	CHECK(t.parts.auth_policy_offset + t.parts.auth_policy_size <= t.blob_size);
	CHECK(t.policy_hash_size > 0 && t.policy_hash_size == t.parts.auth_policy_size);
	CHECK(memcmp(t.policy_hash, t.blob + t.parts.auth_policy_offset, t.policy_hash_size) == 0);
	CHECK(t.salt_size <= sizeof(t.salt) && t.srk_size <= sizeof(t.srk) && t.pubkey_size <= sizeof(t.pubkey));
	CHECK(t.srk_size == 0 ? t.srk_handle == 0 : (t.srk_size >= 4 && t.srk_handle >> 24 == 0x81));
	CHECK(t.pubkey_pcr_mask == 0 || t.pubkey_size > 0);

	/* Unsalted PIN derivation is cheap enough to run every time. */
	if (t.pin && t.salt_size == 0) {
		uint8_t auth[SHA256_DIGEST_SIZE];

		CHECK(tpm2_token_pin_auth(&t, "1234", 4, auth) == 0);
	}
	return 0;
}
