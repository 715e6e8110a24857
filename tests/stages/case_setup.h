/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The stage-case driver's setup and faults directives (tests/stages/case_setup.c), shared with
 * the driver (test_cases.c, whose header comment documents every directive). */
#pragma once

#include <limits.h>
#include <stddef.h>

#include "edgeinit/stage.h"

#define TEXT_MAX 65536

/* The case being run: its directory names every failure message. */
extern char case_dir[PATH_MAX];

/* A copy of s kept until the case's teardown (the fake points into it). */
const char *keep(const char *s);
/* "-EXXX" or "0" to a negative errno (or 0). */
int parse_errno(const char *s);
/* rel ("/x/y") under the case's temporary root. */
void root_path(const char *rel, char *buf, size_t size);

/* One directive a line ("#" comments); each fails the test with the case's name if unreadable. */
void apply_setup(struct boot_context *c, char *text);
void apply_faults(char *text);
