/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layout_validate(): what a parsed layout must satisfy before anything is mounted, each refusal
 * with the line and column of the path or target concerned; layout_mangle(). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/layout.h"
#include "layout_test_util.h"

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

void layout_validate_tcases(Suite *s);

/* ================================== validation ================================== */

static const struct {
	const char *text;
	unsigned line;       /* 0: valid */
	const char *message; /* a part of it */
} validate_cases[] = {
	{ "TMPFS_OVERLAYS_PATHS=var", 1, "overlay path 'var' is not an absolute path" },
	{ "TMPFS_OVERLAYS_PATHS=/var/", 1, "overlay path '/var/' is not normalised (it ends with '/')" },
	{ "TMPFS_OVERLAYS_PATHS=//var", 1, "is not normalised (it contains '//')" },
	{ "TMPFS_OVERLAYS_PATHS=/var//log", 1, "is not normalised (it contains '//')" },
	{ "TMPFS_OVERLAYS_PATHS=/var/./x", 1, "is not normalised (it has a '.' component)" },
	{ "TMPFS_OVERLAYS_PATHS=/var/.", 1, "is not normalised (it has a '.' component)" },
	{ "TMPFS_OVERLAYS_PATHS=/var/../x", 1, "has a '..' component" },
	{ "PERSISTENT_BIND_PATHS=/..", 1, "bind path '/..' has a '..' component" },
	{ "TMPFS_OVERLAYS_PATHS=/.hidden/..x/...", 0, NULL },
	{ "TMPFS_OVERLAYS_PATHS=/", 1, "overlay path '/' is the root directory" },
	{ "PERSISTENT_BIND_PATHS=/", 1, "bind path '/' is the root directory" },
	{ "TMPFS_OVERLAYS_PATHS=/var/*", 1, "contains a glob character" },
	{ "PERSISTENT_BIND_PATHS=/etc/[ab]", 1, "contains a glob character" },
	{ "PERSISTENT_BIND_PATHS=/etc/a?", 1, "contains a glob character" },
	{ "PERSISTENT_BIND_PATHS=/etc/\x01", 1, "bind path '/etc/\\x01' contains a control character" },
	{ "PERSISTENT_BIND_PATHS=\"\n/opt\"", 2, "bind path '/opt' is the persistent partition's mount point" },
	{ "TMPFS_OVERLAYS_PATHS=/opt/data", 1, "overlay path '/opt/data' is inside the persistent partition's mount point /opt" },
	{ "PERSISTENT_BIND_PATHS=/opt/.mount/persistent/x", 1, "is inside the persistent partition's mount point /opt" },
	{ "PERSISTENT_BIND_PATHS=\"/optical /opt-x\"", 0, NULL },
	/* Duplicates, within and across lists. */
	{ "TMPFS_OVERLAYS_PATHS=\"/a\n/b\n/a\"", 3, "overlay path '/a' is listed twice in TMPFS_OVERLAYS_PATHS (first on line 1)" },
	{ "PERSISTENT_BIND_PATHS=\"/a /a\"", 1, "bind path '/a' is listed twice in PERSISTENT_BIND_PATHS (first on line 1)" },
	{ "TMPFS_OVERLAYS_PATHS=/a\nPERSISTENT_BIND_PATHS=\"\n/a\"", 3, "'/a' is both a bind path and an overlay path (TMPFS_OVERLAYS_PATHS, line 1)" },
	{ "PERSISTENT_BIND_PATHS=/var", 1, "'/var' is both a bind path and an overlay path (TMPFS_OVERLAYS_PATHS, line 0)" },
	/* Mangled-name collisions, within one list; across lists the suffixes differ. */
	{ "TMPFS_OVERLAYS_PATHS=\"/a-b/c\n/a/b-c\"", 2, "overlay path '/a/b-c' and '/a-b/c' (line 1) would share the directory 'a-b-c.overlay'" },
	{ "PERSISTENT_BIND_PATHS=\"/a-b/c /a/b-c\"", 1, "would share the directory 'a-b-c.bind'" },
	{ "PERSISTENT_BIND_PATHS=\"/x/y\n/x-y\"", 2, "bind path '/x-y' and '/x/y' (line 1) would share the directory 'x-y.bind'" },
	{ "TMPFS_OVERLAYS_PATHS=/a-b/c\nPERSISTENT_BIND_PATHS=/a/b-c", 0, NULL },
	/* Overlay basename "work". */
	{ "TMPFS_OVERLAYS_PATHS=\"/var /srv/work\"", 1, "overlay path '/srv/work' ends in 'work', which would make its upper and work directories the same" },
	{ "TMPFS_OVERLAYS_PATHS=/work", 1, "ends in 'work'" },
	{ "TMPFS_OVERLAYS_PATHS=\"/srv/work/x /srv/workdir\"\nPERSISTENT_BIND_PATHS=/srv/work", 0, NULL },
	/* Targets. */
	{ "PERSISTENT_BIND_TARGET=/srv/p", 1, "PERSISTENT_BIND_TARGET '/srv/p' must be below /opt, where the persistent partition is mounted" },
	{ "\nTMPFS_OVERLAY_TARGET=/opt", 2, "TMPFS_OVERLAY_TARGET '/opt' must be below /opt" },
	{ "TMPFS_OVERLAY_TARGET=/optx/t", 1, "must be below /opt" },
	{ "PERSISTENT_BIND_TARGET=/opt/p/", 1, "PERSISTENT_BIND_TARGET '/opt/p/' is not normalised" },
	{ "PERSISTENT_BIND_TARGET=opt/p", 1, "PERSISTENT_BIND_TARGET 'opt/p' is not an absolute path" },
	{ "TMPFS_OVERLAY_TARGET=/opt/a/../b", 1, "TMPFS_OVERLAY_TARGET '/opt/a/../b' has a '..' component" },
	{ "PERSISTENT_BIND_TARGET=\"/opt/a b\"", 1, "PERSISTENT_BIND_TARGET '/opt/a b' contains a space, which EMT's hook would split" },
	{ "PERSISTENT_BIND_TARGET=", 1, "PERSISTENT_BIND_TARGET '' is not an absolute path" },
	{ "TMPFS_OVERLAY_TARGET=/opt/m\nPERSISTENT_BIND_TARGET=/opt/m/p", 2, "PERSISTENT_BIND_TARGET '/opt/m/p' is inside TMPFS_OVERLAY_TARGET '/opt/m', where a tmpfs is mounted: nothing would persist" },
	{ "PERSISTENT_BIND_TARGET=/opt/.mount/tmpfs", 1, "nothing would persist" },
	{ "OVERLAY=none\nTMPFS_OVERLAY_TARGET=/opt/m\nPERSISTENT_BIND_TARGET=/opt/m", 0, NULL },
	{ "TMPFS_OVERLAY_TARGET=/opt/m\nPERSISTENT_BIND_TARGET=/opt/mm", 0, NULL },
	{ "TMPFS_OVERLAYS_PATHS=\nPERSISTENT_BIND_PATHS=", 0, NULL },
};

