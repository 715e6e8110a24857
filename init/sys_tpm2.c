/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The TPM behind struct sys_ops: tpm2-tss ESAPI over the device TCTI (/dev/tpmrm0), no resource
 * manager daemon, no TCTI loader. Sessions are salted with the parent key and encrypt the
 * parameters, as systemd does: a TPM that does not hold that key cannot complete them, and the
 * secret never crosses the bus in the clear. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_esys.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_sys.h>
#include <tss2/tss2_tcti_device.h>
#include <unistd.h>

#include "edgeinit/log.h"
#include "edgeinit/measure.h"
#include "edgeinit/sys.h"
#include "edgeinit/tpm2_decide.h"
#include "edgeinit/tpm2_token.h"
#include "sys_real.h"

/* Every TPM command is bounded: a TPM that stops answering must not hang PID 1 (tss2's default is
 * to block for ever). Generous: under emulation a salted session takes a second. */
#define TPM_COMMAND_TIMEOUT_MS 30000

static ESYS_CONTEXT *esys;
static TSS2_TCTI_CONTEXT *tcti;

static const TPMT_SYM_DEF session_cipher = {
	.algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB,
};

/* The last TPM failure, for the decision to retry a whole unseal. */
static TSS2_RC last_failure;

/* Log a TPM failure at debug level (the stage says what it means) and map it. */
static int tpm_fail(const char *what, TSS2_RC rc)
{
	log_debug("TPM: %s failed: %s", what, Tss2_RC_Decode(rc));
	last_failure = rc;
	return tpm2_rc_to_errno(rc);
}

/* One voice on the console: tss2 writes its own "WARNING:esys:..." and "ERROR:esys:..." lines to
 * stderr, which is the console, while edgeinit says what a failure means in its own words (the
 * stages, and tpm_fail() at debug level). tss2 reads TSS2_LOG at each source file's first message
 * and keeps the level, so it is set before the first tss2 call and stays set while the context
 * lives; it is removed again so that it does not reach the system through execv(). */
static void tss2_quiet(bool on)
{
	if (on)
		(void)setenv("TSS2_LOG", "all+none", 1);
	else
		(void)unsetenv("TSS2_LOG");
}

int real_tpm2_open(const char *device)
{
	size_t size = 0;
	TSS2_RC rc;
	int r;

	if (esys)
		return 0;
	if (access(device, R_OK | W_OK) < 0)
		return negative_errno();
	tss2_quiet(true);
	rc = Tss2_Tcti_Device_Init(NULL, &size, device);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_fail("sizing the device TCTI", rc);
		goto fail;
	}
	tcti = calloc(1, size);
	if (!tcti) {
		r = -ENOMEM;
		goto fail;
	}
	rc = Tss2_Tcti_Device_Init(tcti, &size, device);
	if (rc == TSS2_RC_SUCCESS)
		rc = Esys_Initialize(&esys, tcti, NULL);
	if (rc != TSS2_RC_SUCCESS) {
		free(tcti);
		tcti = NULL;
		r = tpm_fail("opening the TPM", rc);
		goto fail;
	}
	(void)Esys_SetTimeout(esys, TPM_COMMAND_TIMEOUT_MS);
	/* The firmware started the TPM; TPM2_RC_INITIALIZE says exactly that. Anything else is worth
	 * a line: the commands that follow will most likely fail too, and this is why. */
	rc = Esys_Startup(esys, TPM2_SU_CLEAR);
	if (!tpm2_startup_ok(rc))
		log_warning("TPM at %s: TPM2_Startup failed (%s); the firmware may not have started the TPM.",
			    device, Tss2_RC_Decode(rc));
	return 0;
fail:
	tss2_quiet(false);
	return r;
}

