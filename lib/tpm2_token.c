/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd-tpm2 LUKS2 token parsing, field by field, strict about types. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/base64.h"
#include "edgeinit/json.h"
#include "edgeinit/strutil.h"
#include "edgeinit/tpm2_token.h"

#define TOKEN_NODES_MAX 512
#define TOKEN_DEPTH_MAX 8

_Static_assert(TPM2_TOKEN_JSON_MAX <= JSON_LEN_MAX, "token bound exceeds the JSON parser's");

__attribute__((format(printf, 3, 4))) static int refuse(char *reason, int r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(reason, TPM2_TOKEN_REASON_MAX, fmt, ap);
	va_end(ap);
	return r;
}

static const char *json_error_class(int r)
{
	switch (r) {
	case -EILSEQ:
		return "invalid UTF-8";
	case -ENOTUNIQ:
		return "duplicate key";
	case -ELOOP:
		return "nested too deeply";
	case -E2BIG:
		return "too large";
	default:
		return "syntax error";
	}
}

/* A field holding base64 (string) into out. The JSON string is decoded first: a writer may escape
 * '/' as "\\/" (json-c does unless told not to). */
static int get_base64(const struct json_doc *doc, int idx, const char *field, uint8_t *out,
		      size_t out_size, size_t *ret_size, char *reason)
{
	char text[BASE64_ENCODED_LEN(TPM2_TOKEN_PUBKEY_MAX) + 1];
	int r;

	if (doc->nodes[idx].type != JSON_STRING)
		return refuse(reason, -EBADMSG, "'%s' is not a string", field);
	r = json_doc_string(doc, (uint32_t)idx, text, sizeof(text));
	if (r == -E2BIG)
		return refuse(reason, -E2BIG, "'%s' is larger than %zu bytes", field, out_size);
	if (r >= 0)
		r = base64_decode(text, (size_t)r, out, out_size);
	if (r == -E2BIG)
		return refuse(reason, -E2BIG, "'%s' is larger than %zu bytes", field, out_size);
	if (r < 0)
		return refuse(reason, -EBADMSG, "'%s' is not valid base64", field);
	if (r == 0)
		return refuse(reason, -EBADMSG, "'%s' is empty", field);
	*ret_size = (size_t)r;
	return 0;
}

/* An array of PCR numbers 0..23 into a mask. */
static int get_pcrs(const struct json_doc *doc, int idx, const char *field, uint32_t *ret,
		    char *reason)
{
	uint32_t mask = 0;

	if (doc->nodes[idx].type != JSON_ARRAY)
		return refuse(reason, -EBADMSG, "'%s' is not an array", field);
	for (uint32_t e = json_doc_first(doc, (uint32_t)idx); e != 0; e = json_doc_next(doc, e)) {
		uint64_t v;
		int r = json_doc_uint(doc, e, TPM2_PCRS_MAX - 1, &v);

		if (r == -ERANGE)
			return refuse(reason, -EBADMSG, "'%s' names a PCR above %d", field, TPM2_PCRS_MAX - 1);
		if (r < 0)
			return refuse(reason, -EBADMSG, "'%s' holds something that is not a PCR number", field);
		mask |= UINT32_C(1) << v;
	}
	*ret = mask;
	return 0;
}

static int get_keyslots(const struct json_doc *doc, int idx, uint32_t *ret, char *reason)
{
	uint32_t mask = 0;

	if (idx < 0)
		return refuse(reason, -EBADMSG, "'keyslots' is missing");
	if (doc->nodes[idx].type != JSON_ARRAY || doc->nodes[idx].children == 0)
		return refuse(reason, -EBADMSG, "'keyslots' is not a non-empty array");
	for (uint32_t e = json_doc_first(doc, (uint32_t)idx); e != 0; e = json_doc_next(doc, e)) {
		char s[8];
		unsigned long long v;

		if (json_doc_string(doc, e, s, sizeof(s)) < 0 || parse_uint(s, LUKS2_KEYSLOTS_MAX - 1, &v) < 0)
			return refuse(reason, -EBADMSG, "'keyslots' holds something that is not a keyslot number 0..%d in a string",
				      LUKS2_KEYSLOTS_MAX - 1);
		if (mask & (UINT32_C(1) << v))
			return refuse(reason, -EBADMSG, "'keyslots' names keyslot %llu twice", v);
		mask |= UINT32_C(1) << v;
	}
	*ret = mask;
	return 0;
}

