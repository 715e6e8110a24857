/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* dm-verity on-disk facts: the superblock veritysetup writes, where the top hash block lives,
 * how the root hash is derived from it, and the root hash inside an active dm table. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VERITY_SUPERBLOCK_SIZE 512
#define VERITY_SALT_MAX 256

struct verity_superblock {
	uint32_t version;
	uint32_t hash_type;          /* 1: salt prepended (normal), 0: Chrome OS, salt appended */
	uint8_t uuid[16];
	char algorithm[32];
	uint32_t data_block_size;
	uint32_t hash_block_size;
	uint64_t data_blocks;
	uint16_t salt_size;
	uint8_t salt[VERITY_SALT_MAX];
};

/* Parse the 512-byte superblock at the start of the hash device. -EINVAL if the signature,
 * version, block sizes (power of two, 512..1 MiB) or salt size are wrong. */
int verity_superblock_parse(const uint8_t *buf, size_t len, struct verity_superblock *sb);

/* Byte offset of the top-level hash block on the hash device: the hash area starts at the first
 * hash block boundary after the superblock, and the tree is stored top level first. Only valid
 * when data_blocks > 1: a one-block device has no tree, its root hash is that of the data block. */
uint64_t verity_top_block_offset(const struct verity_superblock *sb);

/* Compute the root hash of a top-level hash block (hash_block_size bytes). Only sha256 is
 * implemented: -EOPNOTSUPP for other algorithms (the kernel still verifies those). */
int verity_root_hash_of_top_block(const struct verity_superblock *sb, const uint8_t *block,
				  size_t block_size, uint8_t *out, size_t out_size);

/* Extract the root hash (hex) from a dm "verity" target's table parameters:
 * "<version> <data_dev> <hash_dev> <dbs> <hbs> <nblocks> <hash_start> <alg> <digest> <salt> ...".
 * Writes the hex digest into out. -EINVAL if malformed. */
int verity_table_root_hash(const char *params, char *out, size_t out_size);
