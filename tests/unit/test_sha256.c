/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <stdlib.h>
#include <string.h>

#include "edgeinit/sha256.h"
#include "suites.h"

static void hex_of(const uint8_t d[SHA256_DIGEST_SIZE], char out[2 * SHA256_DIGEST_SIZE + 1])
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < SHA256_DIGEST_SIZE; i++) {
		out[2 * i] = digits[d[i] >> 4];
		out[2 * i + 1] = digits[d[i] & 0xf];
	}
	out[2 * SHA256_DIGEST_SIZE] = '\0';
}

/* FIPS 180-4 examples and NIST CAVS short messages. */
static const struct {
	const char *msg;
	const char *digest;
} vectors[] = {
	{ "", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" },
	{ "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
	  "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1" },
	{ "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu",
	  "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1" },
	{ "The quick brown fox jumps over the lazy dog",
	  "d7a8fbb307d7809469ca9abcb0082e4f8d5651e46d3cdb762d02d0bf37c9e592" },
};

START_TEST(test_vectors)
{
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[65];

	sha256(vectors[_i].msg, strlen(vectors[_i].msg), d);
	hex_of(d, hex);
	ck_assert_str_eq(hex, vectors[_i].digest);
}
END_TEST

START_TEST(test_million_a)
{
	static uint8_t a[1000];
	struct sha256_ctx c;
	uint8_t d[SHA256_DIGEST_SIZE];
	char hex[65];
	char *big;

	memset(a, 'a', sizeof(a));
	sha256_init(&c);
	for (int i = 0; i < 1000; i++)
		sha256_update(&c, sizeof(a), a);
	sha256_final(&c, d);
	hex_of(d, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");

	/* Same in one shot. */
	big = malloc(1000000);
	ck_assert_ptr_nonnull(big);
	memset(big, 'a', 1000000);
	sha256(big, 1000000, d);
	free(big);
	hex_of(d, hex);
	ck_assert_str_eq(hex, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}
END_TEST

/* Lengths around the padding boundaries (55/56 bytes: length fits / does not fit in the last
 * block; 64: exactly one block). Digests from Python's hashlib; message byte i = 7*i + 3. */
static const struct {
	size_t len;
	const char *digest;
} boundary[] = {
	{ 55, "e7313d333c272e639f790978283f9eb392e843d0f29b7016828bb1daa4aac70b" },
	{ 56, "4324d65f3c103567f5589c710bc08f8523f929a9272e3af36fc968e52abc6c27" },
	{ 57, "35df609437dcfea3279283ab79fd554e2bf78f8f7ae2de532d8ee300b09e8f73" },
	{ 63, "81c80242132f230c3bd41b3e63bbcff16107339549214a99614ff26664625055" },
	{ 64, "39e3d7b6b5d075d37d053ad89b24b41bef4f3c29760c84447cab3f3be1882241" },
	{ 65, "aacca6ff74fdbb296d165a45cecfa04e5127bc008770fbbdd48006f2d2fae95e" },
	{ 119, "9ce7368e4daf32341631b492e80359dc9f594b48453cd0dd5bf0b19279cc177e" },
	{ 120, "7836b787757e95e58b3ca5aec90b1b004e8deba1e50e9675af9cabf1a13a04b5" },
	{ 128, "d2742f1f4ac6bb7ca2b239ee18402ba8b3f9f8e652d2a72973c2b9ba11c08cf6" },
};

START_TEST(test_boundaries)
{
	uint8_t msg[128], d[SHA256_DIGEST_SIZE];
	char hex[65];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 7 + 3);
	sha256(msg, boundary[_i].len, d);
	hex_of(d, hex);
	ck_assert_str_eq(hex, boundary[_i].digest);
}
END_TEST

/* Feeding the data in chunks of every size from 1 to 130 gives the one-shot digest. */
START_TEST(test_incremental)
{
	static uint8_t msg[1000];
	uint8_t one[SHA256_DIGEST_SIZE], inc[SHA256_DIGEST_SIZE];
	struct sha256_ctx c;

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)(i * 31 + 7);
	sha256(msg, sizeof(msg), one);
	for (size_t chunk = 1; chunk <= 130; chunk++) {
		sha256_init(&c);
		for (size_t off = 0; off < sizeof(msg); off += chunk)
			sha256_update(&c, off + chunk <= sizeof(msg) ? chunk : sizeof(msg) - off, msg + off);
		sha256_final(&c, inc);
		ck_assert_msg(memcmp(one, inc, sizeof(one)) == 0, "chunk size %zu differs", chunk);
	}
	/* Irregular splits and zero-length updates. */
	sha256_init(&c);
	sha256_update(&c, 0, msg);
	sha256_update(&c, 63, msg);
	sha256_update(&c, 2, msg + 63);
	sha256_update(&c, 0, msg + 65);
	sha256_update(&c, 191, msg + 65);
	sha256_update(&c, sizeof(msg) - 256, msg + 256);
	sha256_final(&c, inc);
	ck_assert_mem_eq(one, inc, sizeof(one));
}
END_TEST

START_TEST(test_ctx_reuse)
{
	struct sha256_ctx c;
	uint8_t d1[SHA256_DIGEST_SIZE], d2[SHA256_DIGEST_SIZE];
	char hex[65];

	sha256_init(&c);
	sha256_update(&c, 7, (const uint8_t *)"garbage");
	sha256_final(&c, d1);
	sha256_init(&c);
	sha256_update(&c, 3, (const uint8_t *)"abc");
	sha256_final(&c, d2);
	hex_of(d2, hex);
	ck_assert_str_eq(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_mem_ne(d1, d2, sizeof(d1));
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *sha256_suite(void)
{
	Suite *s = suite_create("sha256");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_vectors, 0, N(vectors));
	tcase_add_test(tc, test_million_a);
	tcase_add_loop_test(tc, test_boundaries, 0, N(boundary));
	tcase_add_test(tc, test_incremental);
	tcase_add_test(tc, test_ctx_reuse);
	suite_add_tcase(s, tc);
	return s;
}
