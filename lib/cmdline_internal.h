/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Shared between the command line parser (lib/cmdline.c) and its LUKS and TPM options
 * (lib/cmdline_luks.c). A handler returns 0, -EINVAL with reason filled (fatal), or -EDOM with
 * reason filled (bad value of a non-security option: reported, default kept). */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "edgeinit/cmdline.h"

int cmdline_need_value(const struct cmdline_word *w, char *reason);
int cmdline_parse_seconds(unsigned *out, const struct cmdline_word *w, unsigned long long min,
			  unsigned long long max, char *reason);
/* The UUID in s[0..len) (optionally prefixed "luks-", any case) into out, lower case. */
int cmdline_parse_uuid(const char *s, size_t len, char out[37]);
int cmdline_parse_bool_flag(bool *out, const struct cmdline_word *w, char *reason);

int cmdline_parse_luks_name(struct boot_options *o, const struct cmdline_word *w, char *reason);
int cmdline_parse_luks_uuid_option(struct boot_options *o, const struct cmdline_word *w, char *reason);
int cmdline_parse_luks_key(struct boot_options *o, const struct cmdline_word *w, char *reason);
int cmdline_parse_luks_tries(struct boot_options *o, const struct cmdline_word *w, char *reason);
int cmdline_parse_luks_options(struct boot_options *o, const struct cmdline_word *w, char *reason);
int cmdline_parse_emt_handle(struct boot_options *o, const struct cmdline_word *w, char *reason);
