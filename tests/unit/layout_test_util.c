/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "layout_test_util.h"

char *layout_test_read_fixture(const char *name, size_t *len)
{
	char path[256];
	FILE *f;
	char *buf = malloc(LAYOUT_FILE_MAX + 1);

	ck_assert_ptr_nonnull(buf);
	snprintf(path, sizeof(path), "%s/%s", LAYOUT_FIXTURES, name);
	f = fopen(path, "re");
	ck_assert_msg(f != NULL, "cannot open %s", path);
	*len = fread(buf, 1, LAYOUT_FILE_MAX, f);
	fclose(f);
	buf[*len] = '\0';
	return buf;
}

int layout_test_parse_str(const char *text, struct layout *l, struct layout_diag *d)
{
	return layout_parse(text, strlen(text), l, d);
}

char *layout_test_repeat(const char *prefix, const char *unit, size_t count, const char *suffix)
{
	size_t n = strlen(prefix) + strlen(unit) * count + strlen(suffix) + 1;
	char *s = malloc(n), *p = s;

	ck_assert_ptr_nonnull(s);
	p = stpcpy(p, prefix);
	for (size_t k = 0; k < count; k++)
		p = stpcpy(p, unit);
	stpcpy(p, suffix);
	return s;
}
