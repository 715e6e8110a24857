/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* RFC 4648 base64 through nettle, strict: one canonical encoding per byte string. nettle's
 * decoder skips whitespace and ignores the bits the padding drops, so each group of four is
 * decoded and encoded again and must come back as the same four characters. */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <nettle/base64.h>

#include "edgeinit/base64.h"

int base64_encode(const void *in, size_t len, char *out, size_t out_size)
{
	if (len > (SIZE_MAX - 3) / 4 * 3 || out_size < BASE64_ENCODED_LEN(len) + 1)
		return -E2BIG;
	base64_encode_raw(out, len, in);
	out[BASE64_ENCODED_LEN(len)] = '\0';
	return (int)BASE64_ENCODED_LEN(len);
}

/* One group of four characters into 1 to 3 bytes; -EINVAL unless it is the canonical encoding. */
static int decode_group(const char in[4], uint8_t bytes[3])
{
	struct base64_decode_ctx ctx;
	char again[4];
	size_t n = 3;
	int r = -EINVAL;

	base64_decode_init(&ctx);
	if (base64_decode_update(&ctx, &n, bytes, 4, in) && base64_decode_final(&ctx) && n > 0) {
		base64_encode_raw(again, n, bytes);
		if (memcmp(again, in, 4) == 0)
			r = (int)n;
	}
	explicit_bzero(&ctx, sizeof(ctx));
	explicit_bzero(again, sizeof(again));
	return r;
}

int base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size)
{
	size_t o = 0, pad = 0;
	uint8_t bytes[3];
	int r = 0;

	if (in_len % 4 != 0)
		return -EINVAL;
	if (in_len > 0 && in[in_len - 1] == '=')
		pad = in_len > 1 && in[in_len - 2] == '=' ? 2 : 1;
	if (in_len / 4 * 3 - pad > out_size)
		return -E2BIG;

	for (size_t i = 0; i < in_len; i += 4) {
		r = decode_group(in + i, bytes);
		/* Only the last group may be short ('=' only as the final one or two characters). */
		if (r < 0 || (r < 3 && i + 4 != in_len)) {
			r = -EINVAL;
			break;
		}
		memcpy(out + o, bytes, (size_t)r);
		o += (size_t)r;
	}
	explicit_bzero(bytes, sizeof(bytes));
	return r < 0 ? r : (int)o;
}
