/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/emt.h"
#include "edgeinit/macro.h"
#include "suites.h"

static void roles_of(const struct emt_partition *p, size_t n, enum emt_mode mode, int idx[_EMT_ROLE_MAX])
{
	emt_assign_roles(p, n, mode, idx);
}

START_TEST(test_roles_by_name)
{
	/* Names win over numbers: a disk whose partitions were renumbered keeps its roles. */
	static const struct emt_partition p[] = {
		{ 1, "esp" }, { 2, "rootfs" }, { 3, "edge_persistent" }, { 5, "hashmap_a" },
		{ 4, "hashmap_b" }, { 6, "rootfs_b" }, { 8, "roothash" }, { 7, "swap" },
	};
	int idx[_EMT_ROLE_MAX];

	roles_of(p, ELEMENTSOF(p), EMT_MODE_FDE, idx);
	ck_assert_int_eq(idx[EMT_HASHMAP_A], 3);
	ck_assert_int_eq(idx[EMT_HASHMAP_B], 4);
	ck_assert_int_eq(idx[EMT_ROOTHASH], 6);
	ck_assert_int_eq(idx[EMT_SWAP], 7);
	ck_assert_int_eq(idx[EMT_LVM], -1);
	ck_assert_int_eq(idx[EMT_TEP], -1);
}
END_TEST

START_TEST(test_roles_by_number)
{
	static const struct emt_partition p[] = {
		{ 1, "" }, { 2, "" }, { 3, "" }, { 4, "" }, { 5, "" }, { 6, "" }, { 7, "" }, { 11, "" },
	};
	int idx[_EMT_ROLE_MAX];

	roles_of(p, ELEMENTSOF(p), EMT_MODE_FDE, idx);
	ck_assert_int_eq(idx[EMT_ROOTFS_A], 1);
	ck_assert_int_eq(idx[EMT_HASHMAP_A], 3);
	ck_assert_int_eq(idx[EMT_ROOTFS_B], 5);
	ck_assert_int_eq(idx[EMT_ROOTHASH], 6);
	ck_assert_int_eq(idx[EMT_SWAP], -1);
	ck_assert_int_eq(idx[EMT_LVM], 7);
	/* Plain numbering: no hash partitions, rootfs_b is 4, swap 5. */
	roles_of(p, ELEMENTSOF(p), EMT_MODE_PLAIN, idx);
	ck_assert_int_eq(idx[EMT_ROOTFS_B], 3);
	ck_assert_int_eq(idx[EMT_SWAP], 4);
	ck_assert_int_eq(idx[EMT_HASHMAP_A], -1);
	ck_assert_int_eq(idx[EMT_ROOTHASH], -1);
}
END_TEST

START_TEST(test_roles_number_never_takes_a_named_partition)
{
	/* Partition 7 is named "data" by someone: it is nobody's roothash. Partition 4 carries
	 * another role's name and keeps it. */
	static const struct emt_partition p[] = {
		{ 2, "rootfs" }, { 4, "rootfs_b" }, { 7, "data" },
	};
	int idx[_EMT_ROLE_MAX];

	roles_of(p, ELEMENTSOF(p), EMT_MODE_FDE, idx);
	ck_assert_int_eq(idx[EMT_ROOTFS_B], 1);
	ck_assert_int_eq(idx[EMT_HASHMAP_A], -1);
	ck_assert_int_eq(idx[EMT_ROOTHASH], 2); /* an unknown name is no role name */
	/* Duplicate names: the first keeps the role. */
	static const struct emt_partition dup[] = { { 2, "rootfs" }, { 6, "rootfs" } };
	roles_of(dup, ELEMENTSOF(dup), EMT_MODE_FDE, idx);
	ck_assert_int_eq(idx[EMT_ROOTFS_A], 0);
	ck_assert_int_eq(idx[EMT_ROOTFS_B], -1);
}
END_TEST

START_TEST(test_mapper_names)
{
	ck_assert_str_eq(emt_role_info(EMT_ROOTFS_A)->mapper_name, "rootfs_a");
	ck_assert_str_eq(emt_role_info(EMT_ROOTFS_B)->mapper_name, "rootfs_b");
	ck_assert_str_eq(emt_role_info(EMT_HASHMAP_A)->mapper_name, "root_a_ver_hash_map");
	ck_assert_str_eq(emt_role_info(EMT_HASHMAP_B)->mapper_name, "root_b_ver_hash_map");
	ck_assert_str_eq(emt_role_info(EMT_ROOTHASH)->mapper_name, "ver_roothash");
	ck_assert_str_eq(emt_role_info(EMT_PERSIST)->mapper_name, "edge_persistent");
	ck_assert_str_eq(emt_role_info(EMT_SWAP)->mapper_name, "swap_crypt");
	ck_assert_str_eq(emt_role_info(EMT_LVM)->mapper_name, "lvmvg_crypt");
	ck_assert_ptr_null(emt_role_info(EMT_ESP)->mapper_name);
	ck_assert_ptr_null(emt_role_info(_EMT_ROLE_MAX));
	ck_assert_str_eq(emt_mode_to_string(EMT_MODE_VERITY), "verity");
}
END_TEST