static int get_policy_hash(const struct json_doc *doc, int idx, struct tpm2_token *t, char *reason)
{
	const struct json_node *n;
	char hex[2 * TPM2_TOKEN_POLICY_HASH_MAX + 1];
	int r;

	if (idx < 0)
		return refuse(reason, -EBADMSG, "'tpm2-policy-hash' is missing");
	n = &doc->nodes[idx];
	if (n->type == JSON_ARRAY)
		return refuse(reason, -EOPNOTSUPP,
			      "'tpm2-policy-hash' is an array (multiple sealed blobs, systemd >= 256): not supported");
	if (n->type != JSON_STRING)
		return refuse(reason, -EBADMSG, "'tpm2-policy-hash' is not a string");
	r = json_doc_string(doc, (uint32_t)idx, hex, sizeof(hex));
	if (r == -E2BIG)
		return refuse(reason, -E2BIG, "'tpm2-policy-hash' is longer than %d bytes",
			      TPM2_TOKEN_POLICY_HASH_MAX);
	if (r >= 0)
		r = hex_decode(hex, t->policy_hash, sizeof(t->policy_hash));
	if (r <= 0 || (size_t)r * 2 != strlen(hex))
		return refuse(reason, -EBADMSG, "'tpm2-policy-hash' is not a hexadecimal digest");
	t->policy_hash_size = (size_t)r;
	return 0;
}

static int get_blob(const struct json_doc *doc, int idx, struct tpm2_token *t, char *reason)
{
	const uint8_t *policy;
	int r;

	if (idx < 0)
		return refuse(reason, -EBADMSG, "'tpm2-blob' is missing");
	if (doc->nodes[idx].type == JSON_ARRAY)
		return refuse(reason, -EOPNOTSUPP,
			      "'tpm2-blob' is an array (sharded/multiple sealed blobs, systemd >= 256): not supported");
	r = get_base64(doc, idx, "tpm2-blob", t->blob, sizeof(t->blob), &t->blob_size, reason);
	if (r < 0)
		return r;
	if (tpm2_blob_split(t->blob, t->blob_size, &t->parts) < 0)
		return refuse(reason, -EBADMSG,
			      "'tpm2-blob' is not a TPM2B_PRIVATE followed by a TPM2B_PUBLIC");
	if (t->parts.type != TPM2_BLOB_TYPE_KEYEDHASH)
		return refuse(reason, -EBADMSG,
			      "'tpm2-blob' does not hold a sealed data object (type 0x%04x)", t->parts.type);
	/* The TPM refuses Unseal unless the session's digest equals the object's authPolicy, which
	 * systemd compares with tpm2-policy-hash first: they must agree. */
	policy = t->blob + t->parts.auth_policy_offset;
	if (t->parts.auth_policy_size != t->policy_hash_size ||
	    memcmp(policy, t->policy_hash, t->policy_hash_size) != 0)
		return refuse(reason, -EBADMSG,
			      "'tpm2-policy-hash' differs from the authPolicy of the sealed object in 'tpm2-blob'");
	return 0;
}

static int get_string_enum(const struct json_doc *doc, int idx, const char *field, char *buf,
			   size_t size, char *reason)
{
	if (doc->nodes[idx].type != JSON_STRING)
		return refuse(reason, -EBADMSG, "'%s' is not a string", field);
	if (json_doc_string(doc, (uint32_t)idx, buf, size) < 0)
		return refuse(reason, -EOPNOTSUPP, "'%s' has an unsupported value", field);
	return 0;
}

