/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dm-verity superblock and root-hash arithmetic (cryptsetup's on-disk format, "verity_sb"). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/sha256.h"
#include "edgeinit/strutil.h"
#include "edgeinit/verity.h"

static uint32_t le32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t le64(const uint8_t *p) { return (uint64_t)le32(p) | (uint64_t)le32(p + 4) << 32; }

static bool valid_block_size(uint32_t s)
{
	return s >= 512 && s <= (1u << 20) && (s & (s - 1)) == 0;
}

int verity_superblock_parse(const uint8_t *buf, size_t len, struct verity_superblock *sb)
{
	/* Layout: signature[8] version hash_type uuid[16] algorithm[32] data_block_size
	 * hash_block_size data_blocks(64) salt_size(16) pad[6] salt[256] pad[168]. */
	memset(sb, 0, sizeof(*sb));
	if (!buf || len < VERITY_SUPERBLOCK_SIZE || memcmp(buf, "verity\0\0", 8) != 0)
		return -EINVAL;
	sb->version = le32(buf + 8);
	sb->hash_type = le32(buf + 12);
	memcpy(sb->uuid, buf + 16, 16);
	memcpy(sb->algorithm, buf + 32, sizeof(sb->algorithm));
	sb->data_block_size = le32(buf + 64);
	sb->hash_block_size = le32(buf + 68);
	sb->data_blocks = le64(buf + 72);
	sb->salt_size = (uint16_t)(buf[80] | buf[81] << 8);
	if (sb->version != 1 || sb->hash_type > 1 || !valid_block_size(sb->data_block_size) ||
	    !valid_block_size(sb->hash_block_size) || sb->salt_size > VERITY_SALT_MAX ||
	    sb->data_blocks == 0 || memchr(sb->algorithm, '\0', sizeof(sb->algorithm)) == NULL ||
	    sb->algorithm[0] == '\0')
		return -EINVAL;
	memcpy(sb->salt, buf + 88, sb->salt_size);
	return 0;
}

uint64_t verity_top_block_offset(const struct verity_superblock *sb)
{
	uint64_t hbs = sb->hash_block_size;

	return (VERITY_SUPERBLOCK_SIZE + hbs - 1) / hbs * hbs;
}

int verity_root_hash_of_top_block(const struct verity_superblock *sb, const uint8_t *block,
				  size_t block_size, uint8_t *out, size_t out_size)
{
	struct sha256_ctx c;

	if (strcmp(sb->algorithm, "sha256") != 0)
		return -EOPNOTSUPP;
	if (block_size != sb->hash_block_size || out_size < SHA256_DIGEST_SIZE)
		return -EINVAL;
	sha256_init(&c);
	if (sb->hash_type == 1)
		sha256_update(&c, sb->salt_size, sb->salt);
	sha256_update(&c, block_size, block);
	if (sb->hash_type == 0)
		sha256_update(&c, sb->salt_size, sb->salt);
	sha256_final(&c, out);
	return SHA256_DIGEST_SIZE;
}

int verity_table_root_hash(const char *params, char *out, size_t out_size)
{
	const char *p = params;

	/* The digest is the 9th field. */
	for (int field = 1; field < 9; field++) {
		p = strchr(p, ' ');
		if (!p)
			return -EINVAL;
		while (*p == ' ')
			p++;
	}
	size_t n = strcspn(p, " ");
	if (n == 0 || n % 2 != 0)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!strchr("0123456789abcdefABCDEF", p[i]))
			return -EINVAL;
	return str_copy_n(out, out_size, p, n);
}
