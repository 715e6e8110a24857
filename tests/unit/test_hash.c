/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-1/384/512 (FIPS 180-4 examples), HMAC (RFC 2202, RFC 4231), PBKDF2-HMAC-SHA256 (RFC 7914
 * section 11 vectors), and the algorithm tables. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/hash.h"
#include "edgeinit/strutil.h"
#include "suites.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static void check_hex(const uint8_t *d, size_t n, const char *want)
{
	char hex[2 * HASH_MAX_DIGEST_SIZE + 1];

	ck_assert_int_ge(hex_encode(d, n, hex, sizeof(hex)), 0);
	ck_assert_str_eq(hex, want);
}

static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char m896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

static const struct {
	enum hash_alg alg;
	const char *msg;
	const char *digest;
} vectors[] = {
	{ HASH_SHA1, "", "da39a3ee5e6b4b0d3255bfef95601890afd80709" },
	{ HASH_SHA1, "abc", "a9993e364706816aba3e25717850c26c9cd0d89d" },
	{ HASH_SHA1, m448, "84983e441c3bd26ebaae4aa1f95129e5e54670f1" },
	{ HASH_SHA1, m896, "a49b2446a02c645bf419f995b67091253a04a259" },
	{ HASH_SHA256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad" },
	{ HASH_SHA384, "", "38b060a751ac96384cd9327eb1b1e36a21fdb71114be07434c0cc7bf63f6e1da274edebfe76f65fbd51ad2f14898b95b" },
	{ HASH_SHA384, "abc", "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7" },
	{ HASH_SHA384, m448, "3391fdddfc8dc7393707a65b1b4709397cf8b1d162af05abfe8f450de5f36bc6b0455a8520bc4e6f5fe95b1fe3c8452b" },
	{ HASH_SHA384, m896, "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712fcc7c71a557e2db966c3e9fa91746039" },
	{ HASH_SHA512, "", "cf83e1357eefb8bdf1542850d66d8007d620e4050b5715dc83f4a921d36ce9ce47d0d13c5d85f2b0ff8318d2877eec2f63b931bd47417a81a538327af927da3e" },
	{ HASH_SHA512, "abc", "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f" },
	{ HASH_SHA512, m448, "204a8fc6dda82f0a0ced7beb8e08a41657c16ef468b228a8279be331a703c33596fd15c13b1b07f9aa1d3bea57789ca031ad85c7a71dd70354ec631238ca3445" },
	{ HASH_SHA512, m896, "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909" },
};

START_TEST(test_vectors)
{
	uint8_t d[HASH_MAX_DIGEST_SIZE];

	hash_buffer(vectors[_i].alg, vectors[_i].msg, strlen(vectors[_i].msg), d);
	check_hex(d, hash_digest_size(vectors[_i].alg), vectors[_i].digest);
}
END_TEST

/* One million 'a', fed in odd-sized pieces so block boundaries fall everywhere. */
START_TEST(test_million_a)
{
	static const struct {
		enum hash_alg alg;
		const char *digest;
	} m[] = {
		{ HASH_SHA1, "34aa973cd4c4daa4f61eeb2bdbad27316534016f" },
		{ HASH_SHA384, "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b07b8b3dc38ecc4ebae97ddd87f3d8985" },
		{ HASH_SHA512, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973ebde0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b" },
	};
	static char a[997];

	memset(a, 'a', sizeof(a));
	for (size_t i = 0; i < N(m); i++) {
		struct hash_ctx c;
		uint8_t d[HASH_MAX_DIGEST_SIZE];
		size_t left = 1000000;

		hash_init(&c, m[i].alg);
		while (left > 0) {
			size_t n = left < sizeof(a) ? left : sizeof(a);

			hash_update(&c, a, n);
			left -= n;
		}
		hash_final(&c, d);
		check_hex(d, hash_digest_size(m[i].alg), m[i].digest);
	}
}
END_TEST

/* RFC 4231 test cases 1-7 (HMAC-SHA-256/384/512) and RFC 2202 (HMAC-SHA-1). Case 5 is truncated
 * to 128 bits in the RFC. */
static uint8_t key_0b[20], key_aa20[20], key_0c[20], key_aa131[131], key_aa80[80], key_seq[25];
static uint8_t data_dd[50], data_cd[50];

static void init_keys(void)
{
	memset(key_0b, 0x0b, sizeof(key_0b));
	memset(key_aa20, 0xaa, sizeof(key_aa20));
	memset(key_0c, 0x0c, sizeof(key_0c));
	memset(key_aa131, 0xaa, sizeof(key_aa131));
	memset(key_aa80, 0xaa, sizeof(key_aa80));
	for (size_t i = 0; i < sizeof(key_seq); i++)
		key_seq[i] = (uint8_t)(i + 1);
	memset(data_dd, 0xdd, sizeof(data_dd));
	memset(data_cd, 0xcd, sizeof(data_cd));
}

static const char big_key_msg[] = "Test Using Larger Than Block-Size Key - Hash Key First";
static const char big_both_msg[] =
	"This is a test using a larger than block-size key and a larger than block-size data. The key needs to be hashed before being used by the HMAC algorithm.";

static const struct {
	const char *name;
	enum hash_alg alg;
	const uint8_t *key;
	size_t key_len;
	const void *data;
	size_t data_len;
	size_t check_len;
	const char *mac;
} hmac_vectors[] = {
	{ "4231-1", HASH_SHA256, key_0b, 20, "Hi There", 8, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7" },
	{ "4231-1", HASH_SHA384, key_0b, 20, "Hi There", 8, 48, "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec682aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6" },
	{ "4231-1", HASH_SHA512, key_0b, 20, "Hi There", 8, 64, "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cdedaa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854" },
	{ "4231-2", HASH_SHA256, (const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, 32, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843" },
	{ "4231-2", HASH_SHA512, (const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, 64, "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737" },
	{ "4231-3", HASH_SHA256, key_aa20, 20, data_dd, 50, 32, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe" },
	{ "4231-4", HASH_SHA256, key_seq, 25, data_cd, 50, 32, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b" },
	{ "4231-4", HASH_SHA384, key_seq, 25, data_cd, 50, 48, "3e8a69b7783c25851933ab6290af6ca77a9981480850009cc5577c6e1f573b4e6801dd23c4a7d679ccf8a386c674cffb" },
	{ "4231-5", HASH_SHA256, key_0c, 20, "Test With Truncation", 20, 16, "a3b6167473100ee06e0c796c2955552b" },
	{ "4231-6", HASH_SHA256, key_aa131, 131, big_key_msg, sizeof(big_key_msg) - 1, 32, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54" },
	{ "4231-6", HASH_SHA512, key_aa131, 131, big_key_msg, sizeof(big_key_msg) - 1, 64, "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f3526b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598" },
	{ "4231-7", HASH_SHA256, key_aa131, 131, big_both_msg, sizeof(big_both_msg) - 1, 32, "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2" },
	{ "4231-7", HASH_SHA384, key_aa131, 131, big_both_msg, sizeof(big_both_msg) - 1, 48, "6617178e941f020d351e2f254e8fd32c602420feb0b8fb9adccebb82461e99c5a678cc31e799176d3860e6110c46523e" },
	{ "2202-1", HASH_SHA1, key_0b, 20, "Hi There", 8, 20, "b617318655057264e28bc0b6fb378c8ef146be00" },
	{ "2202-2", HASH_SHA1, (const uint8_t *)"Jefe", 4, "what do ya want for nothing?", 28, 20, "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79" },
	{ "2202-6", HASH_SHA1, key_aa80, 80, big_key_msg, sizeof(big_key_msg) - 1, 20, "aa4ae5e15272d00e95705637ce8a3b55ed402112" },
};

START_TEST(test_hmac_vectors)
{
	uint8_t mac[HASH_MAX_DIGEST_SIZE];

	init_keys();
	hmac(hmac_vectors[_i].alg, hmac_vectors[_i].key, hmac_vectors[_i].key_len, hmac_vectors[_i].data,
	     hmac_vectors[_i].data_len, mac);
	check_hex(mac, hmac_vectors[_i].check_len, hmac_vectors[_i].mac);
}
END_TEST

START_TEST(test_hmac_in_place)
{
	uint8_t buf[32];

	/* PBKDF2 feeds the previous MAC back as data into the same buffer. */
	memcpy(buf, "Hi There", 8);
	init_keys();
	hmac(HASH_SHA256, key_0b, 20, buf, 8, buf);
	check_hex(buf, 32, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
}
END_TEST

START_TEST(test_pbkdf2)
{
	uint8_t out[32];
	uint8_t salt16[16];

	/* RFC 7914 section 11 / common PBKDF2-HMAC-SHA256 vectors. */
	ck_assert_int_eq(pbkdf2_hmac_sha256("password", 8, "salt", 4, 1, out, 32), 0);
	check_hex(out, 32, "120fb6cffcf8b32c43e7225256c4f837a86548c92ccc35480805987cb70be17b");
	ck_assert_int_eq(pbkdf2_hmac_sha256("password", 8, "salt", 4, 4096, out, 32), 0);
	check_hex(out, 32, "c5e478d59288c841aa530db6845c4c8d962893a001ce4e11a4963873aa98134a");
	/* systemd's PIN salting: 10000 iterations (value from Python's hashlib.pbkdf2_hmac). */
	for (size_t i = 0; i < sizeof(salt16); i++)
		salt16[i] = (uint8_t)i;
	ck_assert_int_eq(pbkdf2_hmac_sha256("1234", 4, salt16, sizeof(salt16), 10000, out, 32), 0);
	check_hex(out, 32, "91ea059bae0333a2969fc8ccd7c77851dda43f5adb96baeea246a624cdf489ec");
	ck_assert_int_eq(pbkdf2_hmac_sha256("x", 1, "s", 1, 0, out, 32), -EINVAL);
	ck_assert_int_eq(pbkdf2_hmac_sha256("x", 1, "s", 1, 1, out, 33), -EINVAL);
	ck_assert_int_eq(pbkdf2_hmac_sha256("x", 1, "s", 1, 1, out, 0), -EINVAL);
}
END_TEST

START_TEST(test_tables)
{
	static const struct {
		const char *name;
		uint16_t tpm2;
		size_t size;
	} t[] = { { "sha1", 0x0004, 20 }, { "sha256", 0x000b, 32 }, { "sha384", 0x000c, 48 }, { "sha512", 0x000d, 64 } };
	enum hash_alg a;

	for (size_t i = 0; i < N(t); i++) {
		ck_assert_int_eq(hash_alg_from_string(t[i].name, &a), 0);
		ck_assert_str_eq(hash_alg_to_string(a), t[i].name);
		ck_assert_uint_eq(hash_alg_to_tpm2(a), t[i].tpm2);
		ck_assert_uint_eq(hash_digest_size(a), t[i].size);
		ck_assert_int_eq(hash_alg_from_tpm2(t[i].tpm2, &a), 0);
		ck_assert_str_eq(hash_alg_to_string(a), t[i].name);
	}
	ck_assert_int_eq(hash_alg_from_string("SHA256", &a), -EINVAL);
	ck_assert_int_eq(hash_alg_from_string("sm3_256", &a), -EINVAL);
	ck_assert_int_eq(hash_alg_from_string(NULL, &a), -EINVAL);
	ck_assert_int_eq(hash_alg_from_tpm2(0x0012, &a), -EINVAL);
	ck_assert_ptr_null(hash_alg_to_string(_HASH_ALG_MAX));
	ck_assert_uint_eq(hash_digest_size(_HASH_ALG_MAX), 0);
}
END_TEST

Suite *hash_suite(void)
{
	Suite *s = suite_create("hash");
	TCase *tc = tcase_create("hash");

	tcase_add_loop_test(tc, test_vectors, 0, N(vectors));
	tcase_add_test(tc, test_million_a);
	tcase_add_loop_test(tc, test_hmac_vectors, 0, N(hmac_vectors));
	tcase_add_test(tc, test_hmac_in_place);
	tcase_add_test(tc, test_pbkdf2);
	tcase_add_test(tc, test_tables);
	suite_add_tcase(s, tc);
	return s;
}
