/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgeinit/sha256.h"
#include "edgeinit/strutil.h"
#include "edgeinit/verity.h"
#include "suites.h"

#define VERITYSETUP "/usr/sbin/veritysetup"

/* ======================= hand-built superblocks ======================= */

static void put_le32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static void put_le64(uint8_t *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static const uint8_t test_uuid[16] = { 0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf0,
				       0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef };

/* cryptsetup's struct verity_sb: signature[8] version hash_type uuid[16] algorithm[32]
 * data_block_size hash_block_size data_blocks(64) salt_size(16) pad[6] salt[256] pad[168]. */
static void build_sb(uint8_t sb[VERITY_SUPERBLOCK_SIZE], uint32_t hash_type, const char *alg,
		     uint32_t dbs, uint32_t hbs, uint64_t blocks, uint16_t salt_size)
{
	memset(sb, 0, VERITY_SUPERBLOCK_SIZE);
	memcpy(sb, "verity\0\0", 8);
	put_le32(sb + 8, 1);
	put_le32(sb + 12, hash_type);
	memcpy(sb + 16, test_uuid, 16);
	memcpy(sb + 32, alg, strlen(alg));
	put_le32(sb + 64, dbs);
	put_le32(sb + 68, hbs);
	put_le64(sb + 72, blocks);
	sb[80] = (uint8_t)salt_size;
	sb[81] = (uint8_t)(salt_size >> 8);
	for (unsigned i = 0; i < salt_size && i < 256; i++)
		sb[88 + i] = (uint8_t)(0xa0 + i);
	/* Garbage in the padding must be ignored. */
	memset(sb + 82, 0xee, 6);
	memset(sb + 344, 0xdd, 168);
}

START_TEST(test_parse_hand_built)
{
	uint8_t buf[VERITY_SUPERBLOCK_SIZE + 16];
	struct verity_superblock sb;

	build_sb(buf, 1, "sha256", 4096, 4096, 0x100000123ULL, 32);
	ck_assert_int_eq(verity_superblock_parse(buf, VERITY_SUPERBLOCK_SIZE, &sb), 0);
	ck_assert_uint_eq(sb.version, 1);
	ck_assert_uint_eq(sb.hash_type, 1);
	ck_assert_mem_eq(sb.uuid, test_uuid, 16);
	ck_assert_str_eq(sb.algorithm, "sha256");
	ck_assert_uint_eq(sb.data_block_size, 4096);
	ck_assert_uint_eq(sb.hash_block_size, 4096);
	ck_assert_uint_eq(sb.data_blocks, 0x100000123ULL);
	ck_assert_uint_eq(sb.salt_size, 32);
	for (unsigned i = 0; i < 32; i++)
		ck_assert_uint_eq(sb.salt[i], 0xa0 + i);
	ck_assert_uint_eq(sb.salt[32], 0); /* the rest of the salt is not copied from the padding */

	/* Longer buffers are fine (a whole hash block is usually read). */
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), 0);

	/* Chrome OS format, big salt, odd block sizes. */
	build_sb(buf, 0, "sha1", 512, 1u << 20, 1, 256);
	ck_assert_int_eq(verity_superblock_parse(buf, VERITY_SUPERBLOCK_SIZE, &sb), 0);
	ck_assert_uint_eq(sb.hash_type, 0);
	ck_assert_str_eq(sb.algorithm, "sha1");
	ck_assert_uint_eq(sb.data_block_size, 512);
	ck_assert_uint_eq(sb.hash_block_size, 1u << 20);
	ck_assert_uint_eq(sb.salt_size, 256);
	ck_assert_uint_eq(sb.salt[255], (uint8_t)(0xa0 + 255));

	/* Empty salt. */
	build_sb(buf, 1, "sha256", 4096, 4096, 10, 0);
	ck_assert_int_eq(verity_superblock_parse(buf, VERITY_SUPERBLOCK_SIZE, &sb), 0);
	ck_assert_uint_eq(sb.salt_size, 0);
}
END_TEST

