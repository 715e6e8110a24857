/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* systemd-tpm2 tokens: the real ones systemd-cryptenroll 252 wrote (tests/unit/fixtures/tpm2), the
 * hand-made shapes, every refusal, hostile JSON; the blob split; PIN and passphrase derivation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_tpm2_types.h>

#include "edgeinit/base64.h"
#include "edgeinit/strutil.h"
#include "edgeinit/tpm2_token.h"
#include "suites.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define FIXTURES "tests/unit/fixtures/tpm2/"

static char *read_fixture(const char *name, size_t *len)
{
	char path[256], *buf;
	FILE *f;

	snprintf(path, sizeof(path), FIXTURES "%s", name);
	f = fopen(path, "re");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	buf = calloc(1, 1 << 16);
	ck_assert_ptr_nonnull(buf);
	*len = fread(buf, 1, (1 << 16) - 1, f);
	fclose(f);
	return buf;
}

static struct tpm2_token *parse_fixture(const char *name, int *r, char *reason)
{
	struct tpm2_token *t = malloc(sizeof(*t));
	size_t len;
	char *json = read_fixture(name, &len);

	ck_assert_ptr_nonnull(t);
	*r = tpm2_token_parse(json, len, t, reason);
	free(json);
	return t;
}

static void check_policy(const struct tpm2_token *t, const char *hex)
{
	char buf[2 * TPM2_TOKEN_POLICY_HASH_MAX + 1];

	ck_assert_int_ge(hex_encode(t->policy_hash, t->policy_hash_size, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, hex);
}

static const struct {
	const char *file;
	uint32_t keyslots, pcrs, pubkey_pcrs;
	enum hash_alg bank;
	bool bank_given;
	enum tpm2_primary_alg primary;
	bool pin;
	size_t salt_size;
	uint32_t srk_handle;
	const char *policy;
} valid[] = {
	{ "pcr7.json", 1u << 1, 1u << 7, 0, HASH_SHA256, true, TPM2_PRIMARY_ECC, false, 0, 0,
	  "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b" },
	{ "pin-pcr0-7.json", 1u << 2, 1u << 0 | 1u << 7, 0, HASH_SHA256, true, TPM2_PRIMARY_ECC, true, 0, 0,
	  "a459f3351d48706d42b6a920938f56e28b7356602a02784cf0f37b6f5aeb068c" },
	{ "no-pcrs.json", 1u << 3, 0, 0, HASH_SHA256, false, TPM2_PRIMARY_ECC, false, 0, 0,
	  "0000000000000000000000000000000000000000000000000000000000000000" },
	{ "many-pcrs.json", 1u << 4, 0x8088bf, 0, HASH_SHA256, true, TPM2_PRIMARY_ECC, false, 0, 0,
	  "d9ddf111d26258e2fc18b43b92998b487cfe0522a014224135cdc8702f214a31" },
	{ "signed-policy.json", 1u << 5, 1u << 7, 1u << 11, HASH_SHA256, true, TPM2_PRIMARY_ECC, false, 0, 0,
	  "6d6027a346e5e3adb2952a000b0c02df59a4465e862f929a555e4d05dd413a94" },
	{ "hand-legacy-v248.json", 1u << 1, 1u << 7, 0, HASH_SHA256, false, TPM2_PRIMARY_UNSPECIFIED, false, 0, 0,
	  "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b" },
	{ "hand-rsa.json", 1u << 1, 1u << 7, 0, HASH_SHA256, true, TPM2_PRIMARY_RSA, false, 0, 0,
	  "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b" },
	{ "hand-srk-salt-pin.json", 1u << 2, 1u << 0 | 1u << 7, 0, HASH_SHA256, true, TPM2_PRIMARY_ECC, true, 16,
	  0x81000001, "a459f3351d48706d42b6a920938f56e28b7356602a02784cf0f37b6f5aeb068c" },
};

START_TEST(test_valid)
{
	char reason[TPM2_TOKEN_REASON_MAX];
	struct tpm2_token *t;
	int r;

	t = parse_fixture(valid[_i].file, &r, reason);
	ck_assert_msg(r == 0, "%s: %d %s", valid[_i].file, r, reason);
	ck_assert_str_eq(reason, "");
	ck_assert_uint_eq(t->keyslots, valid[_i].keyslots);
	ck_assert_uint_eq(t->pcr_mask, valid[_i].pcrs);
	ck_assert_int_eq(t->pcr_bank, valid[_i].bank);
	ck_assert_int_eq(t->pcr_bank_given, valid[_i].bank_given);
	ck_assert_int_eq(t->primary_alg, valid[_i].primary);
	ck_assert_int_eq(t->pin, valid[_i].pin);
	ck_assert_uint_eq(t->salt_size, valid[_i].salt_size);
	ck_assert_uint_eq(t->srk_handle, valid[_i].srk_handle);
	ck_assert_uint_eq(t->pubkey_pcr_mask, valid[_i].pubkey_pcrs);
	check_policy(t, valid[_i].policy);

	/* systemd's blob: TPM2B_PRIVATE (0x9e bytes) + TPM2B_PUBLIC (0x4e bytes) of a keyed-hash
	 * object with nameAlg sha256, fixedTPM|fixedParent, authPolicy = tpm2-policy-hash. */
	ck_assert_uint_eq(t->blob_size, 240);
	ck_assert_uint_eq(t->parts.private_offset, 0);
	ck_assert_uint_eq(t->parts.private_size, 2 + 0x9e);
	ck_assert_uint_eq(t->parts.public_offset, 2 + 0x9e);
	ck_assert_uint_eq(t->parts.public_size, 2 + 0x4e);
	ck_assert_uint_eq(t->parts.type, TPM2_BLOB_TYPE_KEYEDHASH);
	ck_assert_uint_eq(t->parts.name_alg, 0x000b);
	ck_assert_uint_eq(t->parts.attributes, TPM2_BLOB_ATTR_FIXEDTPM | TPM2_BLOB_ATTR_FIXEDPARENT);
	ck_assert_uint_eq(t->parts.auth_policy_size, 32);
	free(t);
}
END_TEST

START_TEST(test_signed_policy_pubkey)
{
	char reason[TPM2_TOKEN_REASON_MAX];
	struct tpm2_token *t;
	int r;

	t = parse_fixture("signed-policy.json", &r, reason);
	ck_assert_int_eq(r, 0);
	ck_assert_uint_gt(t->pubkey_size, 200);
	ck_assert(memcmp(t->pubkey, "-----BEGIN PUBLIC KEY-----\n", 27) == 0);
	free(t);
}
END_TEST

static const struct {
	const char *file;
	int r;
	const char *reason;
} refused_files[] = {
	{ "observed-pcrlock-srk.json", -EOPNOTSUPP, "'tpm2_pcrlock' is set" },
	{ "hand-sharded-v256.json", -EOPNOTSUPP, "'tpm2-policy-hash' is an array" },
	{ "hand-bank-sm3.json", -EOPNOTSUPP, "'tpm2-pcr-bank' is 'sm3_256'" },
};

START_TEST(test_refused_files)
{
	char reason[TPM2_TOKEN_REASON_MAX];
	struct tpm2_token *t;
	int r;

	t = parse_fixture(refused_files[_i].file, &r, reason);
	ck_assert_int_eq(r, refused_files[_i].r);
	ck_assert_msg(strstr(reason, refused_files[_i].reason), "reason: %s", reason);
	free(t);
}
END_TEST

/* Edits of pcr7.json: each replaces the first occurrence of 'from' with 'to'. */
#define BLOB_PCR7_PREFIX "\"tpm2-blob\":\""
static const struct {
	const char *name;
	const char *from;
	const char *to;
	int r;
	const char *reason;
} edits[] = {
	{ "other type", "\"systemd-tpm2\"", "\"systemd-fido2\"", -EMEDIUMTYPE, "not a systemd-tpm2" },
	{ "type not string", "\"systemd-tpm2\"", "2", -EBADMSG, "'type'" },
	{ "no type", "\"type\":\"systemd-tpm2\",", "", -EBADMSG, "'type'" },
	{ "blob array", BLOB_PCR7_PREFIX, "\"tpm2-blob\":[],\"x\":\"", -EOPNOTSUPP, "'tpm2-blob' is an array" },
	{ "pcrlock true", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2_pcrlock\":true", -EOPNOTSUPP, "pcrlock" },
	{ "pcrlock nv", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2_pcrlock_nv\":\"AA==\"", -EOPNOTSUPP, "pcrlock_nv" },
	{ "primary alg", "\"ecc\"", "\"sm2\"", -EOPNOTSUPP, "'tpm2-primary-alg' is 'sm2'" },
	{ "bank case", "\"sha256\"", "\"SHA256\"", -EOPNOTSUPP, "'tpm2-pcr-bank'" },
	{ "bank number", "\"sha256\"", "11", -EBADMSG, "'tpm2-pcr-bank' is not a string" },
	{ "pcr 24", "[7]", "[24]", -EBADMSG, "above 23" },
	{ "pcr negative", "[7]", "[-1]", -EBADMSG, "not a PCR number" },
	{ "pcr string", "[7]", "[\"7\"]", -EBADMSG, "not a PCR number" },
	{ "pcr float", "[7]", "[7.0]", -EBADMSG, "not a PCR number" },
	{ "pcr huge", "[7]", "[123456789012345678901234567890]", -EBADMSG, "above 23" },
	{ "pcrs object", "[7]", "{}", -EBADMSG, "'tpm2-pcrs' is not an array" },
	{ "no pcrs", "\"tpm2-pcrs\":[7],", "", -EBADMSG, "'tpm2-pcrs' is missing" },
	{ "keyslot number", "[\"1\"]", "[1]", -EBADMSG, "'keyslots'" },
	{ "keyslot 32", "[\"1\"]", "[\"32\"]", -EBADMSG, "'keyslots'" },
	{ "keyslot sign", "[\"1\"]", "[\"-1\"]", -EBADMSG, "'keyslots'" },
	{ "keyslot empty", "[\"1\"]", "[]", -EBADMSG, "'keyslots'" },
	{ "keyslot twice", "[\"1\"]", "[\"1\",\"1\"]", -EBADMSG, "twice" },
	{ "no keyslots", "\"keyslots\":[\"1\"],", "", -EBADMSG, "'keyslots' is missing" },
	{ "pin string", "\"tpm2-pin\":false", "\"tpm2-pin\":\"false\"", -EBADMSG, "'tpm2-pin' is not a boolean" },
	{ "blob not base64", BLOB_PCR7_PREFIX, BLOB_PCR7_PREFIX "!", -EBADMSG, "not valid base64" },
	{ "blob whitespace", BLOB_PCR7_PREFIX, BLOB_PCR7_PREFIX "\\n", -EBADMSG, "not valid base64" },
	{ "blob empty", "\"tpm2-blob\":\"AJ4", "\"tpm2-blob\":\"\",\"x\":\"AJ4", -EBADMSG, "'tpm2-blob' is empty" },
	{ "blob truncated", BLOB_PCR7_PREFIX "AJ4", BLOB_PCR7_PREFIX "AAAA\",\"x\":\"AJ4", -EBADMSG, "TPM2B_PRIVATE" },
	{ "blob number", BLOB_PCR7_PREFIX "AJ4", "\"tpm2-blob\":1,\"x\":\"AJ4", -EBADMSG, "'tpm2-blob' is not a string" },
	{ "no blob", BLOB_PCR7_PREFIX "AJ4", "\"x\":\"AJ4", -EBADMSG, "'tpm2-blob' is missing" },
	{ "policy odd", "8b5682d8", "b5682d8", -EBADMSG, "hexadecimal" },
	{ "policy other", "8b5682d8", "8b5682d9", -EBADMSG, "authPolicy" },
	{ "policy short", "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b", "8b5682d8", -EBADMSG, "authPolicy" },
	{ "policy empty", "8b5682d81b29435d08d79278150611dc7e5923b2fefcce684a09577b40130a8b", "", -EBADMSG, "hexadecimal" },
	{ "policy bad hex", "8b5682d8", "zz5682d8", -EBADMSG, "hexadecimal" },
	{ "policy too long", "8b5682d8", "8b5682d8" "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", -E2BIG, "longer" },
	{ "no policy", "\"tpm2-policy-hash\":", "\"x\":", -EBADMSG, "'tpm2-policy-hash' is missing" },
	{ "pubkey pcrs only", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2_pubkey_pcrs\":[11]", -EBADMSG, "'tpm2_pubkey' is missing" },
	{ "srk short", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2_srk\":\"gQA=\"", -EBADMSG, "too short" },
	{ "srk transient", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2_srk\":\"gAAAAQ==\"", -EBADMSG, "persistent handle" },
	{ "salt bad", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2_salt\":\"a b\"", -EBADMSG, "'tpm2_salt'" },
	{ "duplicate key", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2-pin\":true", -EBADMSG, "duplicate key" },
	{ "duplicate escaped", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2\\u002dpin\":true", -EBADMSG, "duplicate key" },
	{ "trailing garbage", "\"tpm2-pin\":false}", "\"tpm2-pin\":false}x", -EBADMSG, "trailing data" },
	{ "two objects", "\"tpm2-pin\":false}", "\"tpm2-pin\":false}{}", -EBADMSG, "trailing data" },
	{ "invalid utf8", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"x\":\"\xc0\xaf\"", -EBADMSG, "invalid UTF-8" },
	{ "lone surrogate", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"x\":\"\\ud800\"", -EBADMSG, "invalid UTF-8" },
	{ "not an object", "{\"type\"", "[{\"type\"", -EBADMSG, "syntax" },
	{ "unknown field", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2_future\":{\"a\":[1,2]}", 0, "" },
	{ "whitespace", "\"tpm2-pin\":false", " \"tpm2-pin\" :\n false ", 0, "" },
	{ "pcr duplicates", "[7]", "[7,7]", 0, "" },
	{ "pcrlock false", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2_pcrlock\":false", 0, "" },
	{ "escaped slash", "/vQ+UZ", "\\/vQ+UZ", 0, "" },
	{ "escaped letter", BLOB_PCR7_PREFIX "AJ4", BLOB_PCR7_PREFIX "\\u0041J4", 0, "" },
	{ "pcrlock string", "\"tpm2-pin\":false", "\"tpm2-pin\":false,\"tpm2_pcrlock\":\"yes\"", -EBADMSG, "not a boolean" },
};

START_TEST(test_edits)
{
	char reason[TPM2_TOKEN_REASON_MAX], *json, *edited, *at;
	struct tpm2_token *t = malloc(sizeof(*t));
	size_t len;
	int r;

	json = read_fixture("pcr7.json", &len);
	at = strstr(json, edits[_i].from);
	ck_assert_msg(at != NULL, "%s: '%s' not in fixture", edits[_i].name, edits[_i].from);
	edited = calloc(1, len + strlen(edits[_i].to) + 1);
	memcpy(edited, json, (size_t)(at - json));
	strcat(edited, edits[_i].to);
	strcat(edited, at + strlen(edits[_i].from));
	r = tpm2_token_parse(edited, strlen(edited), t, reason);
	ck_assert_msg(r == edits[_i].r, "%s: %d, want %d (%s)", edits[_i].name, r, edits[_i].r, reason);
	ck_assert_msg(strstr(reason, edits[_i].reason), "%s: reason '%s'", edits[_i].name, reason);
	ck_assert_uint_lt(strlen(reason), TPM2_TOKEN_REASON_MAX);
	free(edited);
	free(json);
	free(t);
}
END_TEST

START_TEST(test_hostile)
{
	char reason[TPM2_TOKEN_REASON_MAX], *big;
	struct tpm2_token *t = malloc(sizeof(*t));
	size_t n = TPM2_TOKEN_JSON_MAX + 1;

	/* Deep nesting: refused by the depth bound, before the stack notices. */
	big = malloc(n + 1);
	memset(big, '[', n);
	big[n] = '\0';
	ck_assert_int_eq(tpm2_token_parse(big, 10000, t, reason), -EBADMSG);
	ck_assert_ptr_nonnull(strstr(reason, "nested too deeply"));
	/* Too long. */
	ck_assert_int_eq(tpm2_token_parse(big, n, t, reason), -E2BIG);
	/* Many values: more than the node bound. */
	{
		size_t o = 0;

		o += (size_t)sprintf(big + o, "{\"type\":\"systemd-tpm2\",\"x\":[");
		for (int i = 0; i < 1000; i++)
			o += (size_t)sprintf(big + o, "%s0", i ? "," : "");
		o += (size_t)sprintf(big + o, "]}");
		ck_assert_int_eq(tpm2_token_parse(big, o, t, reason), -EBADMSG);
		ck_assert_ptr_nonnull(strstr(reason, "too large"));
	}
	ck_assert_int_eq(tpm2_token_parse("", 0, t, reason), -EBADMSG);
	ck_assert_int_eq(tpm2_token_parse("null", 4, t, reason), -EBADMSG);
	ck_assert_int_eq(tpm2_token_parse("{\"type\":\"systemd-tpm2\"}\0", 24, t, reason), -EBADMSG);
	free(big);
	free(t);
}
END_TEST

/* ---- blob ---- */

START_TEST(test_blob_bounds)
{
	uint8_t b[16] = { 0 };
	struct tpm2_blob p;

	ck_assert_int_eq(tpm2_blob_split(b, 0, &p), -EBADMSG);
	ck_assert_int_eq(tpm2_blob_split(b, 1, &p), -EBADMSG);
	b[1] = 1; /* private: 1 byte */
	ck_assert_int_eq(tpm2_blob_split(b, 3, &p), -EBADMSG);  /* no public */
	b[4] = 10; /* public: 10 bytes, the minimum header with an empty authPolicy */
	ck_assert_int_eq(tpm2_blob_split(b, 15, &p), 0);
	ck_assert_uint_eq(p.private_size, 3);
	ck_assert_uint_eq(p.public_offset, 3);
	ck_assert_uint_eq(p.public_size, 12);
	ck_assert_uint_eq(p.auth_policy_size, 0);
	ck_assert_int_eq(tpm2_blob_split(b, 14, &p), -EBADMSG); /* public runs past the end */
	ck_assert_int_eq(tpm2_blob_split(b, 16, &p), -EBADMSG); /* a byte left over */
	b[14] = 1; /* authPolicy of 1 byte in a 10-byte area */
	ck_assert_int_eq(tpm2_blob_split(b, 15, &p), -EBADMSG);
	b[14] = 0;
	b[4] = 9; /* too short for the header */
	ck_assert_int_eq(tpm2_blob_split(b, 14, &p), -EBADMSG);
	b[1] = 0; /* empty private */
	ck_assert_int_eq(tpm2_blob_split(b, 14, &p), -EBADMSG);
	b[0] = 0xff; b[1] = 0xff; /* larger than any TPM2B_PRIVATE */
	ck_assert_int_eq(tpm2_blob_split(b, 16, &p), -EBADMSG);
	ck_assert_int_eq(tpm2_blob_split(NULL, 16, &p), -EINVAL);
}
END_TEST

START_TEST(test_blob_limits_match_tss2)
{
	TPM2B_PRIVATE priv;

	ck_assert_uint_eq(TPM2B_PRIVATE_MAX, sizeof(priv.buffer));
	ck_assert_uint_eq(TPM2B_PUBLIC_MAX, sizeof(TPMT_PUBLIC));
	ck_assert_uint_eq(TPM2_BLOB_TYPE_KEYEDHASH, TPM2_ALG_KEYEDHASH);
	ck_assert_uint_eq(TPM2_BLOB_ATTR_FIXEDTPM, TPMA_OBJECT_FIXEDTPM);
	ck_assert_uint_eq(TPM2_BLOB_ATTR_FIXEDPARENT, TPMA_OBJECT_FIXEDPARENT);
}
END_TEST

/* ---- derivations ---- */

START_TEST(test_pin_auth)
{
	char reason[TPM2_TOKEN_REASON_MAX], hex[65];
	struct tpm2_token *t;
	uint8_t auth[32];
	int r;

	/* No salt (systemd 252): authValue = SHA-256(PIN). */
	t = parse_fixture("pin-pcr0-7.json", &r, reason);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(tpm2_token_pin_auth(t, "1234", 4, auth), 0);
	hex_encode(auth, 32, hex, sizeof(hex));
	ck_assert_str_eq(hex, "03ac674216f3e15c761ee1a5e255f067953623c8b388b4459e13f978d7c846f4");
	ck_assert_int_eq(tpm2_token_pin_auth(t, "", 0, auth), -EINVAL);
	free(t);

	/* Salted (systemd >= 254): SHA-256(base64(PBKDF2-HMAC-SHA256(PIN, salt, 10000, 32))),
	 * expected value from Python's hashlib. */
	t = parse_fixture("hand-srk-salt-pin.json", &r, reason);
	ck_assert_int_eq(r, 0);
	ck_assert_int_eq(tpm2_token_pin_auth(t, "1234", 4, auth), 0);
	hex_encode(auth, 32, hex, sizeof(hex));
	ck_assert_str_eq(hex, "6484308d87c483f7baf8679cea0cc14c0b2aa24d6d00c35bea332b6f7e175064");
	free(t);
}
END_TEST

START_TEST(test_passphrase)
{
	uint8_t secret[TPM2_SECRET_SIZE];
	char pass[64];

	for (size_t i = 0; i < sizeof(secret); i++)
		secret[i] = (uint8_t)i;
	ck_assert_int_eq(tpm2_token_passphrase(secret, sizeof(secret), pass, sizeof(pass)), 44);
	ck_assert_str_eq(pass, "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=");
	ck_assert_int_eq(tpm2_token_passphrase(secret, sizeof(secret), pass, 44), -E2BIG);
}
END_TEST

Suite *tpm2_token_suite(void)
{
	Suite *s = suite_create("tpm2_token");
	TCase *tc = tcase_create("token"), *blob = tcase_create("blob");

	tcase_add_loop_test(tc, test_valid, 0, N(valid));
	tcase_add_test(tc, test_signed_policy_pubkey);
	tcase_add_loop_test(tc, test_refused_files, 0, N(refused_files));
	tcase_add_loop_test(tc, test_edits, 0, N(edits));
	tcase_add_test(tc, test_hostile);
	tcase_add_test(tc, test_pin_auth);
	tcase_add_test(tc, test_passphrase);
	suite_add_tcase(s, tc);
	tcase_add_test(blob, test_blob_bounds);
	tcase_add_test(blob, test_blob_limits_match_tss2);
	suite_add_tcase(s, blob);
	return s;
}
