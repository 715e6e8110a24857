/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The "tpm2-blob" of a systemd-tpm2 LUKS2 token: a marshalled TPM2B_PRIVATE immediately followed
 * by a marshalled TPM2B_PUBLIC (TPM 2.0 Part 2, 12.3.7 and 12.2.5; systemd's tpm2_seal() writes
 * them with Tss2_MU_TPM2B_PRIVATE_Marshal / Tss2_MU_TPM2B_PUBLIC_Marshal). Each TPM2B is a
 * big-endian uint16 size followed by that many bytes. Pure: offsets into the caller's buffer. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Upper bounds of the TPM2B bodies tpm2-tss unmarshals (tss2_tpm2_types.h: the size of
 * TPM2B_PRIVATE.buffer, and sizeof(TPMT_PUBLIC), which bounds a marshalled public area); the unit
 * test checks them against the installed headers. */
#define TPM2B_PRIVATE_MAX 1550
#define TPM2B_PUBLIC_MAX 612

/* TPM_ALG_KEYEDHASH and the TPMA_OBJECT bits systemd sets on its sealed object, named apart from
 * tpm2-tss's TPM2_ALG_ and TPMA_OBJECT_ macros so both headers can be included together. */
#define TPM2_BLOB_TYPE_KEYEDHASH 0x0008
#define TPM2_BLOB_ATTR_FIXEDTPM 0x00000002u
#define TPM2_BLOB_ATTR_FIXEDPARENT 0x00000010u

struct tpm2_blob {
	/* Whole TPM2B, size field included: what Esys_Load() wants unmarshalled. */
	size_t private_offset, private_size;
	size_t public_offset, public_size;
	/* From the TPMT_PUBLIC inside the TPM2B_PUBLIC. */
	uint16_t type;        /* TPM2_BLOB_TYPE_KEYEDHASH for systemd's sealed secret */
	uint16_t name_alg;    /* TPM2_ALG_ID of the name hash (0x000B: sha256) */
	uint32_t attributes;  /* TPMA_OBJECT */
	size_t auth_policy_offset, auth_policy_size; /* the policy digest the object demands */
};

/* Split blob[0..size) into its two parts and read the public area's header. Returns 0; -EBADMSG
 * if a size runs past the end, a TPM2B is empty or larger than tpm2-tss accepts, bytes are left
 * over, or the public area is too short for its header and authPolicy. */
int tpm2_blob_split(const uint8_t *blob, size_t size, struct tpm2_blob *ret);
