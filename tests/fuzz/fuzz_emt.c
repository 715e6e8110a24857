/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: EMT's root hash files and partition roles. Invariants: a parsed root hash
 * re-encodes to the hex digits of the input; roles point at distinct partitions, each either
 * carrying the role's name or a number EMT uses for it. */
#include <ctype.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "edgeinit/emt.h"
#include "edgeinit/strutil.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static void fuzz_roothash(const uint8_t *data, size_t size)
{
	uint8_t out[64];
	char hex[129];
	int n = emt_roothash_parse((const char *)data, size, out, sizeof(out));

	CHECK(n == -EBADMSG || (n >= 32 && n <= 64));
	if (n < 0)
		return;
	hex_encode(out, (size_t)n, hex, sizeof(hex));
	/* The hex digits sit in the input, surrounded only by white space. */
	size_t start = 0;
	while (start < size && isspace(data[start]))
		start++;
	CHECK(size - start >= 2 * (size_t)n);
	CHECK(strncasecmp((const char *)data + start, hex, 2 * (size_t)n) == 0);
}

static void fuzz_roles(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "esp", "rootfs", "edge_persistent", "hashmap_a",
					     "hashmap_b", "rootfs_b", "roothash", "swap", "tep",
					     "reserved", "lvm", "", "data", "ROOTFS" };
	struct emt_partition parts[16];
	int idx[_EMT_ROLE_MAX];
	size_t n = size / 2 < 16 ? size / 2 : 16;

	for (size_t i = 0; i < n; i++) {
		parts[i].number = data[2 * i] % 16;
		parts[i].gpt_name = names[data[2 * i + 1] % (sizeof(names) / sizeof(names[0]))];
	}
	for (int mode = EMT_MODE_FDE; mode <= EMT_MODE_PLAIN; mode++) {
		emt_assign_roles(parts, n, (enum emt_mode)mode, idx);
		for (int r = 0; r < _EMT_ROLE_MAX; r++) {
			const struct emt_role_info *ri = emt_role_info((enum emt_role)r);
			unsigned want = mode == EMT_MODE_PLAIN ? ri->plain_number : ri->number;

			if (idx[r] < 0)
				continue;
			CHECK((size_t)idx[r] < n);
			CHECK(strcasecmp(parts[idx[r]].gpt_name, ri->gpt_name) == 0 ||
			      parts[idx[r]].number == want);
			for (int o = r + 1; o < _EMT_ROLE_MAX; o++)
				CHECK(idx[o] != idx[r]);
		}
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char disk[64];

	if (size > 4096)
		return 0;
	fuzz_roothash(data, size);
	fuzz_roles(data, size);
	char *s = malloc(size + 1);
	if (!s)
		abort();
	memcpy(s, data, size);
	s[size] = '\0';
	if (partition_disk_name(s, disk, sizeof(disk)) >= 0)
		CHECK(strlen(disk) > 0 && strncmp(s, disk, strlen(disk)) == 0);
	free(s);
	return 0;
}
