/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TPM unseal's decisions: response codes as -errno, the PolicyPCR selection, the sealed
 * object from a real systemd token and from hostile edits of it, the public-area check, the
 * policy digest compare before Unseal, the PCR_CHANGED retry bound, the usable PCR banks. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

#include "edgeinit/measure.h"
#include "edgeinit/tpm2_decide.h"
#include "edgeinit/tpm2_token.h"
#include "suites.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- response codes ---- */

static const struct {
	TSS2_RC rc;
	int error;
} rcs[] = {
	{ TPM2_RC_LOCKOUT, -EACCES },
	{ TPM2_RC_AUTH_FAIL, -EACCES },
	/* format one: the session the code concerns is cut off */
	{ TPM2_RC_AUTH_FAIL | TPM2_RC_S | TPM2_RC_1, -EACCES },
	{ TPM2_RC_BAD_AUTH | TPM2_RC_S | TPM2_RC_2, -EACCES },
	{ TPM2_RC_POLICY_FAIL | TPM2_RC_S | TPM2_RC_1, -EPERM },
	{ TPM2_RC_POLICY_FAIL, -EPERM },
	{ TPM2_RC_PCR_CHANGED, -EAGAIN },
	{ TPM2_RC_HANDLE | TPM2_RC_H | TPM2_RC_1, -ENOENT },
	{ TPM2_RC_HANDLE | TPM2_RC_P | TPM2_RC_2, -ENOENT },
	/* the layer does not change what the TPM said */
	{ TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_LOCKOUT, -EACCES },
	/* everything else is an I/O error, not a refusal */
	{ TPM2_RC_POLICY, -EIO },
	{ TPM2_RC_VALUE | TPM2_RC_P | TPM2_RC_1, -EIO },
	{ TPM2_RC_INITIALIZE, -EIO },
	{ TPM2_RC_RETRY, -EIO },
	{ TPM2_RC_PCR, -EIO },
	{ TSS2_ESYS_RC_BAD_REFERENCE, -EIO },
	{ TSS2_ESYS_RC_MALFORMED_RESPONSE, -EIO },
	{ TSS2_MU_RC_BAD_SIZE, -EIO },
	{ TSS2_MU_RC_INSUFFICIENT_BUFFER, -EIO },
	{ TSS2_TCTI_RC_TRY_AGAIN, -EIO },
};

START_TEST(test_rc_to_errno)
{
	ck_assert_msg(tpm2_rc_to_errno(rcs[_i].rc) == rcs[_i].error, "rc 0x%x: %d, want %d", rcs[_i].rc,
		      tpm2_rc_to_errno(rcs[_i].rc), rcs[_i].error);
}
END_TEST

START_TEST(test_rc_base)
{
	ck_assert_uint_eq(tpm2_rc_base(TPM2_RC_HANDLE | TPM2_RC_H | TPM2_RC_1), TPM2_RC_HANDLE);
	ck_assert_uint_eq(tpm2_rc_base(TPM2_RC_VALUE | TPM2_RC_P | TPM2_RC_F), TPM2_RC_VALUE);
	ck_assert_uint_eq(tpm2_rc_base(TSS2_SYS_RC_LAYER | TPM2_RC_LOCKOUT), TPM2_RC_LOCKOUT);
	/* format zero keeps all twelve bits */
	ck_assert_uint_eq(tpm2_rc_base(TPM2_RC_PCR_CHANGED), TPM2_RC_PCR_CHANGED);
	ck_assert_uint_eq(tpm2_rc_base(TPM2_RC_INITIALIZE), TPM2_RC_INITIALIZE);
}
END_TEST

START_TEST(test_startup)
{
	ck_assert(tpm2_startup_ok(TSS2_RC_SUCCESS));
	ck_assert(tpm2_startup_ok(TPM2_RC_INITIALIZE));
	ck_assert(tpm2_startup_ok(TSS2_RESMGR_TPM_RC_LAYER | TPM2_RC_INITIALIZE));
	ck_assert(!tpm2_startup_ok(TPM2_RC_FAILURE));
	ck_assert(!tpm2_startup_ok(TPM2_RC_VALUE | TPM2_RC_P | TPM2_RC_1));
	ck_assert(!tpm2_startup_ok(TSS2_TCTI_RC_IO_ERROR));
}
END_TEST

/* ---- the PolicyPCR selection ---- */

