/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "edgeinit/strutil.h"
#include "suites.h"

/* ---- str_copy / str_copy_n ---- */

static const struct {
	const char *src;
	size_t n;
	int ret;
	const char *dst;
} copy_cases[] = {
	{ "hello", 16, 0, "hello" },
	{ "hello", 6, 0, "hello" },       /* exactly fits with the NUL */
	{ "hello", 5, -E2BIG, "hell" },   /* one byte short: truncated, still terminated */
	{ "hello", 2, -E2BIG, "h" },
	{ "hello", 1, -E2BIG, "" },
	{ "", 1, 0, "" },
	{ "", 8, 0, "" },
};

START_TEST(test_str_copy_table)
{
	char buf[32];

	memset(buf, 'X', sizeof(buf));
	ck_assert_int_eq(str_copy(buf, copy_cases[_i].n, copy_cases[_i].src), copy_cases[_i].ret);
	ck_assert_str_eq(buf, copy_cases[_i].dst);
	/* Nothing written past n. */
	ck_assert_int_eq(buf[copy_cases[_i].n], 'X');
}
END_TEST

START_TEST(test_str_copy_zero_size)
{
	char buf[4] = "abc";

	ck_assert_int_eq(str_copy(buf, 0, "x"), -EINVAL);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(str_copy_n(buf, 0, "x", 1), -EINVAL);
	ck_assert_str_eq(buf, "abc");
}
END_TEST

START_TEST(test_str_copy_n)
{
	char buf[8];

	ck_assert_int_eq(str_copy_n(buf, sizeof(buf), "abcdef", 3), 0);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(str_copy_n(buf, sizeof(buf), "abcdef", 0), 0);
	ck_assert_str_eq(buf, "");
	/* len counts bytes, not a string: src need not be terminated at len. */
	ck_assert_int_eq(str_copy_n(buf, sizeof(buf), "key=value", 3), 0);
	ck_assert_str_eq(buf, "key");
	ck_assert_int_eq(str_copy_n(buf, sizeof(buf), "0123456789", 8), -E2BIG);
	ck_assert_str_eq(buf, "0123456");
	ck_assert_int_eq(str_copy_n(buf, sizeof(buf), "0123456789", 7), 0);
	ck_assert_str_eq(buf, "0123456");
}
END_TEST

/* ---- hex ---- */

static const struct {
	const char *hex;
	size_t out_size;
	int ret;
	size_t n;
	const uint8_t bytes[8];
} hex_cases[] = {
	{ "", 8, 0, 0, { 0 } },
	{ "00", 8, 1, 1, { 0x00 } },
	{ "ff", 8, 1, 1, { 0xff } },
	{ "FF", 8, 1, 1, { 0xff } },
	{ "aB09", 8, 2, 2, { 0xab, 0x09 } },
	{ "0123456789abcdef", 8, 8, 8, { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } },
	{ "0123456789ABCDEF", 8, 8, 8, { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef } },
	{ "0", 8, -EINVAL, 0, { 0 } },          /* odd length */
	{ "abc", 8, -EINVAL, 0, { 0 } },        /* odd length */
	{ "0g", 8, -EINVAL, 0, { 0 } },         /* bad digit */
	{ "g0", 8, -EINVAL, 0, { 0 } },
	{ "0x12", 8, -EINVAL, 0, { 0 } },
	{ " 1", 8, -EINVAL, 0, { 0 } },
	{ "1234", 1, -E2BIG, 0, { 0 } },        /* does not fit */
	{ "1234", 2, 2, 2, { 0x12, 0x34 } },    /* fits exactly */
};

START_TEST(test_hex_decode_table)
{
	uint8_t out[8] = { 0 };

	ck_assert_int_eq(hex_decode(hex_cases[_i].hex, out, hex_cases[_i].out_size), hex_cases[_i].ret);
	if (hex_cases[_i].ret >= 0)
		ck_assert_mem_eq(out, hex_cases[_i].bytes, hex_cases[_i].n);
}
END_TEST

