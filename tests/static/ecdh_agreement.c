/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The salted sessions of /init's TPM unlock derive their salt from an ECDH secret Z that tpm2-tss's
 * mbedTLS backend computes and the TPM computes again. Z is the x-coordinate written at the curve's
 * field size (32 bytes for P-256), leading zero bytes included, as the TPM writes it; a Z written
 * one byte short (one in 256 secrets) gives a salt the TPM does not share, and that boot's unseal
 * fails. This runs the backend's ECDH against a key played by the test, many times, and checks that
 * both sides agree on every Z, the ones with a leading zero byte among them.
 * Built against the static prefix (build/deps) by tests/static/run.sh. */
#include <stdio.h>
#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/entropy.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tpm2_types.h>

/* tpm2-tss's internal backend function (src/tss2-esys/esys_crypto_mbed.h, not installed). */
TSS2_RC iesys_cryptmbed_get_ecdh_point(TPM2B_PUBLIC *key, size_t max_out_size, TPM2B_ECC_PARAMETER *Z,
				       TPMS_ECC_POINT *Q, BYTE *out_buffer, size_t *out_size, void *userdata);

#define ROUNDS 4000
#define FIELD_BYTES 32

static mbedtls_ctr_drbg_context drbg;

static int rng(void *ctx, unsigned char *buf, size_t len)
{
	return mbedtls_ctr_drbg_random(ctx, buf, len);
}

int main(void)
{
	mbedtls_entropy_context entropy;
	mbedtls_ecp_group grp;
	mbedtls_mpi tpm_d, z;
	mbedtls_ecp_point tpm_q, peer;
	TPM2B_PUBLIC key = { 0 };
	unsigned leading_zero = 0, disagree = 0, short_z = 0;
	int failed = 0;

	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_ecp_group_init(&grp);
	mbedtls_mpi_init(&tpm_d);
	mbedtls_mpi_init(&z);
	mbedtls_ecp_point_init(&tpm_q);
	mbedtls_ecp_point_init(&peer);
	if (mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy, NULL, 0) != 0 ||
	    mbedtls_ecp_group_load(&grp, MBEDTLS_ECP_DP_SECP256R1) != 0 ||
	    mbedtls_ecdh_gen_public(&grp, &tpm_d, &tpm_q, rng, &drbg) != 0) {
		fprintf(stderr, "FAIL ecdh: cannot make the TPM's key pair\n");
		return 1;
	}
	/* The TPM's public key as ESYS gets it from TPM2_ReadPublic. */
	key.publicArea.type = TPM2_ALG_ECC;
	key.publicArea.nameAlg = TPM2_ALG_SHA256;
	key.publicArea.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	key.publicArea.unique.ecc.x.size = FIELD_BYTES;
	key.publicArea.unique.ecc.y.size = FIELD_BYTES;
	if (mbedtls_mpi_write_binary(&tpm_q.X, key.publicArea.unique.ecc.x.buffer, FIELD_BYTES) != 0 ||
	    mbedtls_mpi_write_binary(&tpm_q.Y, key.publicArea.unique.ecc.y.buffer, FIELD_BYTES) != 0) {
		fprintf(stderr, "FAIL ecdh: cannot write the TPM's public key\n");
		return 1;
	}

	for (unsigned i = 0; i < ROUNDS; i++) {
		TPM2B_ECC_PARAMETER ours = { 0 };
		TPMS_ECC_POINT q = { 0 }, sent = { 0 };
		BYTE out[sizeof(TPMS_ECC_POINT)];
		size_t out_size = 0, offset = 0;
		unsigned char theirs[FIELD_BYTES];

		if (iesys_cryptmbed_get_ecdh_point(&key, sizeof(out), &ours, &q, out, &out_size, NULL) != TSS2_RC_SUCCESS ||
		    Tss2_MU_TPMS_ECC_POINT_Unmarshal(out, out_size, &offset, &sent) != TSS2_RC_SUCCESS) {
			fprintf(stderr, "FAIL ecdh: round %u: the backend failed\n", i);
			return 1;
		}
		/* What the TPM computes from the point it was sent: d * Q, x-coordinate at field size. */
		if (mbedtls_mpi_read_binary(&peer.X, sent.x.buffer, sent.x.size) != 0 ||
		    mbedtls_mpi_read_binary(&peer.Y, sent.y.buffer, sent.y.size) != 0 ||
		    mbedtls_mpi_lset(&peer.Z, 1) != 0 ||
		    mbedtls_ecdh_compute_shared(&grp, &z, &peer, &tpm_d, rng, &drbg) != 0 ||
		    mbedtls_mpi_write_binary(&z, theirs, sizeof(theirs)) != 0) {
			fprintf(stderr, "FAIL ecdh: round %u: the TPM side failed\n", i);
			return 1;
		}
		leading_zero += theirs[0] == 0;
		short_z += ours.size != FIELD_BYTES;
		disagree += ours.size != FIELD_BYTES || memcmp(ours.buffer, theirs, FIELD_BYTES) != 0;
	}
	printf("ecdh: %u secrets, %u with a leading zero byte; %u written short, %u not agreed\n", ROUNDS,
	       leading_zero, short_z, disagree);
	if (disagree) {
		fprintf(stderr, "FAIL ecdh: tpm2-tss's mbedTLS backend and the TPM disagree on %u of %u secrets\n",
			disagree, ROUNDS);
		failed = 1;
	}
	/* The check means something only if the case that broke came up (odds of none: e^-15). */
	if (!leading_zero) {
		fprintf(stderr, "FAIL ecdh: no secret with a leading zero byte in %u rounds\n", ROUNDS);
		failed = 1;
	}
	return failed;
}
