/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the TPM unseal's decisions on hostile bytes. The input is a token's tpm2-blob
 * (from a LUKS2 header: the attacker's); after tpm2_blob_split() accepts it, the sealed object is
 * unmarshalled as /init hands it to Esys_Load(). Oracles: only the documented codes; an accepted
 * object is exactly the bytes on disk (both parts consumed, the public area marshals back to the
 * same bytes) and agrees with edgeinit's own reading of the header (type, nameAlg, attributes,
 * authPolicy); the public-area check holds exactly for keyed-hash with fixedTPM|fixedParent; the
 * authPolicy matches itself and nothing one byte or one length away. The first bytes also drive
 * the response-code mapping, the retry bound and the PolicyPCR selection. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "edgeinit/tpm2_decide.h"
#include "edgeinit/tpm2_token.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static struct tpm2_token t;

/* tpm2-tss logs refusals to stderr; /init silences it the same way (init/sys_tpm2.c). */
int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	setenv("TSS2_LOG", "all+none", 1);
	return 0;
}

static uint32_t be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void decide_codes(const uint8_t *data, size_t size)
{
	TSS2_RC rc;
	unsigned attempt;
	int e;
	enum tpm2_unseal_next next;
	TPML_PCR_SELECTION sel;
	uint32_t mask;
	int r;

	if (size < 10)
		return;
	rc = be32(data);
	attempt = data[4];
	e = tpm2_rc_to_errno(rc);
	CHECK(e == -EACCES || e == -EPERM || e == -EAGAIN || e == -ENOENT || e == -EIO);
	CHECK(tpm2_rc_to_errno(tpm2_rc_base(rc)) == e);
	next = tpm2_unseal_next(rc, attempt);
	CHECK(next == (rc == TSS2_RC_SUCCESS ? TPM2_UNSEAL_DONE
			: e == -EAGAIN && attempt < TPM2_UNSEAL_ATTEMPTS_MAX ? TPM2_UNSEAL_RETRY
									      : TPM2_UNSEAL_FAIL));

	t.pcr_bank = (enum hash_alg)(data[5] % (_HASH_ALG_MAX + 1));
	t.pcr_mask = mask = be32(data + 6);
	r = tpm2_policy_pcrs(&t, &sel);
	CHECK(r == ((mask >> 24) || t.pcr_bank == _HASH_ALG_MAX ? -EINVAL : 0));
	if (r == 0) {
		const uint8_t *s = sel.pcrSelections[0].pcrSelect;

		CHECK(sel.count == (mask != 0));
		CHECK(sel.pcrSelections[0].hash == hash_alg_to_tpm2(t.pcr_bank));
		CHECK(sel.pcrSelections[0].sizeofSelect == 3);
		CHECK(((uint32_t)s[0] | (uint32_t)s[1] << 8 | (uint32_t)s[2] << 16) == mask);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint32_t sealed = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT;
	TPM2B_PRIVATE priv;
	TPM2B_PUBLIC pub;
	TPM2B_DIGEST got;
	uint8_t again[sizeof(TPM2B_PUBLIC) + 2];
	const uint8_t *want;
	size_t off = 0, n;
	int r;

	if (size > sizeof(t.blob))
		return 0;
	memset(&t, 0, sizeof(t));
	decide_codes(data, size);
	memcpy(t.blob, data, size);
	t.blob_size = size;
	if (tpm2_blob_split(t.blob, size, &t.parts) < 0)
		return 0;

	r = tpm2_sealed_unmarshal(&t, &priv, &pub);
	CHECK(r == 0 || r == -EIO);
	if (r < 0)
		return 0;

	/* What Esys_Load() gets is what the disk holds, and what edgeinit read from its header. */
	CHECK(2 + (size_t)priv.size == t.parts.private_size);
	CHECK(memcmp(priv.buffer, t.blob + t.parts.private_offset + 2, priv.size) == 0);
	CHECK(Tss2_MU_TPM2B_PUBLIC_Marshal(&pub, again, sizeof(again), &off) == TSS2_RC_SUCCESS);
	CHECK(off == t.parts.public_size);
	CHECK(memcmp(again, t.blob + t.parts.public_offset, off) == 0);
	CHECK(pub.publicArea.type == t.parts.type);
	CHECK(pub.publicArea.nameAlg == t.parts.name_alg);
	CHECK(pub.publicArea.objectAttributes == t.parts.attributes);
	CHECK(pub.publicArea.authPolicy.size == t.parts.auth_policy_size);
	want = t.blob + t.parts.auth_policy_offset;
	n = t.parts.auth_policy_size;
	CHECK(memcmp(pub.publicArea.authPolicy.buffer, want, n) == 0);

	CHECK((tpm2_sealed_public_check(&pub.publicArea) == 0) ==
	      (t.parts.type == TPM2_BLOB_TYPE_KEYEDHASH && (t.parts.attributes & sealed) == sealed));

	/* The policy compare: the authPolicy against itself, one byte off, one byte short. */
	got = pub.publicArea.authPolicy;
	CHECK(tpm2_policy_digest_check(&got, want, n) == 0);
	if (n > 0) {
		got.buffer[data[0] % n] ^= 1u << (data[1 % size] % 8);
		CHECK(tpm2_policy_digest_check(&got, want, n) == -EPERM);
		got = pub.publicArea.authPolicy;
		CHECK(tpm2_policy_digest_check(&got, want, n - 1) == -EPERM);
		got.size--;
		CHECK(tpm2_policy_digest_check(&got, want, n) == -EPERM);
	}
	return 0;
}
