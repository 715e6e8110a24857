/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Measurements: phase digests per bank (checked against Python's hashlib, run here when python3
 * exists, and against fixed values), PCR 11 after enter-initrd and leave-initrd, the volume-key
 * latch and its description escaping, and the tpm2-measure.log record. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/measure.h"
#include "edgeinit/strutil.h"
#include "suites.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void hex_of(const uint8_t *d, size_t n, char *out)
{
	ck_assert_int_ge(hex_encode(d, n, out, 2 * n + 1), 0);
}

static const struct {
	enum hash_alg alg;
	const char *word;
	const char *digest;
} phase_digests[] = {
	{ HASH_SHA1, "enter-initrd", "b1b01d5f73f321eb70e76f8a0e241ac0a3fa4a6e" },
	{ HASH_SHA1, "leave-initrd", "865e1ff2cc5b8db815313b23fe3d8b561212f5d1" },
	{ HASH_SHA256, "enter-initrd", "51e6b92f405d1f98d96e3de343d61d420ad6923b25de21d766f9298192f14fed" },
	{ HASH_SHA256, "leave-initrd", "3be261aff7db92bf507eae947f4003ffa2bcad0bffe3524601d62d0bc8be7135" },
	{ HASH_SHA384, "enter-initrd", "687eef3a3a8c716439b5ed583657e8668401630c321f2f35d19b953ddf20b68a96474d0c2e5f0e1757bfa5ba70b9fc32" },
	{ HASH_SHA512, "enter-initrd", "ab0ddfdabe43f1d06b3e58fbe17439a0f7f552e9e228d85665d485ececf7e733bae4cd7e0a17e5456e2ee7e412f5a0f37de05a782cce781e173ee26958de7f30" },
};

START_TEST(test_phase_digest)
{
	uint8_t d[HASH_MAX_DIGEST_SIZE];
	char hex[2 * HASH_MAX_DIGEST_SIZE + 1];

	measure_string_digest(phase_digests[_i].alg, phase_digests[_i].word, d);
	hex_of(d, hash_digest_size(phase_digests[_i].alg), hex);
	ck_assert_str_eq(hex, phase_digests[_i].digest);
}
END_TEST

/* The same digests computed by an independent implementation, now. */
START_TEST(test_phase_digest_python)
{
	FILE *p;
	char line[256];

	p = popen("python3 -c 'import hashlib\n"
		  "for a in (\"sha1\",\"sha256\",\"sha384\",\"sha512\"):\n"
		  " for w in (\"enter-initrd\",\"leave-initrd\",\"sysinit\",\"ready\",\"shutdown\",\"final\"):\n"
		  "  print(a, w, hashlib.new(a, w.encode()).hexdigest())' 2>/dev/null",
		  "r");
	if (!p || !fgets(line, sizeof(line), p)) {
		if (p)
			pclose(p);
		fprintf(stderr, "test_phase_digest_python: SKIPPED, python3 not available\n");
		return;
	}
	do {
		char alg[16], word[32], want[160], got[160];
		enum hash_alg a;
		uint8_t d[HASH_MAX_DIGEST_SIZE];

		ck_assert_int_eq(sscanf(line, "%15s %31s %159s", alg, word, want), 3);
		ck_assert_int_eq(hash_alg_from_string(alg, &a), 0);
		measure_string_digest(a, word, d);
		hex_of(d, hash_digest_size(a), got);
		ck_assert_msg(strcmp(got, want) == 0, "%s %s: %s != %s", alg, word, got, want);
	} while (fgets(line, sizeof(line), p));
	ck_assert_int_eq(pclose(p), 0);
}
END_TEST

START_TEST(test_phases)
{
	static const char *const want[] = { "enter-initrd", "leave-initrd", "sysinit", "ready", "shutdown", "final" };

	for (size_t i = 0; i < N(want); i++)
		ck_assert_str_eq(measure_phase_to_string((enum measure_phase)i), want[i]);
	ck_assert_ptr_null(measure_phase_to_string(_MEASURE_PHASE_MAX));
	ck_assert_str_eq(measure_event_type_to_string(MEASURE_EVENT_PHASE), "phase");
	ck_assert_str_eq(measure_event_type_to_string(MEASURE_EVENT_VOLUME_KEY), "volume-key");
	ck_assert_ptr_null(measure_event_type_to_string(MEASURE_EVENT_NONE));
}
END_TEST