/* systemd's legacy SRK template (and tpm2_createprimary -G ecc): an owner-hierarchy storage key. */
static int create_primary(bool rsa, ESYS_TR *ret)
{
	TPM2B_PUBLIC tmpl = {
		.publicArea = {
			.type = rsa ? TPM2_ALG_RSA : TPM2_ALG_ECC,
			.nameAlg = TPM2_ALG_SHA256,
			.objectAttributes = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
					    TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
					    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH,
		},
	};
	TPM2B_SENSITIVE_CREATE sensitive = { 0 };
	TPM2B_DATA outside = { 0 };
	TPML_PCR_SELECTION creation_pcrs = { 0 };
	TSS2_RC rc;

	if (rsa) {
		tmpl.publicArea.parameters.rsaDetail = (TPMS_RSA_PARMS){
			.symmetric = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB },
			.scheme = { .scheme = TPM2_ALG_NULL },
			.keyBits = 2048,
		};
	} else {
		tmpl.publicArea.parameters.eccDetail = (TPMS_ECC_PARMS){
			.symmetric = { .algorithm = TPM2_ALG_AES, .keyBits.aes = 128, .mode.aes = TPM2_ALG_CFB },
			.scheme = { .scheme = TPM2_ALG_NULL },
			.curveID = TPM2_ECC_NIST_P256,
			.kdf = { .scheme = TPM2_ALG_NULL },
		};
	}
	rc = Esys_CreatePrimary(esys, ESYS_TR_RH_OWNER, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
				&sensitive, &tmpl, &outside, &creation_pcrs, ret, NULL, NULL, NULL, NULL);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("creating the primary key", rc);
}

/* A salted session: the salt goes to the TPM encrypted to the parent key with a fresh ephemeral
 * ECDH key. Seen once here in a boot test (swtpm): the TPM rejected the start with an auth-class
 * error while the same boot rerun succeeded. A bounded retry, each with a new ephemeral key,
 * keeps a good TPM from looking like one that refuses (which means the recovery prompt). */
#define SESSION_START_ATTEMPTS 3
static TSS2_RC start_session(ESYS_TR tpm_key, ESYS_TR bind, ESYS_TR encryption, TPM2_SE type, ESYS_TR *session)
{
	TSS2_RC rc = TSS2_RC_SUCCESS;

	for (int attempt = 1; attempt <= SESSION_START_ATTEMPTS; attempt++) {
		rc = Esys_StartAuthSession(esys, tpm_key, bind, encryption, ESYS_TR_NONE, ESYS_TR_NONE, NULL, type,
					   &session_cipher, TPM2_ALG_SHA256, session);
		if (rc == TSS2_RC_SUCCESS)
			break;
		log_debug("TPM: starting a session failed (attempt %d of %d): %s", attempt, SESSION_START_ATTEMPTS,
			  Tss2_RC_Decode(rc));
	}
	return rc;
}

static void flush(ESYS_TR *h)
{
	if (*h != ESYS_TR_NONE)
		(void)Esys_FlushContext(esys, *h);
	*h = ESYS_TR_NONE;
}

/* A policy session with PolicyPCR (none for an empty selection) and PolicyAuthValue: returns its
 * digest in digest. Salted (and its commands encrypted) only with PolicyAuthValue, whose HMAC
 * would otherwise let someone on the bus test PINs offline. Without a PIN its session key protects
 * nothing: the secret and the response's integrity are the salted encryption session's, and a
 * policy session tampered with on the bus only makes the Unseal fail. That saves one ECDH (the
 * slowest part of an unseal in software) per attempt. */
static int policy_session(ESYS_TR parent, ESYS_TR encryption, const TPML_PCR_SELECTION *pcrs,
			  bool auth_value, ESYS_TR *session, TPM2B_DIGEST **digest)
{
	TPM2B_DIGEST empty = { 0 };
	TSS2_RC rc;

	if (!auth_value)
		parent = encryption = ESYS_TR_NONE;
	rc = start_session(parent, ESYS_TR_NONE, encryption, TPM2_SE_POLICY, session);
	if (rc != TSS2_RC_SUCCESS)
		return tpm_fail("starting the policy session", rc);
	if (pcrs->count > 0) {
		rc = Esys_PolicyPCR(esys, *session, encryption, ESYS_TR_NONE, ESYS_TR_NONE, &empty, pcrs);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail("PolicyPCR", rc);
	}
	if (auth_value) {
		rc = Esys_PolicyAuthValue(esys, *session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE);
		if (rc != TSS2_RC_SUCCESS)
			return tpm_fail("PolicyAuthValue", rc);
	}
	rc = Esys_PolicyGetDigest(esys, *session, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, digest);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("PolicyGetDigest", rc);
}

/* tss2 decrypts the response parameters in place, in its own command buffer: wipe them there
 * too, not only our copy. */
