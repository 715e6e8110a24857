/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "edgeinit/emt.h"
#include "edgeinit/macro.h"
#include "edgeinit/strutil.h"

/* EMT's installer: numbers with hash partitions (FDE and verity-only), numbers without them
 * (plain images), and the mapper names its unlock script and update tool use. */
static const struct emt_role_info roles[_EMT_ROLE_MAX] = {
	[EMT_ESP] = { "esp", 1, 1, NULL },
	[EMT_ROOTFS_A] = { "rootfs", 2, 2, "rootfs_a" },
	[EMT_PERSIST] = { "edge_persistent", 3, 3, "edge_persistent" },
	[EMT_HASHMAP_A] = { "hashmap_a", 4, 0, "root_a_ver_hash_map" },
	[EMT_HASHMAP_B] = { "hashmap_b", 5, 0, "root_b_ver_hash_map" },
	[EMT_ROOTFS_B] = { "rootfs_b", 6, 4, "rootfs_b" },
	[EMT_ROOTHASH] = { "roothash", 7, 0, "ver_roothash" },
	[EMT_SWAP] = { "swap", 8, 5, "swap_crypt" },
	[EMT_TEP] = { "tep", 9, 6, NULL },
	[EMT_RESERVED] = { "reserved", 10, 7, NULL },
	[EMT_LVM] = { "lvm", 11, 8, "lvmvg_crypt" },
};

const struct emt_role_info *emt_role_info(enum emt_role role)
{
	return role < _EMT_ROLE_MAX ? &roles[role] : NULL;
}

const char *emt_mode_to_string(enum emt_mode mode)
{
	switch (mode) {
	case EMT_MODE_FDE:
		return "fde";
	case EMT_MODE_VERITY:
		return "verity";
	case EMT_MODE_PLAIN:
		return "plain";
	}
	return "unknown";
}

static int role_by_name(const char *name)
{
	for (int r = 0; r < _EMT_ROLE_MAX; r++)
		if (name && strcasecmp(name, roles[r].gpt_name) == 0)
			return r;
	return -1;
}

void emt_assign_roles(const struct emt_partition *parts, size_t n, enum emt_mode mode,
		      int role_index[_EMT_ROLE_MAX])
{
	for (int r = 0; r < _EMT_ROLE_MAX; r++)
		role_index[r] = -1;
	/* Names first; the first partition carrying a name keeps it. */
	for (size_t i = 0; i < n; i++) {
		int r = role_by_name(parts[i].gpt_name);

		if (r >= 0 && role_index[r] < 0)
			role_index[r] = (int)i;
	}
	/* Numbers for roles no name claimed, on partitions without a role name of their own. */
	for (int r = 0; r < _EMT_ROLE_MAX; r++) {
		unsigned want = mode == EMT_MODE_PLAIN ? roles[r].plain_number : roles[r].number;

		if (role_index[r] >= 0 || want == 0)
			continue;
		for (size_t i = 0; i < n; i++)
			if (parts[i].number == want && role_by_name(parts[i].gpt_name) < 0) {
				role_index[r] = (int)i;
				break;
			}
	}
}

int partition_disk_name(const char *partition, char *disk, size_t size)
{
	size_t len = partition ? strlen(partition) : 0, end = len;

	while (end > 0 && isdigit((unsigned char)partition[end - 1]))
		end--;
	if (end == len || end == 0)
		return -EINVAL;
	/* nvme0n1p3, mmcblk0p7: the disk name ends in a digit, so a 'p' separates the number. */
	if (end >= 2 && partition[end - 1] == 'p' && isdigit((unsigned char)partition[end - 2]))
		end--;
	return str_copy_n(disk, size, partition, end);
}

unsigned emt_parallel_opens(size_t jobs, unsigned cpus, uint64_t mem_available_kib,
			    uint32_t pbkdf_memory_kib)
{
	uint64_t n = jobs < cpus ? jobs : cpus;

	if (pbkdf_memory_kib > 0) {
		uint64_t fit = mem_available_kib / 4 * 3 / pbkdf_memory_kib;

		if (fit < n)
			n = fit;
	}
	return n > 0 ? (unsigned)n : 1;
}

bool emt_disk_kind_supported(const char *disk)
{
	static const char *const prefixes[] = { "sd", "nvme", "vd", "mmcblk" };

	for (size_t i = 0; i < ELEMENTSOF(prefixes); i++)
		if (str_startswith(disk, prefixes[i]))
			return true;
	return false;
}

int emt_roothash_parse(const char *buf, size_t len, uint8_t *out, size_t size)
{
	char hex[2 * 64 + 1];
	size_t start = 0, end = len;
	int n;

	while (start < end && isspace((unsigned char)buf[start]))
		start++;
	while (end > start && isspace((unsigned char)buf[end - 1]))
		end--;
	/* sha256 (32 bytes) to sha512 (64 bytes) */
	if (end - start < 64 || end - start >= sizeof(hex))
		return -EBADMSG;
	memcpy(hex, buf + start, end - start);
	hex[end - start] = '\0';
	if (memchr(hex, '\0', end - start))
		return -EBADMSG;
	n = hex_decode(hex, out, size);
	return n < 0 ? -EBADMSG : n;
}
