/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Base64: RFC 4648 section 10 vectors both ways, and everything non-canonical refused. */
#include <errno.h>
#include <string.h>

#include "edgeinit/base64.h"
#include "suites.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct {
	const char *plain;
	const char *encoded;
} rfc4648[] = {
	{ "", "" },         { "f", "Zg==" },         { "fo", "Zm8=" },        { "foo", "Zm9v" },
	{ "foob", "Zm9vYg==" }, { "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
};

START_TEST(test_rfc4648)
{
	char enc[64];
	uint8_t dec[64];
	size_t n = strlen(rfc4648[_i].plain);

	ck_assert_int_eq(base64_encode(rfc4648[_i].plain, n, enc, sizeof(enc)),
			 (int)strlen(rfc4648[_i].encoded));
	ck_assert_str_eq(enc, rfc4648[_i].encoded);
	ck_assert_int_eq(base64_decode(rfc4648[_i].encoded, strlen(rfc4648[_i].encoded), dec, sizeof(dec)),
			 (int)n);
	ck_assert(memcmp(dec, rfc4648[_i].plain, n) == 0);
}
END_TEST

START_TEST(test_all_bytes_roundtrip)
{
	uint8_t in[256], out[256];
	char enc[BASE64_ENCODED_LEN(256) + 1];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	for (size_t len = 0; len <= sizeof(in); len++) {
		int n = base64_encode(in, len, enc, sizeof(enc));

		ck_assert_int_eq(n, (int)BASE64_ENCODED_LEN(len));
		ck_assert_int_eq(base64_decode(enc, (size_t)n, out, sizeof(out)), (int)len);
		ck_assert(memcmp(in, out, len) == 0);
	}
	/* The unsealed 32-byte secret gives a 44-character passphrase. */
	ck_assert_int_eq(base64_encode(in, 32, enc, sizeof(enc)), 44);
}
END_TEST

static const char *const rejects[] = {
	"Zg",         /* length not a multiple of 4 */
	"Zg=",        /* ditto */
	"Zg===",      /* ditto */
	"====",       /* only padding */
	"Z===",       /* three pad characters */
	"Zg=a",       /* data after padding */
	"Zm9v Yg==",  /* whitespace */
	"Zm9v\nYg==", /* line break */
	"Zm9vYg=\n",  /* ditto */
	"Zm9-",       /* URL-safe alphabet */
	"Zm9_",       /* ditto */
	"Zh==",       /* non-zero bits under the padding: 'h' = 33 has low bits set */
	"Zm9=",       /* ditto for one pad */
	"Zg==Zg==",   /* padding in the middle */
	"Zm\xc3\xa9", /* non-ASCII */
};

START_TEST(test_rejects)
{
	uint8_t out[64];

	ck_assert_int_eq(base64_decode(rejects[_i], strlen(rejects[_i]), out, sizeof(out)), -EINVAL);
}
END_TEST

START_TEST(test_embedded_nul)
{
	uint8_t out[8];

	ck_assert_int_eq(base64_decode("Zm\0v", 4, out, sizeof(out)), -EINVAL);
}
END_TEST

START_TEST(test_sizes)
{
	char enc[8];
	uint8_t out[2];

	ck_assert_int_eq(base64_encode("foo", 3, enc, 4), -E2BIG); /* no room for the NUL */
	ck_assert_int_eq(base64_encode("foo", 3, enc, 5), 4);
	ck_assert_int_eq(base64_decode("Zm9v", 4, out, sizeof(out)), -E2BIG);
	ck_assert_int_eq(base64_decode("Zm8=", 4, out, sizeof(out)), 2);
	ck_assert_int_eq(base64_decode("", 0, out, 0), 0);
}
END_TEST

Suite *base64_suite(void)
{
	Suite *s = suite_create("base64");
	TCase *tc = tcase_create("base64");

	tcase_add_loop_test(tc, test_rfc4648, 0, N(rfc4648));
	tcase_add_test(tc, test_all_bytes_roundtrip);
	tcase_add_loop_test(tc, test_rejects, 0, N(rejects));
	tcase_add_test(tc, test_embedded_nul);
	tcase_add_test(tc, test_sizes);
	suite_add_tcase(s, tc);
	return s;
}