START_TEST(test_partition_disk_name)
{
	static const struct { const char *part, *disk; } ok[] = {
		{ "vda2", "vda" }, { "sda11", "sda" }, { "nvme0n1p3", "nvme0n1" },
		{ "mmcblk0p7", "mmcblk0" }, { "nvme10n2p12", "nvme10n2" }, { "sdaa1", "sdaa" },
	};
	char disk[16];

	for (size_t i = 0; i < ELEMENTSOF(ok); i++) {
		ck_assert_int_ge(partition_disk_name(ok[i].part, disk, sizeof(disk)), 0);
		ck_assert_str_eq(disk, ok[i].disk);
	}
	ck_assert_int_eq(partition_disk_name("vda", disk, sizeof(disk)), -EINVAL);
	ck_assert_int_eq(partition_disk_name("123", disk, sizeof(disk)), -EINVAL);
	ck_assert_int_eq(partition_disk_name("", disk, sizeof(disk)), -EINVAL);
	ck_assert_int_eq(partition_disk_name(NULL, disk, sizeof(disk)), -EINVAL);
	ck_assert_int_eq(partition_disk_name("averyveryverylongdiskname1", disk, sizeof(disk)), -E2BIG);

	ck_assert(emt_disk_kind_supported("sda"));
	ck_assert(emt_disk_kind_supported("nvme0n1"));
	ck_assert(emt_disk_kind_supported("vdb"));
	ck_assert(emt_disk_kind_supported("mmcblk0"));
	ck_assert(!emt_disk_kind_supported("loop0"));
	ck_assert(!emt_disk_kind_supported("dm-0"));
	ck_assert(!emt_disk_kind_supported("sr0"));
}
END_TEST

START_TEST(test_roothash_parse)
{
	static const char h64[] = "4392f0bdcb10b3d6e1a97a20c2a5bd7ef5ce7ec37cc4a7f3d4fef5d8e0d9a8b1";
	uint8_t out[64];
	char buf[300];

	/* What `veritysetup format | grep Root | cut -f2 > file` writes, and without newline. */
	snprintf(buf, sizeof(buf), "%s\n", h64);
	ck_assert_int_eq(emt_roothash_parse(buf, strlen(buf), out, sizeof(out)), 32);
	ck_assert_uint_eq(out[0], 0x43);
	ck_assert_uint_eq(out[31], 0xb1);
	ck_assert_int_eq(emt_roothash_parse(h64, 64, out, sizeof(out)), 32);
	snprintf(buf, sizeof(buf), " \t%s\r\n\n", h64);
	ck_assert_int_eq(emt_roothash_parse(buf, strlen(buf), out, sizeof(out)), 32);
	/* sha512 */
	snprintf(buf, sizeof(buf), "%s%s", h64, h64);
	ck_assert_int_eq(emt_roothash_parse(buf, strlen(buf), out, sizeof(out)), 64);
	/* Refused: short, odd, junk, two words, "Root hash:" prefix, NUL inside, too long. */
	ck_assert_int_eq(emt_roothash_parse(h64, 62, out, sizeof(out)), -EBADMSG);
	ck_assert_int_eq(emt_roothash_parse(h64, 63, out, sizeof(out)), -EBADMSG);
	snprintf(buf, sizeof(buf), "%sx", h64);
	ck_assert_int_eq(emt_roothash_parse(buf, strlen(buf), out, sizeof(out)), -EBADMSG);
	snprintf(buf, sizeof(buf), "%s %s", h64, h64);
	ck_assert_int_eq(emt_roothash_parse(buf, strlen(buf), out, sizeof(out)), -EBADMSG);
	snprintf(buf, sizeof(buf), "Root hash:\t%s", h64);
	ck_assert_int_eq(emt_roothash_parse(buf, strlen(buf), out, sizeof(out)), -EBADMSG);
	memcpy(buf, h64, 65);
	buf[10] = '\0';
	ck_assert_int_eq(emt_roothash_parse(buf, 64, out, sizeof(out)), -EBADMSG);
	snprintf(buf, sizeof(buf), "%s%s00", h64, h64);
	ck_assert_int_eq(emt_roothash_parse(buf, strlen(buf), out, sizeof(out)), -EBADMSG);
	ck_assert_int_eq(emt_roothash_parse("", 0, out, sizeof(out)), -EBADMSG);
	/* Output too small. */
	ck_assert_int_eq(emt_roothash_parse(h64, 64, out, 16), -EBADMSG);
}
END_TEST

START_TEST(test_parallel_opens)
{
	/* PBKDF2: one per CPU. */
	ck_assert_uint_eq(emt_parallel_opens(9, 2, 0, 0), 2);
	ck_assert_uint_eq(emt_parallel_opens(1, 8, 0, 0), 1);
	/* argon2id with 2 GiB each: memory bounds it. 8 GiB available: 3 fit in three quarters. */
	ck_assert_uint_eq(emt_parallel_opens(9, 16, 8ull << 20, 2u << 20), 3);
	ck_assert_uint_eq(emt_parallel_opens(9, 2, 8ull << 20, 2u << 20), 2);
	/* Not even one fits, or memory unknown: still one at a time, never zero. */
	ck_assert_uint_eq(emt_parallel_opens(9, 4, 1ull << 20, 2u << 20), 1);
	ck_assert_uint_eq(emt_parallel_opens(9, 4, 0, 2u << 20), 1);
	ck_assert_uint_eq(emt_parallel_opens(0, 4, 0, 0), 1);
}
END_TEST

Suite *emt_suite(void)
{
	Suite *s = suite_create("emt");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_roles_by_name);
	tcase_add_test(tc, test_roles_by_number);
	tcase_add_test(tc, test_roles_number_never_takes_a_named_partition);
	tcase_add_test(tc, test_mapper_names);
	tcase_add_test(tc, test_partition_disk_name);
	tcase_add_test(tc, test_roothash_parse);
	tcase_add_test(tc, test_parallel_opens);
	suite_add_tcase(s, tc);
	return s;
}
