/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What edgeinit decides about a TPM unseal, apart from the commands (init/sys_tpm2.c issues those
 * and asks here), so that every decision runs in the host's unit tests and fuzzers and not only in
 * a QEMU boot:
 *   which PCRs   the PCR bank and selection a request's PolicyPCR names       tpm2_policy_pcrs()
 *   the object   a token's sealed object out of its blob (bytes from disk)     tpm2_sealed_unmarshal()
 *                a public area read from the TPM is a sealed data object      tpm2_sealed_public_check()
 *   the policy   the policy session's digest is the one the object demands    tpm2_policy_digest_check()
 *   retry        an Unseal failure is retried (a PCR changed meanwhile)       tpm2_unseal_next()
 *                a whole unseal is retried (a session's keys disagreed)       tpm2_unseal_retry_session()
 *   meaning      a TPM response code as -errno; Startup's "already started"    tpm2_rc_to_errno() ...
 *   banks        the PCR banks that count for measurements                    tpm2_banks_usable()
 * Pure: tpm2-tss types, libtss2-mu for unmarshalling; no ESAPI, no I/O, no logging, no globals. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <tss2/tss2_tpm2_types.h>

#include "edgeinit/hash.h"
#include "edgeinit/tpm2_token.h"

/* systemd retries an Unseal that raced with a PCR extend up to 30 times (RETRY_UNSEAL_MAX). */
#define TPM2_UNSEAL_ATTEMPTS_MAX 30

/* The TPM's own code without the layer and, for format-one codes, without the handle, session or
 * parameter number it concerns. */
TSS2_RC tpm2_rc_base(TSS2_RC rc);

/* What a failed TPM command means to the stages:
 *   -EACCES  dictionary-attack lockout, wrong authValue (PIN): TPM2_RC_LOCKOUT, _AUTH_FAIL, _BAD_AUTH
 *   -EPERM   the policy does not hold: TPM2_RC_POLICY_FAIL
 *   -EAGAIN  a PCR changed between PolicyPCR and the command: TPM2_RC_PCR_CHANGED
 *   -ENOENT  no such object: TPM2_RC_HANDLE
 *   -EIO     anything else, including tss2's own (ESAPI, marshalling, TCTI) codes */
int tpm2_rc_to_errno(TSS2_RC rc);

/* TPM2_Startup(CLEAR) answered rc: true if the TPM is started (success, or TPM2_RC_INITIALIZE:
 * the firmware started it already). */
bool tpm2_startup_ok(TSS2_RC rc);

/* The PolicyPCR selection of an unseal: the token's bank and PCRs, or (t NULL) EMT's sealed key,
 * sha256:15. ret->count is 0 when no PCR is named: the policy has no PolicyPCR. -EINVAL for a PCR
 * above 23 or a bank tpm2-tss does not know. */
int tpm2_policy_pcrs(const struct tpm2_token *t, TPML_PCR_SELECTION *ret);

/* The token's sealed object, for Esys_Load(): t->blob's two parts unmarshalled with libtss2-mu.
 * -EIO if either does not unmarshal (the code the TPM path has always given it). */
int tpm2_sealed_unmarshal(const struct tpm2_token *t, TPM2B_PRIVATE *priv, TPM2B_PUBLIC *pub);

/* The public area of a persistent object (EMT's handle) before it is used: a keyed-hash (sealed
 * data) object with fixedTPM and fixedParent. 0, or -EMEDIUMTYPE. */
int tpm2_sealed_public_check(const TPMT_PUBLIC *pub);

/* The digest the policy session produced against the one the object was sealed with (the token's
 * tpm2-policy-hash, or the object's authPolicy): 0 if size and bytes are equal, else -EPERM.
 * Asked before Unseal, so a policy that cannot match never reaches the TPM's Unseal and its
 * dictionary-attack accounting. */
int tpm2_policy_digest_check(const TPM2B_DIGEST *got, const uint8_t *want, size_t want_size);

enum tpm2_unseal_next {
	TPM2_UNSEAL_DONE,  /* rc is success: the secret is there */
	TPM2_UNSEAL_RETRY, /* a PCR changed between PolicyPCR and Unseal: build the policy again */
	TPM2_UNSEAL_FAIL,  /* anything else, or the last attempt: tpm2_rc_to_errno(rc) */
};

/* After Esys_Unseal() answered rc on attempt (counted from 1). */
enum tpm2_unseal_next tpm2_unseal_next(TSS2_RC rc, unsigned attempt);

/* How many times a whole unseal (new salted sessions) is tried. */
#define TPM2_UNSEAL_SESSION_ATTEMPTS_MAX 3
/* Try the whole unseal again with new sessions after rc failed attempt (1-based)? Only when the
 * session's keys disagreed and no PIN is involved: the TPM's authorization failure without
 * dictionary-attack implications (TPM2_RC_BAD_AUTH), or ESAPI's check of the TPM's response HMAC
 * (TSS2_ESYS_RC_RSP_AUTH_FAILED). tpm2-tss's mbedTLS backend writes the ECDH secret of a salted
 * session without its leading zero bytes (mbedtls_mpi_size), the TPM keeps them: one salted session
 * in 256 gets keys the TPM does not share. A new session has new keys; no secret can be wrong and
 * the dictionary-attack counter is not touched. With a PIN, BAD_AUTH means a wrong PIN: never
 * retried. Neither is AUTH_FAIL or LOCKOUT (they count). */
bool tpm2_unseal_retry_session(TSS2_RC rc, bool with_pin, unsigned attempt);

/* The banks of TPM2_CAP_PCRS's assignedPCR that measurements extend: like systemd, only banks with
 * all 24 PCRs active and a hash edgeinit computes. Returns how many were stored (at most max). */
int tpm2_banks_usable(const TPML_PCR_SELECTION *assigned, enum hash_alg *banks, size_t max);
