/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "edgeinit/efivar.h"
#include "suites.h"

/* An efivarfs file: attributes, then s as UTF-16LE with its NUL (or without, nul == 0). */
static size_t efivar_file(uint8_t *buf, uint32_t attr, const char *s, int nul)
{
	size_t n = 0;

	buf[n++] = attr & 0xff;
	buf[n++] = (attr >> 8) & 0xff;
	buf[n++] = (attr >> 16) & 0xff;
	buf[n++] = attr >> 24;
	for (size_t i = 0; i < strlen(s) + (nul ? 1 : 0); i++) {
		buf[n++] = (uint8_t)s[i];
		buf[n++] = 0;
	}
	return n;
}

START_TEST(test_efivar_decodes_the_loader_uuid)
{
	uint8_t buf[256];
	uint32_t attr = 0;
	char out[37];
	size_t n = efivar_file(buf, 6, "E3700000-0001-4000-8000-00000000000A", 1);

	ck_assert_uint_eq(n, EFIVAR_UUID_FILE_SIZE);
	memset(out, 'X', sizeof(out));
	ck_assert_int_eq(efivar_decode_uuid(buf, n, &attr, out), 0);
	ck_assert_str_eq(out, "e3700000-0001-4000-8000-00000000000a");
	ck_assert_uint_eq(attr, EFI_VARIABLE_BOOTSERVICE_ACCESS | EFI_VARIABLE_RUNTIME_ACCESS);
	/* Non-volatile (planted from a running system) still decodes: the caller judges it. */
	n = efivar_file(buf, 0x80000007, "6f0e6c0a-0e1d-4b1f-9c1b-000000000001", 1);
	ck_assert_int_eq(efivar_decode_uuid(buf, n, &attr, out), 0);
	ck_assert_str_eq(out, "6f0e6c0a-0e1d-4b1f-9c1b-000000000001");
	ck_assert_uint_eq(attr, 0x80000007);
	ck_assert_int_eq(efivar_decode_uuid(buf, n, NULL, out), 0);
}
END_TEST

static const struct {
	const char *why;
	const char *s;
	int nul;
} bad_cases[] = {
	{ "empty", "", 1 },
	{ "no NUL", "e3700000-0001-4000-8000-00000000000a", 0 },
	{ "short", "e3700000-0001-4000-8000-00000000000", 1 },
	{ "long", "e3700000-0001-4000-8000-00000000000aa", 1 },
	{ "no dashes", "e37000000001400080000000000000000a0000", 1 },
	{ "dash moved", "e370000-00001-4000-8000-00000000000a", 1 },
	{ "not hex", "g3700000-0001-4000-8000-00000000000a", 1 },
	{ "braces", "{3700000-0001-4000-8000-00000000000}", 1 },
	{ "space", " 3700000-0001-4000-8000-00000000000a", 1 },
	{ "path", "../../../etc/passwd-0001-4000-8000-00", 1 },
};

START_TEST(test_efivar_rejects_malformed)
{
	uint8_t buf[256];
	char out[37] = "untouched";
	uint32_t attr = 42;
	size_t n = efivar_file(buf, 6, bad_cases[_i].s, bad_cases[_i].nul);

	ck_assert_msg(efivar_decode_uuid(buf, n, &attr, out) == -EBADMSG, "accepted: %s", bad_cases[_i].why);
	ck_assert_str_eq(out, "untouched");
	ck_assert_uint_eq(attr, 42);
}
END_TEST

START_TEST(test_efivar_rejects_bad_encoding)
{
	uint8_t buf[256];
	char out[37];
	size_t n = efivar_file(buf, 6, "e3700000-0001-4000-8000-00000000000a", 1);

	/* A high byte set: not ASCII, whatever the low byte says. */
	buf[4 + 2 * 3 + 1] = 0x01;
	ck_assert_int_eq(efivar_decode_uuid(buf, n, NULL, out), -EBADMSG);
	buf[4 + 2 * 3 + 1] = 0;
	ck_assert_int_eq(efivar_decode_uuid(buf, n, NULL, out), 0);
	/* A non-zero high byte in the terminator. */
	buf[n - 1] = 0x30;
	ck_assert_int_eq(efivar_decode_uuid(buf, n, NULL, out), -EBADMSG);
	buf[n - 1] = 0;
	/* Bytes after the NUL, an odd length, attributes only, nothing. */
	buf[n] = 0;
	buf[n + 1] = 0;
	ck_assert_int_eq(efivar_decode_uuid(buf, n + 2, NULL, out), -EBADMSG);
	ck_assert_int_eq(efivar_decode_uuid(buf, n + 1, NULL, out), -EBADMSG);
	ck_assert_int_eq(efivar_decode_uuid(buf, n - 1, NULL, out), -EBADMSG);
	ck_assert_int_eq(efivar_decode_uuid(buf, 4, NULL, out), -EBADMSG);
	ck_assert_int_eq(efivar_decode_uuid(buf, 0, NULL, out), -EBADMSG);
	ck_assert_int_eq(efivar_decode_uuid(NULL, 0, NULL, out), -EBADMSG);
}
END_TEST

Suite *efivar_suite(void)
{
	Suite *s = suite_create("efivar");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_efivar_decodes_the_loader_uuid);
	tcase_add_loop_test(tc, test_efivar_rejects_malformed, 0,
			    (int)(sizeof(bad_cases) / sizeof(bad_cases[0])));
	tcase_add_test(tc, test_efivar_rejects_bad_encoding);
	suite_add_tcase(s, tc);
	return s;
}