static int get_bool(const struct json_doc *doc, int idx, const char *field, bool *ret, char *reason)
{
	enum json_doc_type type = doc->nodes[idx].type;

	if (type != JSON_TRUE && type != JSON_FALSE)
		return refuse(reason, -EBADMSG, "'%s' is not a boolean", field);
	*ret = type == JSON_TRUE;
	return 0;
}

/* The fields of a parsed token. */
static int token_fields(const struct json_doc *doc, struct tpm2_token *t, char *reason)
{
	char s[16];
	bool b = false;
	int r, idx;

	if (doc->nodes[0].type != JSON_OBJECT)
		return refuse(reason, -EBADMSG, "token is not a JSON object");

	idx = json_doc_member(doc, 0, "type");
	if (idx < 0 || doc->nodes[idx].type != JSON_STRING)
		return refuse(reason, -EBADMSG, "'type' is missing or not a string");
	if (!json_doc_string_eq(doc, (uint32_t)idx, "systemd-tpm2"))
		return refuse(reason, -EMEDIUMTYPE, "not a systemd-tpm2 token");

	/* Shapes edgeinit does not unlock, named before anything else is judged. */
	idx = json_doc_member(doc, 0, "tpm2_pcrlock");
	if (idx >= 0) {
		r = get_bool(doc, idx, "tpm2_pcrlock", &b, reason);
		if (r < 0)
			return r;
		if (b)
			return refuse(reason, -EOPNOTSUPP,
				      "'tpm2_pcrlock' is set (pcrlock policy, systemd >= 255): not supported");
	}
	if (json_doc_member(doc, 0, "tpm2_pcrlock_nv") >= 0)
		return refuse(reason, -EOPNOTSUPP,
			      "'tpm2_pcrlock_nv' is present (pcrlock policy): not supported");

	r = get_keyslots(doc, json_doc_member(doc, 0, "keyslots"), &t->keyslots, reason);
	if (r < 0)
		return r;

	idx = json_doc_member(doc, 0, "tpm2-pcrs");
	if (idx < 0)
		return refuse(reason, -EBADMSG, "'tpm2-pcrs' is missing");
	r = get_pcrs(doc, idx, "tpm2-pcrs", &t->pcr_mask, reason);
	if (r < 0)
		return r;

	idx = json_doc_member(doc, 0, "tpm2-pcr-bank");
	if (idx >= 0) {
		r = get_string_enum(doc, idx, "tpm2-pcr-bank", s, sizeof(s), reason);
		if (r < 0)
			return r;
		if (hash_alg_from_string(s, &t->pcr_bank) < 0)
			return refuse(reason, -EOPNOTSUPP,
				      "'tpm2-pcr-bank' is '%s' (supported: sha1, sha256, sha384, sha512)", s);
		t->pcr_bank_given = true;
	}

	idx = json_doc_member(doc, 0, "tpm2-primary-alg");
	if (idx >= 0) {
		r = get_string_enum(doc, idx, "tpm2-primary-alg", s, sizeof(s), reason);
		if (r < 0)
			return r;
		if (strcmp(s, "ecc") == 0)
			t->primary_alg = TPM2_PRIMARY_ECC;
		else if (strcmp(s, "rsa") == 0)
			t->primary_alg = TPM2_PRIMARY_RSA;
		else
			return refuse(reason, -EOPNOTSUPP,
				      "'tpm2-primary-alg' is '%s' (supported: ecc, rsa)", s);
	}

	/* The policy hash first: the blob is checked against it. */
	r = get_policy_hash(doc, json_doc_member(doc, 0, "tpm2-policy-hash"), t, reason);
	if (r < 0)
		return r;
	r = get_blob(doc, json_doc_member(doc, 0, "tpm2-blob"), t, reason);
	if (r < 0)
		return r;

	idx = json_doc_member(doc, 0, "tpm2-pin");
	if (idx >= 0) {
		r = get_bool(doc, idx, "tpm2-pin", &t->pin, reason);
		if (r < 0)
			return r;
	}

	idx = json_doc_member(doc, 0, "tpm2_salt");
	if (idx >= 0) {
		r = get_base64(doc, idx, "tpm2_salt", t->salt, sizeof(t->salt), &t->salt_size, reason);
		if (r < 0)
			return r;
	}

	idx = json_doc_member(doc, 0, "tpm2_srk");
	if (idx >= 0) {
		r = get_base64(doc, idx, "tpm2_srk", t->srk, sizeof(t->srk), &t->srk_size, reason);
		if (r < 0)
			return r;
		if (t->srk_size < 4)
			return refuse(reason, -EBADMSG, "'tpm2_srk' is too short for a serialized handle");
		t->srk_handle = (uint32_t)t->srk[0] << 24 | (uint32_t)t->srk[1] << 16 |
				(uint32_t)t->srk[2] << 8 | t->srk[3];
		if (t->srk_handle >> 24 != 0x81)
			return refuse(reason, -EBADMSG,
				      "'tpm2_srk' does not name a persistent handle (0x%08x)", t->srk_handle);
	}

	idx = json_doc_member(doc, 0, "tpm2_pubkey_pcrs");
	if (idx >= 0) {
		r = get_pcrs(doc, idx, "tpm2_pubkey_pcrs", &t->pubkey_pcr_mask, reason);
		if (r < 0)
			return r;
	}
	idx = json_doc_member(doc, 0, "tpm2_pubkey");
	if (idx >= 0) {
		r = get_base64(doc, idx, "tpm2_pubkey", t->pubkey, sizeof(t->pubkey), &t->pubkey_size, reason);
		if (r < 0)
			return r;
	} else if (t->pubkey_pcr_mask != 0)
		return refuse(reason, -EBADMSG, "'tpm2_pubkey_pcrs' is set but 'tpm2_pubkey' is missing");

	return 0;
}

