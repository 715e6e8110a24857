/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/devref.h"
#include "suites.h"

static const struct {
	const char *in;
	int ret;
	enum devref_kind kind;
	const char *value;
} parse_cases[] = {
	{ "PARTLABEL=rootfs", 0, DEVREF_PARTLABEL, "rootfs" },
	{ "PARTUUID=6C0E0F3E-1D1A-4A43-9E0F-0D8B0B9E2C11", 0, DEVREF_PARTUUID, "6C0E0F3E-1D1A-4A43-9E0F-0D8B0B9E2C11" },
	{ "UUID=2f1e3c4d-0000-4a43-9e0f-0d8b0b9e2c11", 0, DEVREF_UUID, "2f1e3c4d-0000-4a43-9e0f-0d8b0b9e2c11" },
	{ "LABEL=persist", 0, DEVREF_LABEL, "persist" },
	{ "PARTLABEL=a=b", 0, DEVREF_PARTLABEL, "a=b" },
	{ "LABEL=with space", 0, DEVREF_LABEL, "with space" },
	{ "/dev/sda1", 0, DEVREF_PATH, "/dev/sda1" },
	{ "/dev/nvme0n1p3", 0, DEVREF_PATH, "/dev/nvme0n1p3" },
	{ "/dev/mapper/rootfs_verity", 0, DEVREF_PATH, "/dev/mapper/rootfs_verity" },
	{ "/dev/disk/by-id/virtio-abc", 0, DEVREF_PATH, "/dev/disk/by-id/virtio-abc" },
	/* udev symlinks mapped to tags: there is no udev in the initramfs. */
	{ "/dev/disk/by-partlabel/rootfs", 0, DEVREF_PARTLABEL, "rootfs" },
	{ "/dev/disk/by-partuuid/6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11", 0, DEVREF_PARTUUID, "6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11" },
	{ "/dev/disk/by-uuid/2f1e3c4d-0000-4a43-9e0f-0d8b0b9e2c11", 0, DEVREF_UUID, "2f1e3c4d-0000-4a43-9e0f-0d8b0b9e2c11" },
	{ "/dev/disk/by-label/persist", 0, DEVREF_LABEL, "persist" },
	/* Rejections. */
	{ "", -EINVAL, DEVREF_NONE, "" },
	{ "PARTLABEL=", -EINVAL, DEVREF_NONE, "" },
	{ "PARTUUID=", -EINVAL, DEVREF_NONE, "" },
	{ "UUID=", -EINVAL, DEVREF_NONE, "" },
	{ "LABEL=", -EINVAL, DEVREF_NONE, "" },
	{ "/dev/disk/by-partlabel/", -EINVAL, DEVREF_NONE, "" },
	{ "/dev/disk/by-label/", -EINVAL, DEVREF_NONE, "" },
	{ "/dev/disk/by-partlabel/a/b", -EINVAL, DEVREF_NONE, "" },
	{ "PARTLABEL=../../etc", -EINVAL, DEVREF_NONE, "" },
	{ "sda1", -EINVAL, DEVREF_NONE, "" },
	{ "dev/sda1", -EINVAL, DEVREF_NONE, "" },
	{ "/dev/", -EINVAL, DEVREF_NONE, "" },
	{ "/dev", -EINVAL, DEVREF_NONE, "" },
	{ "/etc/passwd", -EINVAL, DEVREF_NONE, "" },
	{ "/dev/../etc/passwd", -EINVAL, DEVREF_NONE, "" },
	{ "/devsda", -EINVAL, DEVREF_NONE, "" },
	{ "FOO=x", -EINVAL, DEVREF_NONE, "" },
	{ "partlabel=rootfs", -EINVAL, DEVREF_NONE, "" },
	{ "ID=x", -EINVAL, DEVREF_NONE, "" },
};

START_TEST(test_parse_table)
{
	struct devref ref;
	int r;

	memset(&ref, 0x55, sizeof(ref));
	r = devref_parse(parse_cases[_i].in, &ref);
	ck_assert_msg(r == parse_cases[_i].ret, "devref_parse(\"%s\") = %d, expected %d", parse_cases[_i].in,
		      r, parse_cases[_i].ret);
	if (r == 0) {
		ck_assert_int_eq(ref.kind, parse_cases[_i].kind);
		ck_assert_str_eq(ref.value, parse_cases[_i].value);
	}
}
END_TEST