/* The diagnostic's line and column point at the value the message quotes first ('/a'), or at
 * the quote that opens it. */
static void check_points_at_quoted(const char *text, const struct layout_diag *d)
{
	const char *q = strchr(d->message, '\''), *end = q ? strchr(q + 1, '\'') : NULL;
	const char *at = text;
	size_t n;

	ck_assert_msg(d->line > 0 && d->column > 0, "no position for '%s'", d->message);
	for (unsigned line = 1; line < d->line; line++) {
		at = strchr(at, '\n');
		ck_assert_ptr_nonnull(at);
		at++;
	}
	ck_assert_uint_le(d->column, strlen(at) + 1);
	at += d->column - 1;
	ck_assert_ptr_nonnull(end);
	n = (size_t)(end - q - 1);
	if (n == 0 || memchr(q + 1, '\\', n))
		return; /* '' or an escaped byte: not literally in the text */
	if (*at == '"')
		at++;
	ck_assert_msg(strncmp(at, q + 1, n) == 0, "'%s' at %u:%u is not where '%.*s' starts", d->message,
		      d->line, d->column, (int)n, q + 1);
}

START_TEST(test_validate_table)
{
	struct layout l;
	struct layout_diag d;
	const char *text = validate_cases[_i].text;
	int r;

	ck_assert_msg(layout_test_parse_str(text, &l, &d) == 0, "[%s] %s", text, d.message);
	r = layout_validate(&l, &d);
	if (!validate_cases[_i].message) {
		ck_assert_msg(r == 0, "[%s] %u: %s", text, d.line, d.message);
		ck_assert_str_eq(d.message, "");
		return;
	}
	ck_assert_int_eq(r, -EINVAL);
	ck_assert_msg(strstr(d.message, validate_cases[_i].message) != NULL, "[%s] message '%s'",
		      text, d.message);
	ck_assert_uint_eq(d.line, validate_cases[_i].line);
	check_points_at_quoted(text, &d);
}
END_TEST

