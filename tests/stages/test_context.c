/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boot context's own helpers: paths under the root. */
#include <check.h>
#include <errno.h>
#include <string.h>

#include "fake_sys.h"
#include "suites.h"

/* A path that does not fit is never truncated (a truncated path could name another file): the
 * buffer is emptied, which every call refuses, so the 33 callers that ignore the result fail
 * closed too. */
START_TEST(ctx_path_too_long_is_empty_not_truncated)
{
	struct boot_context ctx;
	char buf[16];

	boot_context_init(&ctx, "/tmp/root", &sys_fake);
	ck_assert_int_eq(ctx_path(&ctx, "/etc", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/tmp/root/etc");
	ck_assert_int_eq(ctx_path(&ctx, "/etc/ssh/keys", buf, sizeof(buf)), -E2BIG);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(ctx_path(&ctx, "/etc/s", buf, sizeof(buf)), 0); /* exactly 15 + NUL */
	ck_assert_str_eq(buf, "/tmp/root/etc/s");
	boot_context_done(&ctx);
}
END_TEST

Suite *context_suite(void)
{
	Suite *s = suite_create("context");
	TCase *tc = tcase_create("paths");

	tcase_add_test(tc, ctx_path_too_long_is_empty_not_truncated);
	suite_add_tcase(s, tc);
	return s;
}