START_TEST(test_parse_null_and_long)
{
	char in[DEVREF_VALUE_MAX + 32];
	struct devref ref;

	ck_assert_int_eq(devref_parse(NULL, &ref), -EINVAL);
	ck_assert_int_eq(ref.kind, DEVREF_NONE);

	/* Longest label that fits: DEVREF_VALUE_MAX - 1. */
	snprintf(in, sizeof(in), "PARTLABEL=");
	memset(in + 10, 'x', DEVREF_VALUE_MAX - 1);
	in[10 + DEVREF_VALUE_MAX - 1] = '\0';
	ck_assert_int_eq(devref_parse(in, &ref), 0);
	ck_assert_uint_eq(strlen(ref.value), DEVREF_VALUE_MAX - 1);
	/* One more. */
	strcat(in, "x");
	ck_assert_int_eq(devref_parse(in, &ref), -E2BIG);

	snprintf(in, sizeof(in), "/dev/");
	memset(in + 5, 'd', DEVREF_VALUE_MAX);
	in[5 + DEVREF_VALUE_MAX] = '\0';
	ck_assert_int_eq(devref_parse(in, &ref), -E2BIG);
}
END_TEST

static struct blockdev_tags make_tags(const char *partlabel, const char *partuuid, const char *uuid,
				      const char *label)
{
	struct blockdev_tags t;

	memset(&t, 0, sizeof(t));
	snprintf(t.partlabel, sizeof(t.partlabel), "%s", partlabel);
	snprintf(t.partuuid, sizeof(t.partuuid), "%s", partuuid);
	snprintf(t.uuid, sizeof(t.uuid), "%s", uuid);
	snprintf(t.label, sizeof(t.label), "%s", label);
	snprintf(t.type, sizeof(t.type), "ext4");
	return t;
}

static const struct {
	const char *ref;
	const char *devnode;
	const char *partlabel, *partuuid, *uuid, *label;
	bool match;
} match_cases[] = {
	{ "PARTLABEL=rootfs", "/dev/vda3", "rootfs", "", "", "", true },
	{ "PARTLABEL=rootfs", "/dev/vda3", "rootfs_b", "", "", "", false },
	{ "PARTLABEL=rootfs", "/dev/vda3", "ROOTFS", "", "", "", false }, /* labels are case-sensitive */
	{ "PARTLABEL=rootfs", "/dev/vda3", "", "", "", "rootfs", false }, /* LABEL is not PARTLABEL */
	{ "LABEL=rootfs", "/dev/vda3", "rootfs", "", "", "", false },
	{ "LABEL=rootfs", "/dev/vda3", "", "", "", "rootfs", true },
	{ "LABEL=rootfs", "/dev/vda3", "", "", "", "Rootfs", false },
	{ "PARTUUID=6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11", "/dev/vda1", "", "6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11", "", "", true },
	{ "PARTUUID=6C0E0F3E-1D1A-4A43-9E0F-0D8B0B9E2C11", "/dev/vda1", "", "6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11", "", "", true },
	{ "PARTUUID=6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11", "/dev/vda1", "", "6C0E0F3E-1D1A-4A43-9E0F-0D8B0B9E2C11", "", "", true },
	{ "PARTUUID=6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11", "/dev/vda1", "", "", "6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11", "", false },
	{ "PARTUUID=6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11", "/dev/vda1", "", "6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c12", "", "", false },
	{ "UUID=2F1E3C4D-0000-4A43-9E0F-0D8B0B9E2C11", "/dev/vda1", "", "", "2f1e3c4d-0000-4a43-9e0f-0d8b0b9e2c11", "", true },
	{ "UUID=2f1e3c4d-0000-4a43-9e0f-0d8b0b9e2c11", "/dev/vda1", "", "2f1e3c4d-0000-4a43-9e0f-0d8b0b9e2c11", "", "", false },
	{ "UUID=1234-ABCD", "/dev/vda1", "", "", "1234-abcd", "", true }, /* vfat serials */
	{ "/dev/vda3", "/dev/vda3", "rootfs", "", "", "", true },
	{ "/dev/vda3", "/dev/vda31", "", "", "", "", false },
	{ "/dev/vda3", "/dev/vda", "", "", "", "", false },
	{ "/dev/VDA3", "/dev/vda3", "", "", "", "", false },
};

START_TEST(test_match_table)
{
	struct blockdev_tags t = make_tags(match_cases[_i].partlabel, match_cases[_i].partuuid,
					   match_cases[_i].uuid, match_cases[_i].label);
	struct devref ref;

	ck_assert_int_eq(devref_parse(match_cases[_i].ref, &ref), 0);
	ck_assert_msg(devref_match(&ref, match_cases[_i].devnode, &t) == match_cases[_i].match,
		      "devref_match(%s, %s) != %d", match_cases[_i].ref, match_cases[_i].devnode,
		      match_cases[_i].match);
}
END_TEST