START_TEST(test_validate_lengths)
{
	struct layout l;
	struct layout_diag d;
	/* /opt/.mount/tmpfs/ (18) + mangled (n-1) + ".overlay/" (9) + basename (n-1) */
	char *fits = layout_test_repeat("TMPFS_OVERLAYS_PATHS=/", "a", 114, "");
	char *long_ = layout_test_repeat("TMPFS_OVERLAYS_PATHS=/", "a", 115, "");
	char *deep = layout_test_repeat("PERSISTENT_BIND_PATHS=", "/d", 120, "");

	ck_assert_int_eq(layout_test_parse_str(fits, &l, &d), 0);
	ck_assert_int_eq(layout_validate(&l, &d), 0);
	ck_assert_int_eq(layout_test_parse_str(long_, &l, &d), 0);
	ck_assert_int_eq(layout_validate(&l, &d), -EINVAL);
	ck_assert_msg(strstr(d.message, "is too long: its state directory under '/opt/.mount/tmpfs' would not fit in 255 bytes"),
		      "%s", d.message);
	ck_assert_int_eq(layout_test_parse_str(deep, &l, &d), 0);
	ck_assert_int_eq(layout_validate(&l, &d), -EINVAL);
	ck_assert_msg(strstr(d.message, "is too long"), "%s", d.message);
	free(fits);
	free(long_);
	free(deep);
}
END_TEST

START_TEST(test_validate_hand_built)
{
	static struct layout l;
	struct layout_diag d;
	struct layout_diag *nodiag = NULL;

	ck_assert_int_eq(layout_test_parse_str("", &l, &d), 0);
	ck_assert_int_eq(layout_validate(&l, &d), 0);
	l.n_bind_paths = LAYOUT_PATHS_MAX + 1;
	ck_assert_int_eq(layout_validate(&l, &d), -EINVAL);
	ck_assert_str_eq(d.message, "more than 256 paths in PERSISTENT_BIND_PATHS");
	l.n_bind_paths = 1;
	memset(l.bind_paths[0].path, 'a', LAYOUT_PATH_MAX);
	ck_assert_int_eq(layout_validate(&l, nodiag), -EINVAL);
	ck_assert_int_eq(layout_validate(&l, &d), -EINVAL);
	ck_assert_str_eq(d.message, "a path is not NUL-terminated");
}
END_TEST

START_TEST(test_mangle)
{
	char out[16];

	ck_assert_int_eq(layout_mangle("/usr/share/pki", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "usr-share-pki");
	ck_assert_int_eq(layout_mangle("/etc/machine-id", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "etc-machine-id");
	ck_assert_int_eq(layout_mangle("/a-b/c", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "a-b-c");
	ck_assert_int_eq(layout_mangle("/", out, sizeof(out)), 0);
	ck_assert_str_eq(out, "");
	ck_assert_int_eq(layout_mangle("/0123456789abcde", out, sizeof(out)), 0);
	ck_assert_int_eq(layout_mangle("/0123456789abcdef", out, sizeof(out)), -E2BIG);
	ck_assert_int_eq(layout_mangle("relative", out, sizeof(out)), -EINVAL);
}
END_TEST

void layout_validate_tcases(Suite *s)
{
	TCase *validate = tcase_create("validate");

	tcase_add_loop_test(validate, test_validate_table, 0, N(validate_cases));
	tcase_add_test(validate, test_validate_lengths);
	tcase_add_test(validate, test_validate_hand_built);
	tcase_add_test(validate, test_mangle);
	suite_add_tcase(s, validate);
}