/* Each case damages one field of a valid superblock. */
static const struct {
	const char *name;
	size_t offset;
	size_t len;
	const uint8_t bytes[8];
} reject_cases[] = {
	{ "signature", 0, 1, { 'V' } },
	{ "signature padding", 6, 1, { 'x' } },
	{ "signature LUKS", 0, 6, { 'L', 'U', 'K', 'S', 0xba, 0xbe } },
	{ "version 0", 8, 4, { 0, 0, 0, 0 } },
	{ "version 2", 8, 4, { 2, 0, 0, 0 } },
	{ "version big-endian 1", 8, 4, { 0, 0, 0, 1 } },
	{ "hash_type 2", 12, 4, { 2, 0, 0, 0 } },
	{ "data block size 0", 64, 4, { 0, 0, 0, 0 } },
	{ "data block size 256", 64, 4, { 0, 1, 0, 0 } },
	{ "data block size 4095", 64, 4, { 0xff, 0x0f, 0, 0 } },
	{ "data block size 3072", 64, 4, { 0x00, 0x0c, 0, 0 } },
	{ "data block size 2 MiB", 64, 4, { 0, 0, 0x20, 0 } },
	{ "hash block size 0", 68, 4, { 0, 0, 0, 0 } },
	{ "hash block size 511", 68, 4, { 0xff, 0x01, 0, 0 } },
	{ "hash block size 6144", 68, 4, { 0x00, 0x18, 0, 0 } },
	{ "hash block size 2^31", 68, 4, { 0, 0, 0, 0x80 } },
	{ "salt size 257", 80, 2, { 0x01, 0x01 } },
	{ "salt size 0xffff", 80, 2, { 0xff, 0xff } },
	{ "zero data blocks", 72, 8, { 0, 0, 0, 0, 0, 0, 0, 0 } },
	{ "empty algorithm", 32, 1, { 0 } },
};

START_TEST(test_reject_table)
{
	uint8_t buf[VERITY_SUPERBLOCK_SIZE];
	struct verity_superblock sb;

	build_sb(buf, 1, "sha256", 4096, 4096, 256, 32);
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), 0);
	memcpy(buf + reject_cases[_i].offset, reject_cases[_i].bytes, reject_cases[_i].len);
	ck_assert_msg(verity_superblock_parse(buf, sizeof(buf), &sb) == -EINVAL, "%s: not rejected",
		      reject_cases[_i].name);
}
END_TEST

START_TEST(test_reject_misc)
{
	uint8_t buf[VERITY_SUPERBLOCK_SIZE];
	struct verity_superblock sb;

	build_sb(buf, 1, "sha256", 4096, 4096, 256, 32);
	ck_assert_int_eq(verity_superblock_parse(buf, VERITY_SUPERBLOCK_SIZE - 1, &sb), -EINVAL);
	ck_assert_int_eq(verity_superblock_parse(buf, 0, &sb), -EINVAL);
	ck_assert_int_eq(verity_superblock_parse(NULL, VERITY_SUPERBLOCK_SIZE, &sb), -EINVAL);
	/* An algorithm name filling all 32 bytes has no terminator. */
	memset(buf + 32, 'a', 32);
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), -EINVAL);
	/* All zeroes (an unformatted partition). */
	memset(buf, 0, sizeof(buf));
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), -EINVAL);
}
END_TEST

static const struct {
	uint32_t hbs;
	uint64_t offset;
} top_offset_cases[] = {
	{ 512, 512 }, { 1024, 1024 }, { 2048, 2048 }, { 4096, 4096 }, { 8192, 8192 }, { 65536, 65536 },
	{ 1u << 20, 1u << 20 },
};

START_TEST(test_top_block_offset)
{
	uint8_t buf[VERITY_SUPERBLOCK_SIZE];
	struct verity_superblock sb;

	build_sb(buf, 1, "sha256", 4096, top_offset_cases[_i].hbs, 256, 32);
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), 0);
	ck_assert_uint_eq(verity_top_block_offset(&sb), top_offset_cases[_i].offset);
}
END_TEST