START_TEST(test_hex_encode)
{
	const uint8_t in[] = { 0x00, 0x01, 0x7f, 0x80, 0xab, 0xff };
	char out[13];
	char small[12];

	ck_assert_int_eq(hex_encode(in, sizeof(in), out, sizeof(out)), 12);
	ck_assert_str_eq(out, "00017f80abff");
	ck_assert_int_eq(hex_encode(in, sizeof(in), small, sizeof(small)), -E2BIG);
	ck_assert_int_eq(hex_encode(in, 0, out, 1), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(hex_encode(in, 0, out, 0), -E2BIG);
}
END_TEST

START_TEST(test_hex_roundtrip)
{
	uint8_t in[256], back[256];
	char hex[513];

	for (size_t i = 0; i < sizeof(in); i++)
		in[i] = (uint8_t)i;
	ck_assert_int_eq(hex_encode(in, sizeof(in), hex, sizeof(hex)), 512);
	ck_assert_int_eq(hex_decode(hex, back, sizeof(back)), 256);
	ck_assert_mem_eq(in, back, sizeof(in));
}
END_TEST

/* ---- parse_uint ---- */

static const struct {
	const char *s;
	unsigned long long max;
	int ret;
	unsigned long long value;
} uint_cases[] = {
	{ "0", 10, 0, 0 },
	{ "7", 10, 0, 7 },
	{ "10", 10, 0, 10 },
	{ "11", 10, -ERANGE, 0 },
	{ "007", 10, 0, 7 },
	{ "86400", 86400, 0, 86400 },
	{ "86401", 86400, -ERANGE, 0 },
	{ "18446744073709551615", 18446744073709551615ULL, 0, 18446744073709551615ULL },
	{ "18446744073709551616", 18446744073709551615ULL, -ERANGE, 0 },
	{ "99999999999999999999999", 18446744073709551615ULL, -ERANGE, 0 },
	{ "", 10, -EINVAL, 0 },
	{ "-1", 10, -EINVAL, 0 },
	{ "+1", 10, -EINVAL, 0 },
	{ " 1", 10, -EINVAL, 0 },
	{ "1 ", 10, -EINVAL, 0 },
	{ "1a", 10, -EINVAL, 0 },
	{ "0x10", 100, -EINVAL, 0 },
	{ "1.5", 10, -EINVAL, 0 },
	/* A digit larger than max must not wrap "max - digit" (regression). */
	{ "5", 3, -ERANGE, 0 },
	{ "9", 0, -ERANGE, 0 },
	{ "0", 0, 0, 0 },
	{ "3", 3, 0, 3 },
};

START_TEST(test_parse_uint_table)
{
	unsigned long long v = 12345;
	int r = parse_uint(uint_cases[_i].s, uint_cases[_i].max, &v);

	ck_assert_msg(r == uint_cases[_i].ret, "parse_uint(\"%s\", %llu) = %d (value %llu), expected %d",
		      uint_cases[_i].s, uint_cases[_i].max, r, v, uint_cases[_i].ret);
	if (r == 0)
		ck_assert_uint_eq(v, uint_cases[_i].value);
	else
		ck_assert_uint_eq(v, 12345); /* untouched on failure */
}
END_TEST

START_TEST(test_parse_uint_null)
{
	unsigned long long v;

	ck_assert_int_eq(parse_uint(NULL, 10, &v), -EINVAL);
}
END_TEST

/* ---- str_startswith ---- */

START_TEST(test_str_startswith)
{
	const char *s = "PARTLABEL=rootfs";

	ck_assert_ptr_eq(str_startswith(s, "PARTLABEL="), s + 10);
	ck_assert_str_eq(str_startswith(s, "PART"), "LABEL=rootfs");
	ck_assert_ptr_eq(str_startswith(s, ""), s);
	ck_assert_ptr_eq(str_startswith(s, s), s + strlen(s));
	ck_assert_ptr_null(str_startswith(s, "LABEL="));
	ck_assert_ptr_null(str_startswith(s, "partlabel="));
	ck_assert_ptr_null(str_startswith("PART", "PARTLABEL="));
	ck_assert_ptr_null(str_startswith("", "x"));
}
END_TEST

START_TEST(test_str_endswith)
{
	ck_assert(str_endswith("kernel/fs/ext4/ext4.ko.zst", ".ko.zst"));
	ck_assert(str_endswith(".ko.zst", ".ko.zst"));
	ck_assert(str_endswith("ext4.ko", ""));
	ck_assert(!str_endswith("kernel/fs/ext4/ext4.ko", ".ko.zst"));
	ck_assert(!str_endswith("ko.zst", ".ko.zst"));
	ck_assert(!str_endswith("ext4.ko.zst.bak", ".ko.zst"));
	ck_assert(!str_endswith("", ".zst"));
}
END_TEST

Suite *strutil_suite(void)
{
	Suite *s = suite_create("strutil");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_str_copy_table, 0, (int)(sizeof(copy_cases) / sizeof(copy_cases[0])));
	tcase_add_test(tc, test_str_copy_zero_size);
	tcase_add_test(tc, test_str_copy_n);
	tcase_add_loop_test(tc, test_hex_decode_table, 0, (int)(sizeof(hex_cases) / sizeof(hex_cases[0])));
	tcase_add_test(tc, test_hex_encode);
	tcase_add_test(tc, test_hex_roundtrip);
	tcase_add_loop_test(tc, test_parse_uint_table, 0, (int)(sizeof(uint_cases) / sizeof(uint_cases[0])));
	tcase_add_test(tc, test_parse_uint_null);
	tcase_add_test(tc, test_str_startswith);
	tcase_add_test(tc, test_str_endswith);
	suite_add_tcase(s, tc);
	return s;
}