int tpm2_token_parse(const char *json, size_t len, struct tpm2_token *t, char *reason)
{
	static const struct json_limits limits = { .max_len = TPM2_TOKEN_JSON_MAX, .max_depth = TOKEN_DEPTH_MAX };
	struct json_node nodes[TOKEN_NODES_MAX];
	struct json_doc doc;
	struct json_error err;
	int r;

	reason[0] = '\0';
	memset(t, 0, sizeof(*t));
	t->pcr_bank = HASH_SHA256;

	r = json_doc_parse(json, len, &limits, nodes, TOKEN_NODES_MAX, &doc, &err);
	if (r == -E2BIG && len > TPM2_TOKEN_JSON_MAX)
		return refuse(reason, -E2BIG, "token JSON is larger than %d bytes", TPM2_TOKEN_JSON_MAX);
	if (r < 0)
		return refuse(reason, -EBADMSG, "invalid JSON (%s) at byte %zu: %s", json_error_class(r),
			      err.offset, err.message ? err.message : "?");
	r = token_fields(&doc, t, reason);
	json_doc_free(&doc);
	return r;
}

int tpm2_token_pin_auth(const struct tpm2_token *t, const char *pin, size_t pin_len,
			uint8_t auth[SHA256_DIGEST_SIZE])
{
	uint8_t salted[SHA256_DIGEST_SIZE];
	char b64[BASE64_ENCODED_LEN(SHA256_DIGEST_SIZE) + 1];
	int r;

	if (!pin || pin_len == 0)
		return -EINVAL;
	if (t->salt_size == 0) {
		sha256(pin, pin_len, auth);
		return 0;
	}
	r = pbkdf2_hmac_sha256(pin, pin_len, t->salt, t->salt_size, TPM2_PIN_PBKDF2_ITERATIONS, salted,
			       sizeof(salted));
	if (r >= 0)
		r = base64_encode(salted, sizeof(salted), b64, sizeof(b64));
	if (r >= 0) {
		sha256(b64, (size_t)r, auth);
		r = 0;
	}
	explicit_bzero(salted, sizeof(salted));
	explicit_bzero(b64, sizeof(b64));
	return r;
}

int tpm2_token_passphrase(const uint8_t *secret, size_t len, char *out, size_t out_size)
{
	return base64_encode(secret, len, out, out_size);
}