START_TEST(test_policy_pcrs)
{
	static const struct {
		enum hash_alg bank;
		uint32_t mask;
		uint16_t hash;
		uint8_t select[3];
	} t[] = {
		{ HASH_SHA256, 1u << 7, TPM2_ALG_SHA256, { 0x80, 0, 0 } },
		{ HASH_SHA1, 1u << 0 | 1u << 7, TPM2_ALG_SHA1, { 0x81, 0, 0 } },
		{ HASH_SHA384, 1u << 15, TPM2_ALG_SHA384, { 0, 0x80, 0 } },
		{ HASH_SHA512, 0x8088bf, TPM2_ALG_SHA512, { 0xbf, 0x88, 0x80 } },
	};
	struct tpm2_token *tok = calloc(1, sizeof(*tok));
	TPML_PCR_SELECTION sel;

	ck_assert_ptr_nonnull(tok);
	for (size_t i = 0; i < N(t); i++) {
		tok->pcr_bank = t[i].bank;
		tok->pcr_mask = t[i].mask;
		memset(&sel, 0xaa, sizeof(sel));
		ck_assert_int_eq(tpm2_policy_pcrs(tok, &sel), 0);
		ck_assert_uint_eq(sel.count, 1);
		ck_assert_uint_eq(sel.pcrSelections[0].hash, t[i].hash);
		ck_assert_uint_eq(sel.pcrSelections[0].sizeofSelect, 3);
		ck_assert_mem_eq(sel.pcrSelections[0].pcrSelect, t[i].select, 3);
	}
	/* No PCR: no PolicyPCR at all. */
	tok->pcr_bank = HASH_SHA256;
	tok->pcr_mask = 0;
	ck_assert_int_eq(tpm2_policy_pcrs(tok, &sel), 0);
	ck_assert_uint_eq(sel.count, 0);
	/* Nothing a parsed token can hold, refused rather than truncated. */
	tok->pcr_mask = 1u << 24;
	ck_assert_int_eq(tpm2_policy_pcrs(tok, &sel), -EINVAL);
	tok->pcr_mask = 1u << 7;
	tok->pcr_bank = _HASH_ALG_MAX;
	ck_assert_int_eq(tpm2_policy_pcrs(tok, &sel), -EINVAL);
	free(tok);

	/* EMT's sealed key: sha256, PCR 15 only. */
	ck_assert_int_eq(tpm2_policy_pcrs(NULL, &sel), 0);
	ck_assert_uint_eq(sel.count, 1);
	ck_assert_uint_eq(sel.pcrSelections[0].hash, TPM2_ALG_SHA256);
	ck_assert_uint_eq(sel.pcrSelections[0].sizeofSelect, 3);
	ck_assert_uint_eq(sel.pcrSelections[0].pcrSelect[0], 0);
	ck_assert_uint_eq(sel.pcrSelections[0].pcrSelect[1], 1u << (MEASURE_PCR_SYSTEM_IDENTITY - 8));
	ck_assert_uint_eq(sel.pcrSelections[0].pcrSelect[2], 0);
}
END_TEST

/* ---- the sealed object ---- */

static struct tpm2_token *token_fixture(const char *name)
{
	char path[256], reason[TPM2_TOKEN_REASON_MAX], *json;
	struct tpm2_token *t = malloc(sizeof(*t));
	size_t len;
	FILE *f;

	snprintf(path, sizeof(path), "tests/unit/fixtures/tpm2/%s", name);
	f = fopen(path, "re");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	json = calloc(1, 1 << 16);
	ck_assert_ptr_nonnull(json);
	ck_assert_ptr_nonnull(t);
	len = fread(json, 1, (1 << 16) - 1, f);
	fclose(f);
	ck_assert_int_eq(tpm2_token_parse(json, len, t, reason), 0);
	free(json);
	return t;
}

START_TEST(test_sealed_unmarshal)
{
	struct tpm2_token *t = token_fixture("pcr7.json");
	TPM2B_PRIVATE priv;
	TPM2B_PUBLIC pub;

	ck_assert_int_eq(tpm2_sealed_unmarshal(t, &priv, &pub), 0);
	ck_assert_uint_eq(priv.size, 0x9e);
	ck_assert_mem_eq(priv.buffer, t->blob + 2, 0x9e);
	ck_assert_uint_eq(pub.size, 0x4e);
	ck_assert_uint_eq(pub.publicArea.type, TPM2_ALG_KEYEDHASH);
	ck_assert_uint_eq(pub.publicArea.nameAlg, TPM2_ALG_SHA256);
	ck_assert_uint_eq(pub.publicArea.objectAttributes, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT);
	ck_assert_uint_eq(pub.publicArea.authPolicy.size, t->policy_hash_size);
	ck_assert_mem_eq(pub.publicArea.authPolicy.buffer, t->policy_hash, t->policy_hash_size);
	ck_assert_int_eq(tpm2_sealed_public_check(&pub.publicArea), 0);
	free(t);
}
END_TEST