START_TEST(test_pcr11_sequence)
{
	uint8_t pcr[32] = { 0 }, d[32];
	char hex[65];

	measure_string_digest(HASH_SHA256, "enter-initrd", d);
	measure_pcr_extend(HASH_SHA256, pcr, d);
	hex_of(pcr, 32, hex);
	ck_assert_str_eq(hex, "d15b0e8e244e65c40f024e95773f2347ce4ef3ffe6b597c9a14b50bbab6df319");
	measure_string_digest(HASH_SHA256, "leave-initrd", d);
	measure_pcr_extend(HASH_SHA256, pcr, d);
	hex_of(pcr, 32, hex);
	ck_assert_str_eq(hex, "75df9c8b17d8a6465f2862028b892ea13a3d7c37685a945e5ff34fb44956c207");
}
END_TEST

static const struct {
	const char *name;
	const char *uuid;
	int r;
	const char *description;
} descriptions[] = {
	{ "edge_persistent", "b9b31a4f-7610-4c64-96e2-ce167fac2b30", 63,
	  "cryptsetup:edge_persistent:b9b31a4f-7610-4c64-96e2-ce167fac2b30" },
	{ "a:b\\c\n", "u", 28, "cryptsetup:a\\x3ab\\x5cc\\x0a:u" },
	{ "caf\xc3\xa9", "u", 24, "cryptsetup:caf\\xc3\\xa9:u" },
	{ "x\x7f", "", 17, "cryptsetup:x\\x7f:" },
	{ "", "u", -EINVAL, NULL },
};

START_TEST(test_volume_key_description)
{
	char buf[128];

	ck_assert_int_eq(measure_volume_key_description(descriptions[_i].name, descriptions[_i].uuid, buf, sizeof(buf)),
			 descriptions[_i].r);
	if (descriptions[_i].description)
		ck_assert_str_eq(buf, descriptions[_i].description);
}
END_TEST

START_TEST(test_volume_key_digest)
{
	static const struct {
		enum hash_alg alg;
		const char *digest;
	} want[] = {
		{ HASH_SHA1, "d55641df0a7087ad3ca422c0bbdc056e662e872a" },
		{ HASH_SHA256, "ed46681b0366023606d6a0bf6e25a0d51b5318f41ba9bd5669f168d5b2a63fd9" },
		{ HASH_SHA384, "e4ea695c80de83aa2ce873092ee02fbc3ac5005209931e8c1fe91caae73913fb47986852d48984859fed30fbb519eded" },
		{ HASH_SHA512, "425c5a08cfc082234bdfde9917effc92cb2e63bcf052155ceb12f1e039f9f20398e738002928ecc4cb7ce0c0fb6b133b51dfcc9ddbbe46bced80b15b320f5d04" },
	};
	uint8_t vk[64], d[HASH_MAX_DIGEST_SIZE];
	char hex[2 * HASH_MAX_DIGEST_SIZE + 1], small[8];

	for (size_t i = 0; i < sizeof(vk); i++)
		vk[i] = (uint8_t)i;
	/* Values from Python's hmac module over the same key and string. */
	for (size_t i = 0; i < N(want); i++) {
		ck_assert_int_eq(measure_volume_key_digest(want[i].alg, vk, sizeof(vk), "edge_persistent",
							   "b9b31a4f-7610-4c64-96e2-ce167fac2b30", d),
				 0);
		hex_of(d, hash_digest_size(want[i].alg), hex);
		ck_assert_str_eq(hex, want[i].digest);
	}
	ck_assert_int_eq(measure_volume_key_digest(HASH_SHA256, vk, sizeof(vk), "a:b\\c\n", "u", d), 0);
	hex_of(d, 32, hex);
	ck_assert_str_eq(hex, "95199c97a50f3ef4edf56f16d0f62993a4058bbacfc110b7b8503a4724de9419");
	ck_assert_int_eq(measure_volume_key_digest(HASH_SHA256, vk, 0, "n", "u", d), -EINVAL);
	ck_assert_int_eq(measure_volume_key_description("name", "uuid", small, sizeof(small)), -E2BIG);
}
END_TEST

