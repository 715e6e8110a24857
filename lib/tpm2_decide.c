/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The decisions of a TPM unseal (see the header); init/sys_tpm2.c issues the commands. The
 * unmarshalling is tpm2-tss's own (libtss2-mu, which /init links for ESAPI anyway): the structures
 * handed to Esys_Load() come from the same code that the fuzzer runs on hostile blobs. */
#include <errno.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "edgeinit/measure.h"
#include "edgeinit/tpm2_decide.h"

TSS2_RC tpm2_rc_base(TSS2_RC rc)
{
	rc &= 0xfff;
	return rc & TPM2_RC_FMT1 ? rc & (TPM2_RC_FMT1 | 0x3f) : rc;
}

static const struct {
	TSS2_RC base;
	int error;
} rc_errno[] = {
	{ TPM2_RC_LOCKOUT, -EACCES },
	{ TPM2_RC_AUTH_FAIL, -EACCES },
	{ TPM2_RC_BAD_AUTH, -EACCES },
	{ TPM2_RC_POLICY_FAIL, -EPERM },
	{ TPM2_RC_PCR_CHANGED, -EAGAIN },
	{ TPM2_RC_HANDLE, -ENOENT },
};

int tpm2_rc_to_errno(TSS2_RC rc)
{
	TSS2_RC base = tpm2_rc_base(rc);

	for (size_t i = 0; i < sizeof(rc_errno) / sizeof(rc_errno[0]); i++)
		if (rc_errno[i].base == base)
			return rc_errno[i].error;
	return -EIO;
}

bool tpm2_startup_ok(TSS2_RC rc)
{
	return rc == TSS2_RC_SUCCESS || tpm2_rc_base(rc) == TPM2_RC_INITIALIZE;
}

int tpm2_policy_pcrs(const struct tpm2_token *t, TPML_PCR_SELECTION *ret)
{
	uint16_t bank = t ? hash_alg_to_tpm2(t->pcr_bank) : TPM2_ALG_SHA256;
	uint32_t mask = t ? t->pcr_mask : 1u << MEASURE_PCR_SYSTEM_IDENTITY;

	if (bank == 0 || mask >> 24)
		return -EINVAL;
	*ret = (TPML_PCR_SELECTION){
		.count = mask ? 1 : 0,
		.pcrSelections[0] = {
			.hash = bank,
			.sizeofSelect = 3,
			.pcrSelect = { mask & 0xff, (mask >> 8) & 0xff, (mask >> 16) & 0xff },
		},
	};
	return 0;
}

int tpm2_sealed_unmarshal(const struct tpm2_token *t, TPM2B_PRIVATE *priv, TPM2B_PUBLIC *pub)
{
	const struct tpm2_blob *p = &t->parts;
	size_t off = 0;

	*priv = (TPM2B_PRIVATE){ 0 };
	*pub = (TPM2B_PUBLIC){ 0 };
	if (t->blob_size > sizeof(t->blob) || p->private_offset > t->blob_size ||
	    p->private_size > t->blob_size - p->private_offset || p->public_offset > t->blob_size ||
	    p->public_size > t->blob_size - p->public_offset)
		return -EIO;
	if (Tss2_MU_TPM2B_PRIVATE_Unmarshal(t->blob + p->private_offset, p->private_size, &off, priv) !=
	    TSS2_RC_SUCCESS || off != p->private_size)
		return -EIO;
	/* Each part is read whole: tpm2-tss (3.2 and 4.1 alike) answers success for a public area
	 * whose union selector (type, scheme) it does not know, having read only the size field
	 * (tpm2-tss issue #1738). */
	off = 0;
	if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(t->blob + p->public_offset, p->public_size, &off, pub) !=
	    TSS2_RC_SUCCESS || off != p->public_size)
		return -EIO;
	return 0;
}

/* A sealed data object: the kind systemd and EMT seal, bound to this TPM and this parent. */
#define SEALED_TYPE TPM2_ALG_KEYEDHASH
#define SEALED_ATTRS_REQUIRED (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT)

int tpm2_sealed_public_check(const TPMT_PUBLIC *pub)
{
	if (pub->type != SEALED_TYPE || (pub->objectAttributes & SEALED_ATTRS_REQUIRED) != SEALED_ATTRS_REQUIRED)
		return -EMEDIUMTYPE;
	return 0;
}

int tpm2_policy_digest_check(const TPM2B_DIGEST *got, const uint8_t *want, size_t want_size)
{
	if (got->size > sizeof(got->buffer) || got->size != want_size)
		return -EPERM;
	if (want_size > 0 && memcmp(got->buffer, want, want_size) != 0)
		return -EPERM;
	return 0;
}

enum tpm2_unseal_next tpm2_unseal_next(TSS2_RC rc, unsigned attempt)
{
	if (rc == TSS2_RC_SUCCESS)
		return TPM2_UNSEAL_DONE;
	if (tpm2_rc_to_errno(rc) == -EAGAIN && attempt < TPM2_UNSEAL_ATTEMPTS_MAX)
		return TPM2_UNSEAL_RETRY;
	return TPM2_UNSEAL_FAIL;
}

bool tpm2_unseal_retry_session(TSS2_RC rc, bool with_pin, unsigned attempt)
{
	bool keys_disagree = rc == TSS2_ESYS_RC_RSP_AUTH_FAILED ||
			     ((rc & TSS2_RC_LAYER_MASK) == TSS2_TPM_RC_LAYER && tpm2_rc_base(rc) == TPM2_RC_BAD_AUTH);

	return !with_pin && keys_disagree && attempt < TPM2_UNSEAL_SESSION_ATTEMPTS_MAX;
}

int tpm2_banks_usable(const TPML_PCR_SELECTION *assigned, enum hash_alg *banks, size_t max)
{
	size_t n = 0;

	for (uint32_t i = 0; i < assigned->count && i < TPM2_NUM_PCR_BANKS && n < max; i++) {
		const TPMS_PCR_SELECTION *s = &assigned->pcrSelections[i];
		enum hash_alg alg;

		if (s->sizeofSelect < 3 || s->pcrSelect[0] != 0xff || s->pcrSelect[1] != 0xff ||
		    s->pcrSelect[2] != 0xff || hash_alg_from_tpm2(s->hash, &alg) < 0)
			continue;
		banks[n++] = alg;
	}
	return (int)n;
}
