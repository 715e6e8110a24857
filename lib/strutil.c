/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>

#include "edgeinit/strutil.h"

int str_copy_n(char *dst, size_t n, const char *src, size_t len)
{
	if (n == 0)
		return -EINVAL;
	if (len >= n) {
		memcpy(dst, src, n - 1);
		dst[n - 1] = '\0';
		return -E2BIG;
	}
	memcpy(dst, src, len);
	dst[len] = '\0';
	return 0;
}

int str_copy(char *dst, size_t n, const char *src)
{
	return str_copy_n(dst, n, src, strlen(src));
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int hex_decode(const char *hex, uint8_t *out, size_t out_size)
{
	size_t len = strlen(hex);

	if (len % 2 != 0)
		return -EINVAL;
	if (len / 2 > out_size)
		return -E2BIG;
	for (size_t i = 0; i < len / 2; i++) {
		int hi = hex_digit(hex[2 * i]), lo = hex_digit(hex[2 * i + 1]);

		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return (int)(len / 2);
}

int hex_encode(const uint8_t *in, size_t len, char *out, size_t out_size)
{
	static const char digits[] = "0123456789abcdef";

	if (out_size < 2 * len + 1)
		return -E2BIG;
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 0xf];
	}
	out[2 * len] = '\0';
	return (int)(2 * len);
}

int parse_uint(const char *s, unsigned long long max, unsigned long long *ret)
{
	unsigned long long v = 0;

	if (!s || !*s)
		return -EINVAL;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (d > max || v > (max - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*ret = v;
	return 0;
}

const char *str_startswith(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

bool str_endswith(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && memcmp(s + n - m, suffix, m) == 0;
}