START_TEST(test_match_empty_never)
{
	struct blockdev_tags empty = make_tags("", "", "", "");
	struct devref ref;

	/* A hand-made reference with an empty value must not match a device lacking the tag. */
	static const enum devref_kind kinds[] = { DEVREF_PARTLABEL, DEVREF_PARTUUID, DEVREF_UUID, DEVREF_LABEL };
	for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		memset(&ref, 0, sizeof(ref));
		ref.kind = kinds[i];
		ck_assert_msg(!devref_match(&ref, "/dev/vda1", &empty), "kind %d matched empty tags", kinds[i]);
		ck_assert(!devref_match(&ref, "/dev/vda1", NULL));
	}
	/* Real references against a device without tags / without tags struct. */
	ck_assert_int_eq(devref_parse("PARTLABEL=rootfs", &ref), 0);
	ck_assert(!devref_match(&ref, "/dev/vda1", &empty));
	ck_assert(!devref_match(&ref, "/dev/vda1", NULL));
	ck_assert_int_eq(devref_parse("/dev/vda1", &ref), 0);
	ck_assert(!devref_match(&ref, NULL, &empty));
	ck_assert(devref_match(&ref, "/dev/vda1", NULL));
	/* DEVREF_NONE matches nothing. */
	memset(&ref, 0, sizeof(ref));
	ck_assert(!devref_match(&ref, "", &empty));
	ck_assert(!devref_match(&ref, "/dev/vda1", &empty));
}
END_TEST

static const char *const roundtrip_cases[] = {
	"PARTLABEL=rootfs", "PARTUUID=6c0e0f3e-1d1a-4a43-9e0f-0d8b0b9e2c11",
	"UUID=2f1e3c4d-0000-4a43-9e0f-0d8b0b9e2c11", "LABEL=persist", "/dev/vda3",
};

START_TEST(test_to_string_roundtrip)
{
	struct devref ref;
	char buf[DEVREF_VALUE_MAX + 16];

	ck_assert_int_eq(devref_parse(roundtrip_cases[_i], &ref), 0);
	ck_assert_ptr_eq(devref_to_string(&ref, buf, sizeof(buf)), buf);
	ck_assert_str_eq(buf, roundtrip_cases[_i]);
}
END_TEST

START_TEST(test_to_string_misc)
{
	struct devref ref;
	char buf[64], small[8];

	ck_assert_int_eq(devref_parse("/dev/disk/by-partlabel/hashmap_a", &ref), 0);
	ck_assert_str_eq(devref_to_string(&ref, buf, sizeof(buf)), "PARTLABEL=hashmap_a");
	ck_assert_int_eq(devref_parse("/dev/disk/by-uuid/abcd", &ref), 0);
	ck_assert_str_eq(devref_to_string(&ref, buf, sizeof(buf)), "UUID=abcd");
	memset(&ref, 0, sizeof(ref));
	ck_assert_str_eq(devref_to_string(&ref, buf, sizeof(buf)), "(none)");
	/* Truncated but terminated. */
	ck_assert_int_eq(devref_parse("PARTLABEL=rootfs", &ref), 0);
	ck_assert_str_eq(devref_to_string(&ref, small, sizeof(small)), "PARTLAB");
}
END_TEST

START_TEST(test_uuid_format)
{
	static const unsigned char a[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
					     0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	static const unsigned char z[16] = { 0 };
	static const unsigned char f[16] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
					     0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	char buf[40];

	memset(buf, 'X', sizeof(buf));
	uuid_format(a, buf);
	ck_assert_str_eq(buf, "00112233-4455-6677-8899-aabbccddeeff");
	ck_assert_int_eq(buf[37], 'X'); /* writes exactly 37 bytes */
	uuid_format(z, buf);
	ck_assert_str_eq(buf, "00000000-0000-0000-0000-000000000000");
	uuid_format(f, buf);
	ck_assert_str_eq(buf, "ffffffff-ffff-ffff-ffff-ffffffffffff");
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *devref_suite(void)
{
	Suite *s = suite_create("devref");
	TCase *tc = tcase_create("core");

	tcase_add_loop_test(tc, test_parse_table, 0, N(parse_cases));
	tcase_add_test(tc, test_parse_null_and_long);
	tcase_add_loop_test(tc, test_match_table, 0, N(match_cases));
	tcase_add_test(tc, test_match_empty_never);
	tcase_add_loop_test(tc, test_to_string_roundtrip, 0, N(roundtrip_cases));
	tcase_add_test(tc, test_to_string_misc);
	tcase_add_test(tc, test_uuid_format);
	suite_add_tcase(s, tc);
	return s;
}