static void wipe_response_buffer(void)
{
	TSS2_SYS_CONTEXT *sys = NULL;
	const uint8_t *rp = NULL;
	size_t used = 0;

	if (Esys_GetSysContext(esys, &sys) == TSS2_RC_SUCCESS && sys &&
	    Tss2_Sys_GetRpBuffer(sys, &used, &rp) == TSS2_RC_SUCCESS && rp && used > 0)
		explicit_bzero((uint8_t *)rp, used);
}

static int unseal_once(const struct tpm2_unseal_request *req, uint8_t *secret, size_t size)
{
	const struct tpm2_token *t = req->token;
	ESYS_TR parent = ESYS_TR_NONE, object = ESYS_TR_NONE, enc = ESYS_TR_NONE, policy = ESYS_TR_NONE;
	bool own_parent = false, own_object = false;
	TPM2B_PUBLIC *pub = NULL;
	TPM2B_DIGEST *digest = NULL;
	TPM2B_SENSITIVE_DATA *out = NULL;
	const uint8_t *want_policy;
	size_t want_policy_size;
	TPML_PCR_SELECTION pcrs;
	TSS2_RC rc;
	int r;

	if (!esys)
		return -ENODEV;
	r = tpm2_policy_pcrs(t, &pcrs);
	if (r < 0)
		return r;
	if (t) {
		TPM2B_PRIVATE priv;
		TPM2B_PUBLIC opub;

		if (t->srk_size > 0) {
			rc = Esys_TR_Deserialize(esys, t->srk, t->srk_size, &parent);
			if (rc != TSS2_RC_SUCCESS) {
				r = tpm_fail("loading the SRK the token names", rc);
				goto out;
			}
		} else {
			r = create_primary(t->primary_alg == TPM2_PRIMARY_RSA, &parent);
			if (r < 0)
				goto out;
			own_parent = true;
		}
		r = tpm2_sealed_unmarshal(t, &priv, &opub);
		if (r < 0) {
			log_debug("TPM: unmarshalling the sealed object failed.");
			goto out;
		}
		rc = Esys_Load(esys, parent, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &priv, &opub, &object);
		if (rc != TSS2_RC_SUCCESS) {
			r = tpm_fail("loading the sealed object", rc);
			goto out;
		}
		own_object = true;
		want_policy = t->policy_hash;
		want_policy_size = t->policy_hash_size;
	} else {
		rc = Esys_TR_FromTPMPublic(esys, req->emt_handle, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &object);
		if (rc != TSS2_RC_SUCCESS) {
			r = tpm_fail("finding the sealed object", rc);
			goto out;
		}
		rc = Esys_ReadPublic(esys, object, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
		if (rc != TSS2_RC_SUCCESS) {
			r = tpm_fail("reading the sealed object", rc);
			goto out;
		}
		r = tpm2_sealed_public_check(&pub->publicArea);
		if (r < 0) {
			log_debug("TPM: handle 0x%08x is not a sealed keyed-hash object.", req->emt_handle);
			goto out;
		}
		/* The session is salted with the owner's ECC primary (EMT's parent template). */
		r = create_primary(false, &parent);
		if (r < 0)
			goto out;
		own_parent = true;
		want_policy = pub->publicArea.authPolicy.buffer;
		want_policy_size = pub->publicArea.authPolicy.size;
	}

	if (req->pin_auth) {
		TPM2B_AUTH auth = { .size = (uint16_t)req->pin_auth_size };

		memcpy(auth.buffer, req->pin_auth, req->pin_auth_size);
		rc = Esys_TR_SetAuth(esys, object, &auth);
		explicit_bzero(&auth, sizeof(auth));
		if (rc != TSS2_RC_SUCCESS) {
			r = tpm_fail("setting the PIN", rc);
			goto out;
		}
	}

	rc = start_session(parent, object, ESYS_TR_NONE, TPM2_SE_HMAC, &enc);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_fail("starting the salted session", rc);
		goto out;
	}
	rc = Esys_TRSess_SetAttributes(esys, enc, TPMA_SESSION_DECRYPT | TPMA_SESSION_ENCRYPT |
						      TPMA_SESSION_CONTINUESESSION, 0xff);
	if (rc != TSS2_RC_SUCCESS) {
		r = tpm_fail("setting the session attributes", rc);
		goto out;
	}

	/* A PCR extended between PolicyPCR and Unseal (TPM2_RC_PCR_CHANGED) is not a refusal:
	 * build the policy again, a bounded number of times. */
	for (unsigned attempt = 1;; attempt++) {
		enum tpm2_unseal_next next;

		r = policy_session(parent, enc, &pcrs, req->pin_auth != NULL, &policy, &digest);
		if (r < 0)
			goto out;
		/* Refuse before Unseal: a policy that cannot match must not reach the TPM's
		 * Unseal (and its dictionary-attack accounting). */
		r = tpm2_policy_digest_check(digest, want_policy, want_policy_size);
		if (r < 0)
			goto out;
		rc = Esys_Unseal(esys, object, policy, enc, ESYS_TR_NONE, &out);
		next = tpm2_unseal_next(rc, attempt);
		if (next == TPM2_UNSEAL_DONE)
			break;
		r = tpm_fail("Unseal", rc);
		if (next == TPM2_UNSEAL_FAIL)
			goto out;
		Esys_Free(digest);
		digest = NULL;
		flush(&policy);
	}
	if (out->size > size) {
		r = -E2BIG;
		goto out;
	}
	memcpy(secret, out->buffer, out->size);
	r = out->size;
	wipe_response_buffer();
out:
	if (out) {
		explicit_bzero(out, sizeof(*out));
		Esys_Free(out);
	}
	Esys_Free(digest);
	Esys_Free(pub);
	flush(&policy);
	flush(&enc);
	if (own_object)
		flush(&object);
	else if (object != ESYS_TR_NONE)
		(void)Esys_TR_Close(esys, &object);
	if (own_parent)
		flush(&parent);
	else if (parent != ESYS_TR_NONE)
		(void)Esys_TR_Close(esys, &parent);
	return r;
}

