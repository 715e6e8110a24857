/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RFC 4648 base64, strict: one canonical encoding per byte string. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include "edgeinit/base64.h"

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int base64_encode(const void *in, size_t len, char *out, size_t out_size)
{
	const uint8_t *p = in;
	size_t o = 0;

	if (len > (SIZE_MAX - 3) / 4 * 3 || out_size < BASE64_ENCODED_LEN(len) + 1)
		return -E2BIG;
	for (size_t i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16;
		size_t left = len - i;

		if (left > 1)
			v |= (uint32_t)p[i + 1] << 8;
		if (left > 2)
			v |= p[i + 2];
		out[o++] = alphabet[(v >> 18) & 63];
		out[o++] = alphabet[(v >> 12) & 63];
		out[o++] = left > 1 ? alphabet[(v >> 6) & 63] : '=';
		out[o++] = left > 2 ? alphabet[v & 63] : '=';
	}
	out[o] = '\0';
	return (int)o;
}

static int value_of(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size)
{
	size_t o = 0, pad = 0;

	if (in_len % 4 != 0)
		return -EINVAL;
	if (in_len > 0 && in[in_len - 1] == '=')
		pad = in_len > 1 && in[in_len - 2] == '=' ? 2 : 1;
	if (in_len / 4 * 3 - pad > out_size)
		return -E2BIG;

	for (size_t i = 0; i < in_len; i += 4) {
		bool last = i + 4 == in_len;
		int v[4];

		for (int j = 0; j < 4; j++) {
			v[j] = value_of(in[i + j]);
			/* '=' only as the final one or two characters. */
			if (v[j] < 0 && !(last && in[i + j] == '=' && j >= 4 - (int)pad))
				return -EINVAL;
		}
		out[o++] = (uint8_t)(v[0] << 2 | v[1] >> 4);
		if (last && pad == 2) {
			if (v[1] & 0x0f) /* bits that the padding says are not there */
				return -EINVAL;
			break;
		}
		out[o++] = (uint8_t)((v[1] & 0x0f) << 4 | v[2] >> 2);
		if (last && pad == 1) {
			if (v[2] & 0x03)
				return -EINVAL;
			break;
		}
		out[o++] = (uint8_t)((v[2] & 0x03) << 6 | v[3]);
	}
	return (int)o;
}