/* Edits of the real blob that tpm2_blob_split() lets through or that a corrupted token could
 * carry: tpm2-tss must refuse them, and the refusal is -EIO. */
START_TEST(test_sealed_unmarshal_hostile)
{
	struct tpm2_token *t = token_fixture("pcr7.json"), *e = malloc(sizeof(*t));
	size_t pub = t->parts.public_offset;
	TPM2B_PRIVATE priv;
	TPM2B_PUBLIC opub;

	ck_assert_ptr_nonnull(e);
	/* union selectors tpm2-tss does not follow, for which it answers success having read only
	 * the size field: an unknown object type, an RSA type over keyed-hash parameters, the
	 * keyed-hash scheme 0x0020 (after HMAC's hash algorithm) */
	*e = *t;
	e->blob[pub + 2] = 0x00, e->blob[pub + 3] = 0x99;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	*e = *t;
	e->blob[pub + 3] = TPM2_ALG_RSA;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	*e = *t;
	e->blob[pub + 44] = 0x00, e->blob[pub + 45] = 0x05;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	/* the private part with a byte to spare inside its part */
	*e = *t;
	e->blob[1]--;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	/* the public area cut short by one byte: its inner size runs past the part */
	*e = *t;
	e->parts.public_size--;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	/* the private part claims more than there is */
	*e = *t;
	e->parts.private_size = 10;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	/* an authPolicy longer than any digest */
	*e = *t;
	e->blob[pub + 10] = 0x00, e->blob[pub + 11] = 0x41;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	/* parts outside the blob */
	*e = *t;
	e->parts.public_offset = e->blob_size;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	*e = *t;
	e->parts.public_offset = SIZE_MAX / 2; /* blob_size - offset wraps around */
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	*e = *t;
	e->parts.private_size = SIZE_MAX;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	*e = *t;
	e->blob_size = sizeof(e->blob) + 1;
	ck_assert_int_eq(tpm2_sealed_unmarshal(e, &priv, &opub), -EIO);
	free(e);
	free(t);
}
END_TEST

static const struct {
	const char *what;
	TPMI_ALG_PUBLIC type;
	TPMA_OBJECT attrs;
	int want;
} publics[] = {
	{ "EMT's object", TPM2_ALG_KEYEDHASH, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT, 0 },
	{ "with userWithAuth and noDA", TPM2_ALG_KEYEDHASH,
	  TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA, 0 },
	{ "without fixedTPM (duplicable)", TPM2_ALG_KEYEDHASH, TPMA_OBJECT_FIXEDPARENT, -EMEDIUMTYPE },
	{ "without fixedParent", TPM2_ALG_KEYEDHASH, TPMA_OBJECT_FIXEDTPM, -EMEDIUMTYPE },
	{ "without either", TPM2_ALG_KEYEDHASH, TPMA_OBJECT_USERWITHAUTH, -EMEDIUMTYPE },
	{ "a storage key", TPM2_ALG_ECC, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT, -EMEDIUMTYPE },
	{ "an RSA key", TPM2_ALG_RSA, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT, -EMEDIUMTYPE },
	{ "a symmetric key", TPM2_ALG_SYMCIPHER, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT, -EMEDIUMTYPE },
};

START_TEST(test_sealed_public_check)
{
	TPMT_PUBLIC p = {
		.type = publics[_i].type,
		.nameAlg = TPM2_ALG_SHA256,
		.objectAttributes = publics[_i].attrs,
	};

	ck_assert_msg(tpm2_sealed_public_check(&p) == publics[_i].want, "%s", publics[_i].what);
}
END_TEST

/* ---- the policy digest, before Unseal ---- */