START_TEST(test_root_hash_hand_built)
{
	uint8_t buf[VERITY_SUPERBLOCK_SIZE], block[1024], cat[1024 + 64];
	uint8_t out[64], expect[SHA256_DIGEST_SIZE];
	struct verity_superblock sb;

	for (size_t i = 0; i < sizeof(block); i++)
		block[i] = (uint8_t)(i ^ 0x5a);

	/* Normal format: sha256(salt || block). */
	build_sb(buf, 1, "sha256", 4096, 1024, 256, 64);
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), 0);
	memcpy(cat, sb.salt, 64);
	memcpy(cat + 64, block, sizeof(block));
	sha256(cat, sizeof(cat), expect);
	memset(out, 0, sizeof(out));
	ck_assert_int_ge(verity_root_hash_of_top_block(&sb, block, sizeof(block), out, sizeof(out)), 0);
	ck_assert_mem_eq(out, expect, SHA256_DIGEST_SIZE);

	/* Chrome OS format: sha256(block || salt). */
	build_sb(buf, 0, "sha256", 4096, 1024, 256, 64);
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), 0);
	memcpy(cat, block, sizeof(block));
	memcpy(cat + sizeof(block), sb.salt, 64);
	sha256(cat, sizeof(cat), expect);
	ck_assert_int_ge(verity_root_hash_of_top_block(&sb, block, sizeof(block), out, SHA256_DIGEST_SIZE), 0);
	ck_assert_mem_eq(out, expect, SHA256_DIGEST_SIZE);

	/* No salt: plain sha256 of the block. */
	build_sb(buf, 1, "sha256", 4096, 1024, 256, 0);
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), 0);
	sha256(block, sizeof(block), expect);
	ck_assert_int_ge(verity_root_hash_of_top_block(&sb, block, sizeof(block), out, sizeof(out)), 0);
	ck_assert_mem_eq(out, expect, SHA256_DIGEST_SIZE);

	/* Wrong block size, too small output. */
	ck_assert_int_eq(verity_root_hash_of_top_block(&sb, block, 512, out, sizeof(out)), -EINVAL);
	ck_assert_int_eq(verity_root_hash_of_top_block(&sb, block, sizeof(block), out, SHA256_DIGEST_SIZE - 1), -EINVAL);

	/* Other algorithms are left to the kernel. */
	build_sb(buf, 1, "sha1", 4096, 1024, 256, 32);
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), 0);
	ck_assert_int_eq(verity_root_hash_of_top_block(&sb, block, sizeof(block), out, sizeof(out)), -EOPNOTSUPP);
	build_sb(buf, 1, "sha512", 4096, 1024, 256, 32);
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), 0);
	ck_assert_int_eq(verity_root_hash_of_top_block(&sb, block, sizeof(block), out, sizeof(out)), -EOPNOTSUPP);
	build_sb(buf, 1, "SHA256", 4096, 1024, 256, 32);
	ck_assert_int_eq(verity_superblock_parse(buf, sizeof(buf), &sb), 0);
	ck_assert_int_eq(verity_root_hash_of_top_block(&sb, block, sizeof(block), out, sizeof(out)), -EOPNOTSUPP);
}
END_TEST

/* ======================= real images from veritysetup format ======================= */

struct real_image {
	char dir[64];
	char root_hash[160];
	char salt[600];
	char uuid[64];
	uint8_t *hash_dev;
	size_t hash_dev_size;
};

static void field(const char *line, const char *name, char *out, size_t size)
{
	const char *v = str_startswith(line, name);

	if (!v)
		return;
	v += strspn(v, " \t");
	ck_assert_int_eq(str_copy_n(out, size, v, strcspn(v, "\r\n")), 0);
}

