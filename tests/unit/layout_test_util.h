/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers shared by the layout.env test files (tests/unit/test_layout*.c). */
#pragma once

#include <stddef.h>

#include "edgeinit/layout.h"

#ifndef LAYOUT_FIXTURES
#define LAYOUT_FIXTURES "tests/unit/fixtures/layout"
#endif

/* The fixture's bytes, NUL-terminated (free() it); *len without the NUL. */
char *layout_test_read_fixture(const char *name, size_t *len);
/* layout_parse() of a C string. */
int layout_test_parse_str(const char *text, struct layout *l, struct layout_diag *d);
/* prefix, count times unit, suffix (free() it). */
char *layout_test_repeat(const char *prefix, const char *unit, size_t count, const char *suffix);
