/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Base64 (RFC 4648 section 4: standard alphabet, '=' padding), as systemd writes the binary
 * fields of its LUKS2 tokens and the passphrase it derives from an unsealed TPM2 secret.
 * Pure: no I/O, no allocation. */
#pragma once

#include <stddef.h>
#include <stdint.h>

/* Characters base64_encode() writes for len bytes, without the terminating NUL. */
#define BASE64_ENCODED_LEN(len) ((((len) + 2) / 3) * 4)
/* Upper bound of the bytes base64_decode() writes for a text of n characters. */
#define BASE64_DECODED_MAX(n) (((n) / 4) * 3)

/* Encode len bytes into out (NUL-terminated). Returns the length written (without NUL), or
 * -E2BIG if out_size < BASE64_ENCODED_LEN(len) + 1. */
int base64_encode(const void *in, size_t len, char *out, size_t out_size);

/* Decode exactly in_len characters of canonical base64. Returns the bytes written, -EINVAL for
 * anything not canonical: a character outside the alphabet (whitespace and NUL included), a length
 * that is not a multiple of 4, '=' anywhere but in the last one or two places, or non-zero bits
 * in the last character before the padding (so every byte string has exactly one encoding);
 * -E2BIG if out_size is too small. The empty text decodes to 0 bytes. */
int base64_decode(const char *in, size_t in_len, uint8_t *out, size_t out_size);
