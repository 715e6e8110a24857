/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* String helpers that never overflow and say so when input does not fit. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Copy src into dst (size n, always NUL-terminated). -E2BIG if truncated, -EINVAL if n == 0. */
int str_copy(char *dst, size_t n, const char *src);
/* Like str_copy for the first len bytes of src. */
int str_copy_n(char *dst, size_t n, const char *src, size_t len);

/* Decode hex (upper or lower case) into out. Returns bytes written, -EINVAL on a bad digit or
 * odd length, -E2BIG if out is too small. */
int hex_decode(const char *hex, uint8_t *out, size_t out_size);
/* Encode len bytes as lower-case hex into out (needs 2*len+1). -E2BIG if too small. */
int hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size);

/* Parse an unsigned decimal with no sign, no spaces, no trailing junk, value <= max. */
int parse_uint(const char *s, unsigned long long max, unsigned long long *ret);

/* If s starts with prefix, return the rest, else NULL. */
const char *str_startswith(const char *s, const char *prefix);
/* Whether s ends with suffix. */
bool str_endswith(const char *s, const char *suffix);