START_TEST(test_policy_digest_check)
{
	struct tpm2_token *t = token_fixture("pcr7.json");
	TPM2B_DIGEST got = { .size = (uint16_t)t->policy_hash_size };
	uint8_t want[TPM2_TOKEN_POLICY_HASH_MAX];

	ck_assert_uint_eq(t->policy_hash_size, 32);
	memcpy(got.buffer, t->policy_hash, 32);
	memcpy(want, t->policy_hash, 32);
	ck_assert_int_eq(tpm2_policy_digest_check(&got, want, 32), 0);
	/* one byte off, at either end */
	want[31] ^= 0x01;
	ck_assert_int_eq(tpm2_policy_digest_check(&got, want, 32), -EPERM);
	want[31] ^= 0x01;
	want[0] ^= 0x80;
	ck_assert_int_eq(tpm2_policy_digest_check(&got, want, 32), -EPERM);
	want[0] ^= 0x80;
	/* a prefix of the right digest (a sha1-sized want, or a shorter session digest) */
	ck_assert_int_eq(tpm2_policy_digest_check(&got, want, 20), -EPERM);
	got.size = 20;
	ck_assert_int_eq(tpm2_policy_digest_check(&got, want, 32), -EPERM);
	/* an object without authPolicy never matches a policy session's digest */
	got.size = 32;
	ck_assert_int_eq(tpm2_policy_digest_check(&got, want, 0), -EPERM);
	/* a size beyond the buffer, with matching bytes beyond it in memory */
	got.size = sizeof(got.buffer) + 1;
	ck_assert_int_eq(tpm2_policy_digest_check(&got, want, got.size), -EPERM);
	free(t);
}
END_TEST

/* ---- the PCR_CHANGED retry ---- */

START_TEST(test_unseal_next)
{
	ck_assert_int_eq(tpm2_unseal_next(TSS2_RC_SUCCESS, 1), TPM2_UNSEAL_DONE);
	ck_assert_int_eq(tpm2_unseal_next(TSS2_RC_SUCCESS, TPM2_UNSEAL_ATTEMPTS_MAX), TPM2_UNSEAL_DONE);
	ck_assert_int_eq(tpm2_unseal_next(TPM2_RC_PCR_CHANGED, 1), TPM2_UNSEAL_RETRY);
	ck_assert_int_eq(tpm2_unseal_next(TPM2_RC_PCR_CHANGED, TPM2_UNSEAL_ATTEMPTS_MAX - 1), TPM2_UNSEAL_RETRY);
	/* the bound: attempt 30 is the last */
	ck_assert_int_eq(tpm2_unseal_next(TPM2_RC_PCR_CHANGED, TPM2_UNSEAL_ATTEMPTS_MAX), TPM2_UNSEAL_FAIL);
	ck_assert_int_eq(tpm2_unseal_next(TPM2_RC_PCR_CHANGED, TPM2_UNSEAL_ATTEMPTS_MAX + 1), TPM2_UNSEAL_FAIL);
	ck_assert_int_eq(TPM2_UNSEAL_ATTEMPTS_MAX, 30);
	/* refusals are not retried: no second try against the dictionary-attack counter */
	ck_assert_int_eq(tpm2_unseal_next(TPM2_RC_POLICY_FAIL | TPM2_RC_S | TPM2_RC_1, 1), TPM2_UNSEAL_FAIL);
	ck_assert_int_eq(tpm2_unseal_next(TPM2_RC_AUTH_FAIL | TPM2_RC_S | TPM2_RC_1, 1), TPM2_UNSEAL_FAIL);
	ck_assert_int_eq(tpm2_unseal_next(TPM2_RC_LOCKOUT, 1), TPM2_UNSEAL_FAIL);
	ck_assert_int_eq(tpm2_unseal_next(TPM2_RC_RETRY, 1), TPM2_UNSEAL_FAIL);
	ck_assert_int_eq(tpm2_unseal_next(TSS2_ESYS_RC_MALFORMED_RESPONSE, 1), TPM2_UNSEAL_FAIL);
}
END_TEST

/* The loop init/sys_tpm2.c runs, against a TPM that always says PCR_CHANGED: 30 Unseals. */
START_TEST(test_unseal_bound_counts)
{
	unsigned unseals = 0;

	for (unsigned attempt = 1;; attempt++) {
		unseals++;
		if (tpm2_unseal_next(TPM2_RC_PCR_CHANGED, attempt) != TPM2_UNSEAL_RETRY)
			break;
		ck_assert_uint_lt(unseals, 1000);
	}
	ck_assert_uint_eq(unseals, TPM2_UNSEAL_ATTEMPTS_MAX);
}
END_TEST

/* A whole unseal is tried again only after BAD_AUTH (no dictionary-attack accounting) with no PIN,
 * at most TPM2_UNSEAL_SESSION_ATTEMPTS_MAX times in all. */