/* Format a data file of data_bytes with the given extra veritysetup options; fill img. */
static void make_image(const char *options, size_t data_bytes, struct real_image *img)
{
	char data[128], hash[128], cmd[2048], line[1024];
	FILE *f;
	int status;

	ck_assert_msg(access(VERITYSETUP, X_OK) == 0,
		      VERITYSETUP " not found: install cryptsetup-bin (tools/deps.sh does)");
	memset(img, 0, sizeof(*img));
	snprintf(img->dir, sizeof(img->dir), "/tmp/edgeinit-unit-verity-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(img->dir));
	snprintf(data, sizeof(data), "%s/data", img->dir);
	snprintf(hash, sizeof(hash), "%s/hash", img->dir);

	f = fopen(data, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < data_bytes; i++)
		fputc((int)((i * 2654435761u) >> 13 & 0xff), f);
	ck_assert_int_eq(fclose(f), 0);

	snprintf(cmd, sizeof(cmd), VERITYSETUP " format %s %s %s 2>&1", options, data, hash);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	while (fgets(line, sizeof(line), f)) {
		field(line, "Root hash:", img->root_hash, sizeof(img->root_hash));
		field(line, "Salt:", img->salt, sizeof(img->salt));
		field(line, "UUID:", img->uuid, sizeof(img->uuid));
	}
	status = pclose(f);
	if (status != 0 || !img->root_hash[0]) { /* clean up before failing */
		unlink(data);
		unlink(hash);
		rmdir(img->dir);
	}
	ck_assert_msg(status == 0, "'%s' failed with status %d", cmd, status);
	ck_assert_msg(img->root_hash[0], "no 'Root hash:' in the output of '%s'", cmd);

	f = fopen(hash, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
	img->hash_dev_size = (size_t)ftell(f);
	rewind(f);
	img->hash_dev = malloc(img->hash_dev_size);
	ck_assert_ptr_nonnull(img->hash_dev);
	ck_assert_uint_eq(fread(img->hash_dev, 1, img->hash_dev_size, f), img->hash_dev_size);
	fclose(f);

	unlink(data);
	unlink(hash);
	rmdir(img->dir);
}

static const struct {
	const char *options;
	size_t data_bytes;
	uint32_t dbs, hbs, hash_type;
	const char *algorithm;
	int root_ret; /* 0: root hash must match; else the expected error */
} real_cases[] = {
	/* Multi-level trees (300 data blocks / 128 hashes per block: 3 leaves + top). */
	{ "", 300 * 4096, 4096, 4096, 1, "sha256", 0 },
	{ "--data-block-size=512 --hash-block-size=512", 200 * 512, 512, 512, 1, "sha256", 0 },
	{ "--data-block-size=4096 --hash-block-size=1024", 100 * 4096, 4096, 1024, 1, "sha256", 0 },
	{ "--hash-block-size=2048", 64 * 4096, 4096, 2048, 1, "sha256", 0 },
	{ "--format=0", 300 * 4096, 4096, 4096, 0, "sha256", 0 },
	{ "--salt=-", 300 * 4096, 4096, 4096, 1, "sha256", 0 },
	/* Maximum salt (256 bytes). */
	{ "--salt=000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
	  "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
	  "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
	  "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
	  "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
	  "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"
	  "c0c1c2c3c4c5c6c7c8c9cacbcccdcecfd0d1d2d3d4d5d6d7d8d9dadbdcdddedf"
	  "e0e1e2e3e4e5e6e7e8e9eaebecedeeeff0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
	  16 * 4096, 4096, 4096, 1, "sha256", 0 },
	/* Two data blocks: the top block is the only hash block. */
	{ "", 2 * 4096, 4096, 4096, 1, "sha256", 0 },
	/* Other algorithms parse but are not hashed here. */
	{ "--hash=sha1", 300 * 4096, 4096, 4096, 1, "sha1", -EOPNOTSUPP },
	{ "--hash=sha512", 300 * 4096, 4096, 4096, 1, "sha512", -EOPNOTSUPP },
};

START_TEST(test_real_image)
{
	char opts[1024], salt_hex[2 * VERITY_SALT_MAX + 1], root_hex[2 * SHA256_DIGEST_SIZE + 1];
	uint8_t root[SHA256_DIGEST_SIZE];
	struct verity_superblock sb;
	struct real_image img;
	uint64_t top;
	int r;

	snprintf(opts, sizeof(opts), "--uuid=12345678-9abc-def0-0123-456789abcdef %s", real_cases[_i].options);
	make_image(opts, real_cases[_i].data_bytes, &img);

	ck_assert_uint_ge(img.hash_dev_size, VERITY_SUPERBLOCK_SIZE);
	ck_assert_int_eq(verity_superblock_parse(img.hash_dev, img.hash_dev_size, &sb), 0);
	ck_assert_uint_eq(sb.version, 1);
	ck_assert_uint_eq(sb.hash_type, real_cases[_i].hash_type);
	ck_assert_str_eq(sb.algorithm, real_cases[_i].algorithm);
	ck_assert_uint_eq(sb.data_block_size, real_cases[_i].dbs);
	ck_assert_uint_eq(sb.hash_block_size, real_cases[_i].hbs);
	ck_assert_uint_eq(sb.data_blocks, real_cases[_i].data_bytes / real_cases[_i].dbs);
	ck_assert_mem_eq(sb.uuid, test_uuid, 16);
	ck_assert_str_eq(img.uuid, "12345678-9abc-def0-0123-456789abcdef");
	if (sb.salt_size == 0)
		ck_assert_str_eq(img.salt, "-");
	else {
		ck_assert_int_eq(hex_encode(sb.salt, sb.salt_size, salt_hex, sizeof(salt_hex)), 2 * sb.salt_size);
		ck_assert_str_eq(salt_hex, img.salt);
	}

	top = verity_top_block_offset(&sb);
	ck_assert_uint_eq(top % sb.hash_block_size, 0);
	ck_assert_uint_ge(top, VERITY_SUPERBLOCK_SIZE);
	ck_assert_msg(top + sb.hash_block_size <= img.hash_dev_size, "top block at %llu beyond the %zu-byte hash device",
		      (unsigned long long)top, img.hash_dev_size);

	r = verity_root_hash_of_top_block(&sb, img.hash_dev + top, sb.hash_block_size, root, sizeof(root));
	if (real_cases[_i].root_ret == 0) {
		ck_assert_int_ge(r, 0);
		ck_assert_int_eq(hex_encode(root, sizeof(root), root_hex, sizeof(root_hex)), 64);
		ck_assert_str_eq(root_hex, img.root_hash);
	} else
		ck_assert_int_eq(r, real_cases[_i].root_ret);

	free(img.hash_dev);
}
END_TEST

/* ======================= dm table ======================= */

#define DIGEST "4392712ba01368efdf14b05c76f9e4df0d53664630b5d48632ed17a137f39076"
#define SALT "1a94fa7ff7c7e43ec3b3d04a2a3bd26ac5ed6da31e5c0a2e3b86a5b0eb1ff7b1"

static const struct {
	const char *params;
	int ret;
	const char *digest;
} table_cases[] = {
	{ "1 252:2 252:4 4096 4096 2048 1 sha256 " DIGEST " " SALT " 1 restart_on_corruption", 0, DIGEST },
	{ "1 252:2 252:4 4096 4096 2048 1 sha256 " DIGEST " " SALT, 0, DIGEST },
	{ "1 252:2 252:4 4096 4096 2048 1 sha256 " DIGEST " -", 0, DIGEST },
	{ "1 252:2 252:4 4096 4096 2048 1 sha256 " DIGEST, 0, DIGEST },
	{ "1 8:2 8:3 4096 4096 262144 1 sha1 86cf44f32adf0cffe21b017005cceb4ac9b71e4c - 2 "
	  "ignore_zero_blocks check_at_most_once", 0, "86cf44f32adf0cffe21b017005cceb4ac9b71e4c" },
	{ "0 7:0 7:0 4096 4096 256 257 sha256 ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789 "
	  SALT, 0, "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789" },
	/* Several spaces between fields. */
	{ "1  252:2 252:4  4096 4096 2048 1 sha256  " DIGEST "  " SALT, 0, DIGEST },
	/* Malformed. */
	{ "", -EINVAL, NULL },
	{ "1 252:2 252:4 4096 4096 2048 1 sha256", -EINVAL, NULL },
	{ "1 252:2 252:4 4096 4096 2048 1 sha256 ", -EINVAL, NULL },
	{ "1 252:2 252:4 4096 4096 2048 1 sha256 xyz " SALT, -EINVAL, NULL },
	{ "1 252:2 252:4 4096 4096 2048 1 sha256 " DIGEST "0 " SALT, -EINVAL, NULL }, /* odd length */
	{ "1 252:2 252:4 4096 4096 2048 1 sha256 4392712ba01368efdf14b05c76f9e4df0d53664630b5d48632ed17a137f3907g " SALT, -EINVAL, NULL },
};

START_TEST(test_table_root_hash)
{
	char out[256];
	int r;

	memset(out, 0, sizeof(out));
	r = verity_table_root_hash(table_cases[_i].params, out, sizeof(out));
	if (table_cases[_i].ret == 0) {
		ck_assert_msg(r >= 0, "'%s': %d", table_cases[_i].params, r);
		ck_assert_str_eq(out, table_cases[_i].digest);
	} else
		ck_assert_msg(r == table_cases[_i].ret, "'%s': %d, expected %d", table_cases[_i].params, r,
			      table_cases[_i].ret);
}
END_TEST

START_TEST(test_table_root_hash_small_buffer)
{
	static const char params[] = "1 252:2 252:4 4096 4096 2048 1 sha256 " DIGEST " " SALT " 1 restart_on_corruption";
	char out[65];

	ck_assert_int_ge(verity_table_root_hash(params, out, sizeof(out)), 0);
	ck_assert_str_eq(out, DIGEST);
	ck_assert_int_lt(verity_table_root_hash(params, out, 64), 0);
	ck_assert_int_lt(verity_table_root_hash(params, out, 1), 0);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *verity_suite(void)
{
	Suite *s = suite_create("verity");
	TCase *tc = tcase_create("superblock"), *real = tcase_create("veritysetup"), *table = tcase_create("dm-table");

	tcase_add_test(tc, test_parse_hand_built);
	tcase_add_loop_test(tc, test_reject_table, 0, N(reject_cases));
	tcase_add_test(tc, test_reject_misc);
	tcase_add_loop_test(tc, test_top_block_offset, 0, N(top_offset_cases));
	tcase_add_test(tc, test_root_hash_hand_built);
	suite_add_tcase(s, tc);

	tcase_set_timeout(real, 30);
	tcase_add_loop_test(real, test_real_image, 0, N(real_cases));
	suite_add_tcase(s, real);

	tcase_add_loop_test(table, test_table_root_hash, 0, N(table_cases));
	tcase_add_test(table, test_table_root_hash_small_buffer);
	suite_add_tcase(s, table);
	return s;
}