int real_tpm2_unseal(const struct tpm2_unseal_request *req, uint8_t *secret, size_t size)
{
	for (unsigned attempt = 1;; attempt++) {
		int r;

		last_failure = TSS2_RC_SUCCESS;
		r = unseal_once(req, secret, size);
		if (r >= 0 || !tpm2_unseal_retry_session(last_failure, req->pin_auth != NULL, attempt))
			return r;
		log_debug("TPM: a session's authorization failed with no PIN involved; unsealing again with new sessions (attempt %u of %d).",
			  attempt + 1, TPM2_UNSEAL_SESSION_ATTEMPTS_MAX);
	}
}

/* GetCapability only lists: nothing is loaded or authorized. The first entry from property on;
 * *cap is the caller's to Esys_Free. */
static int get_capability(TPM2_CAP what, uint32_t property, const char *doing,
			  TPMS_CAPABILITY_DATA **cap)
{
	TPMI_YES_NO more;
	TSS2_RC rc;

	if (!esys)
		return -ENODEV;
	rc = Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, what, property, 1,
				&more, cap);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail(doing, rc);
}

int real_tpm2_object_exists(uint32_t handle)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	int r = get_capability(TPM2_CAP_HANDLES, handle, "listing persistent handles", &cap);

	if (r < 0)
		return r;
	r = cap->data.handles.count > 0 && cap->data.handles.handle[0] == handle;
	Esys_Free(cap);
	return r;
}

void real_tpm2_close(void)
{
	if (!esys)
		return;
	tss2_quiet(false);
	wipe_response_buffer();
	Esys_Finalize(&esys);
	if (tcti) {
		Tss2_Tcti_Finalize(tcti);
		free(tcti);
		tcti = NULL;
	}
}

int real_tpm2_banks(enum hash_alg *banks, size_t max)
{
	TPMS_CAPABILITY_DATA *cap = NULL;
	int n = get_capability(TPM2_CAP_PCRS, 0, "reading the PCR banks", &cap);

	if (n < 0)
		return n;
	n = tpm2_banks_usable(&cap->data.assignedPCR, banks, max);
	Esys_Free(cap);
	return n;
}

int real_tpm2_extend(unsigned pcr, const struct measure_digest *digests, size_t n)
{
	TPML_DIGEST_VALUES values = { .count = (uint32_t)n };
	TSS2_RC rc;

	if (!esys)
		return -ENODEV;
	if (pcr > 23 || n > TPM2_NUM_PCR_BANKS)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		values.digests[i].hashAlg = hash_alg_to_tpm2(digests[i].alg);
		memcpy(&values.digests[i].digest, digests[i].digest, hash_digest_size(digests[i].alg));
	}
	rc = Esys_PCR_Extend(esys, ESYS_TR_PCR0 + pcr, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &values);
	return rc == TSS2_RC_SUCCESS ? 0 : tpm_fail("PCR_Extend", rc);
}