START_TEST(test_unseal_retry_session)
{
	const TSS2_RC bad_auth_session1 = TPM2_RC_BAD_AUTH | TPM2_RC_S | TPM2_RC_1;
	unsigned unseals = 0;

	ck_assert(tpm2_unseal_retry_session(TPM2_RC_BAD_AUTH, false, 1));
	ck_assert(tpm2_unseal_retry_session(bad_auth_session1, false, 1));
	ck_assert(!tpm2_unseal_retry_session(bad_auth_session1, true, 1));  /* a wrong PIN */
	ck_assert(!tpm2_unseal_retry_session(TPM2_RC_AUTH_FAIL | TPM2_RC_S | TPM2_RC_1, false, 1));
	ck_assert(!tpm2_unseal_retry_session(TPM2_RC_LOCKOUT, false, 1));
	ck_assert(!tpm2_unseal_retry_session(TPM2_RC_POLICY_FAIL, false, 1));
	ck_assert(!tpm2_unseal_retry_session(TSS2_RC_SUCCESS, false, 1));
	ck_assert(tpm2_unseal_retry_session(TSS2_ESYS_RC_RSP_AUTH_FAILED, false, 2));
	ck_assert(!tpm2_unseal_retry_session(TSS2_ESYS_RC_RSP_AUTH_FAILED, true, 1));
	/* ESAPI's own code whose low bits look like BAD_AUTH is not the TPM's. */
	ck_assert(!tpm2_unseal_retry_session(TSS2_ESAPI_RC_LAYER | TPM2_RC_BAD_AUTH, false, 1));
	for (unsigned attempt = 1;; attempt++) {
		unseals++;
		if (!tpm2_unseal_retry_session(bad_auth_session1, false, attempt))
			break;
		ck_assert_uint_lt(unseals, 1000);
	}
	ck_assert_uint_eq(unseals, TPM2_UNSEAL_SESSION_ATTEMPTS_MAX);
}
END_TEST

/* ---- PCR banks ---- */

START_TEST(test_banks_usable)
{
	TPML_PCR_SELECTION a = {
		.count = 5,
		.pcrSelections = {
			{ .hash = TPM2_ALG_SHA1, .sizeofSelect = 3, .pcrSelect = { 0xff, 0xff, 0xfe } },
			{ .hash = TPM2_ALG_SHA256, .sizeofSelect = 3, .pcrSelect = { 0xff, 0xff, 0xff } },
			{ .hash = TPM2_ALG_SHA384, .sizeofSelect = 2, .pcrSelect = { 0xff, 0xff, 0xff } },
			{ .hash = TPM2_ALG_SM3_256, .sizeofSelect = 3, .pcrSelect = { 0xff, 0xff, 0xff } },
			{ .hash = TPM2_ALG_SHA512, .sizeofSelect = 4, .pcrSelect = { 0xff, 0xff, 0xff, 0 } },
		},
	};
	enum hash_alg banks[TPM2_NUM_PCR_BANKS];

	ck_assert_int_eq(tpm2_banks_usable(&a, banks, N(banks)), 2);
	ck_assert_int_eq(banks[0], HASH_SHA256);
	ck_assert_int_eq(banks[1], HASH_SHA512);
	ck_assert_int_eq(tpm2_banks_usable(&a, banks, 1), 1);
	ck_assert_int_eq(banks[0], HASH_SHA256);
	a.pcrSelections[0].pcrSelect[2] = 0xff;
	ck_assert_int_eq(tpm2_banks_usable(&a, banks, N(banks)), 3);
	ck_assert_int_eq(banks[0], HASH_SHA1);
	a.count = 0;
	ck_assert_int_eq(tpm2_banks_usable(&a, banks, N(banks)), 0);
	/* a count beyond the array is not followed */
	a.count = 1000;
	ck_assert_int_eq(tpm2_banks_usable(&a, banks, N(banks)), 3);
}
END_TEST

Suite *tpm2_decide_suite(void)
{
	Suite *s = suite_create("tpm2_decide");
	TCase *rc = tcase_create("rc"), *obj = tcase_create("object"), *pol = tcase_create("policy"),
	      *banks = tcase_create("banks");

	tcase_add_loop_test(rc, test_rc_to_errno, 0, N(rcs));
	tcase_add_test(rc, test_rc_base);
	tcase_add_test(rc, test_startup);
	suite_add_tcase(s, rc);
	tcase_add_test(obj, test_sealed_unmarshal);
	tcase_add_test(obj, test_sealed_unmarshal_hostile);
	tcase_add_loop_test(obj, test_sealed_public_check, 0, N(publics));
	suite_add_tcase(s, obj);
	tcase_add_test(pol, test_policy_pcrs);
	tcase_add_test(pol, test_policy_digest_check);
	tcase_add_test(pol, test_unseal_next);
	tcase_add_test(pol, test_unseal_bound_counts);
	tcase_add_test(pol, test_unseal_retry_session);
	suite_add_tcase(s, pol);
	tcase_add_test(banks, test_banks_usable);
	suite_add_tcase(s, banks);
	return s;
}