START_TEST(test_log_record)
{
	struct measure_digest d[2] = { { .alg = HASH_SHA256 }, { .alg = HASH_SHA1 } };
	struct measure_record r = {
		.pcr = 11,
		.digests = d,
		.n_digests = 2,
		.description = "enter-initrd",
		.timestamp_usec = 1234567,
		.event_type = MEASURE_EVENT_PHASE,
	};
	char out[MEASURE_RECORD_MAX];

	measure_string_digest(HASH_SHA256, "enter-initrd", d[0].digest);
	measure_string_digest(HASH_SHA1, "enter-initrd", d[1].digest);
	for (size_t i = 0; i < 16; i++)
		r.boot_id[i] = (uint8_t)(0xa0 + i);
	ck_assert_int_gt(measure_log_record(&r, out, sizeof(out)), 0);
	ck_assert_str_eq(out,
			 "\x1e{\"pcr\":11,\"digests\":["
			 "{\"hashAlg\":\"sha256\",\"digest\":\"51e6b92f405d1f98d96e3de343d61d420ad6923b25de21d766f9298192f14fed\"},"
			 "{\"hashAlg\":\"sha1\",\"digest\":\"b1b01d5f73f321eb70e76f8a0e241ac0a3fa4a6e\"}],"
			 "\"content_type\":\"systemd\",\"content\":{\"string\":\"enter-initrd\","
			 "\"bootId\":\"a0a1a2a3a4a5a6a7a8a9aaabacadaeaf\",\"timestamp\":1234567,\"eventType\":\"phase\"}}\n");
	ck_assert_uint_eq(strlen(out), (size_t)measure_log_record(&r, out, sizeof(out)));

	/* Escaped description, no event type, no description. */
	r.n_digests = 1;
	r.description = "cryptsetup:a\\x3ab:\"q\"\t";
	r.event_type = MEASURE_EVENT_NONE;
	ck_assert_int_gt(measure_log_record(&r, out, sizeof(out)), 0);
	ck_assert_ptr_nonnull(strstr(out, "\"string\":\"cryptsetup:a\\\\x3ab:\\\"q\\\"\\t\","));
	ck_assert_ptr_null(strstr(out, "eventType"));
	r.description = NULL;
	ck_assert_int_gt(measure_log_record(&r, out, sizeof(out)), 0);
	ck_assert_ptr_null(strstr(out, "\"string\""));
	ck_assert_ptr_nonnull(strstr(out, "\"content\":{\"bootId\":"));

	/* Refusals. */
	r.description = "bad \xc0\xaf";
	ck_assert_int_eq(measure_log_record(&r, out, sizeof(out)), -EINVAL);
	r.description = "ok";
	ck_assert_int_eq(measure_log_record(&r, out, 40), -E2BIG);
	r.pcr = 24;
	ck_assert_int_eq(measure_log_record(&r, out, sizeof(out)), -EINVAL);
	r.pcr = 15;
	r.n_digests = 0;
	ck_assert_int_eq(measure_log_record(&r, out, sizeof(out)), -EINVAL);
}
END_TEST

/* Every record must be one RFC 7464 element: RS, one JSON text python can parse, LF. */
START_TEST(test_log_record_python)
{
	struct measure_digest d = { .alg = HASH_SHA384 };
	struct measure_record r = {
		.pcr = 15, .digests = &d, .n_digests = 1, .description = "cryptsetup:caf\xc3\xa9\\x0a:\x01",
		.timestamp_usec = UINT64_MAX, .event_type = MEASURE_EVENT_VOLUME_KEY,
	};
	char out[MEASURE_RECORD_MAX], cmd[MEASURE_RECORD_MAX + 256], line[256];
	FILE *p;
	int n;

	n = measure_log_record(&r, out, sizeof(out));
	ck_assert_int_gt(n, 0);
	ck_assert_int_eq(out[0], 0x1e);
	ck_assert_int_eq(out[n - 1], '\n');
	ck_assert_ptr_null(strchr(out + 1, 0x1e));
	ck_assert_ptr_eq(strchr(out, '\n'), out + n - 1);
	/* The record holds no single quote, so it can be quoted for the shell as is. */
	ck_assert_ptr_null(strchr(out, '\''));
	snprintf(cmd, sizeof(cmd),
		 "printf '%%s' '%s' | python3 -c 'import sys,json; s=sys.stdin.buffer.read(); "
		 "assert s[:1]==b\"\\x1e\" and s[-1:]==b\"\\n\"; v=json.loads(s[1:]); "
		 "print(v[\"pcr\"], v[\"content\"][\"eventType\"], v[\"content\"][\"timestamp\"], v[\"content\"][\"string\"].encode(\"utf-8\").hex())' 2>&1",
		 out);
	p = popen(cmd, "r");
	if (!p || !fgets(line, sizeof(line), p)) {
		if (p)
			pclose(p);
		fprintf(stderr, "test_log_record_python: SKIPPED, python3 not available\n");
		return;
	}
	pclose(p);
	ck_assert_str_eq(line, "15 volume-key 18446744073709551615 "
			       "637279707473657475703a636166c3a95c7830613a01\n");
}
END_TEST

Suite *measure_suite(void)
{
	Suite *s = suite_create("measure");
	TCase *tc = tcase_create("measure");

	tcase_add_loop_test(tc, test_phase_digest, 0, N(phase_digests));
	tcase_add_test(tc, test_phase_digest_python);
	tcase_add_test(tc, test_phases);
	tcase_add_test(tc, test_pcr11_sequence);
	tcase_add_loop_test(tc, test_volume_key_description, 0, N(descriptions));
	tcase_add_test(tc, test_volume_key_digest);
	tcase_add_test(tc, test_log_record);
	tcase_add_test(tc, test_log_record_python);
	suite_add_tcase(s, tc);
	return s;
}
