/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/uevent.h"
#include "suites.h"

/* Byte arrays exactly as the kernel sends them on NETLINK_KOBJECT_UEVENT: NUL-separated,
 * NUL-terminated. sizeof() - 1 drops the string literal's own terminator. */
#define MSG(s) s, sizeof(s) - 1

static const char partition_add[] =
	"add@/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1\0"
	"ACTION=add\0"
	"DEVPATH=/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1\0"
	"SUBSYSTEM=block\0"
	"MAJOR=253\0"
	"MINOR=1\0"
	"DEVNAME=vda1\0"
	"DEVTYPE=partition\0"
	"DISKSEQ=9\0"
	"PARTN=1\0"
	"PARTNAME=rootfs\0"
	"SEQNUM=1843\0";

static const char disk_add_nvme[] =
	"add@/devices/pci0000:00/0000:00:03.0/nvme/nvme0/nvme0n1\0"
	"ACTION=add\0"
	"DEVPATH=/devices/pci0000:00/0000:00:03.0/nvme/nvme0/nvme0n1\0"
	"SUBSYSTEM=block\0"
	"MAJOR=259\0"
	"MINOR=0\0"
	"DEVNAME=nvme0n1\0"
	"DEVTYPE=disk\0"
	"DISKSEQ=1\0"
	"SEQNUM=1500\0";

static const char module_bind[] =
	"bind@/devices/pci0000:00/0000:00:04.0/virtio1\0"
	"ACTION=bind\0"
	"DEVPATH=/devices/pci0000:00/0000:00:04.0/virtio1\0"
	"SUBSYSTEM=virtio\0"
	"DRIVER=virtio_blk\0"
	"MODALIAS=virtio:d00000002v00001AF4\0"
	"SEQNUM=1790\0";

static const char dm_change[] =
	"change@/devices/virtual/block/dm-0\0"
	"ACTION=change\0"
	"DEVPATH=/devices/virtual/block/dm-0\0"
	"SUBSYSTEM=block\0"
	"DM_COOKIE=4194304\0"
	"MAJOR=252\0"
	"MINOR=0\0"
	"DEVNAME=dm-0\0"
	"DEVTYPE=disk\0"
	"DISKSEQ=12\0"
	"SEQNUM=2001\0";

START_TEST(test_netlink_partition)
{
	struct uevent ev;

	ck_assert_int_eq(uevent_parse_netlink(MSG(partition_add), &ev), 0);
	ck_assert_str_eq(ev.action, "add");
	ck_assert_str_eq(ev.devpath, "/devices/pci0000:00/0000:00:04.0/virtio1/block/vda/vda1");
	ck_assert_str_eq(ev.subsystem, "block");
	ck_assert_str_eq(ev.devname, "vda1");
	ck_assert_str_eq(ev.devtype, "partition");
	ck_assert_str_eq(ev.partname, "rootfs");
	ck_assert_str_eq(ev.modalias, "");
}
END_TEST

START_TEST(test_netlink_others)
{
	struct uevent ev;

	ck_assert_int_eq(uevent_parse_netlink(MSG(disk_add_nvme), &ev), 0);
	ck_assert_str_eq(ev.devname, "nvme0n1");
	ck_assert_str_eq(ev.devtype, "disk");
	ck_assert_str_eq(ev.partname, "");

	ck_assert_int_eq(uevent_parse_netlink(MSG(module_bind), &ev), 0);
	ck_assert_str_eq(ev.action, "bind");
	ck_assert_str_eq(ev.subsystem, "virtio");
	ck_assert_str_eq(ev.modalias, "virtio:d00000002v00001AF4");
	ck_assert_str_eq(ev.devname, "");

	ck_assert_int_eq(uevent_parse_netlink(MSG(dm_change), &ev), 0);
	ck_assert_str_eq(ev.action, "change");
	ck_assert_str_eq(ev.devname, "dm-0");

	/* Without the final NUL (the last field runs to the end of the buffer). */
	ck_assert_int_eq(uevent_parse_netlink(partition_add, sizeof(partition_add) - 2, &ev), 0);
	ck_assert_str_eq(ev.devname, "vda1");
	ck_assert_str_eq(ev.partname, "rootfs");
}
END_TEST

/* Only len counts: bytes after len are never read (here they would change the result). */
START_TEST(test_netlink_len_respected)
{
	static const char msg[] = "add@/x\0ACTION=add\0DEVPATH=/x\0SUBSYSTEM=block\0DEVNAME=sda\0";
	struct uevent ev;

	/* Cut inside "DEVNAME=sda": only "DEVNAME=s" is seen. */
	ck_assert_int_eq(uevent_parse_netlink(msg, sizeof(msg) - 1 - 3, &ev), 0);
	ck_assert_str_eq(ev.devname, "s");
	/* Cut before SUBSYSTEM: rejected. */
	ck_assert_int_eq(uevent_parse_netlink(msg, 29, &ev), -EINVAL);
}
END_TEST

/* Empty fields (consecutive NULs), as produced by padding, are skipped. */
START_TEST(test_netlink_embedded_nuls)
{
	static const char msg[] = "add@/devices/virtual/block/loop0\0\0\0ACTION=add\0\0"
				  "DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0\0\0"
				  "DEVNAME=loop0\0\0";
	static const char msg_key_after_nul[] = "add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=block\0"
						"DEVNAME=sd\0a\0";
	struct uevent ev;

	ck_assert_int_eq(uevent_parse_netlink(MSG(msg), &ev), 0);
	ck_assert_str_eq(ev.action, "add");
	ck_assert_str_eq(ev.devpath, "/devices/virtual/block/loop0");
	ck_assert_str_eq(ev.devname, "loop0");

	/* A NUL inside a value ends it: "a" is a separate (ignored) field. */
	ck_assert_int_eq(uevent_parse_netlink(MSG(msg_key_after_nul), &ev), 0);
	ck_assert_str_eq(ev.devname, "sd");
}
END_TEST

static const struct {
	const char *name;
	const char *buf;
	size_t len;
} netlink_reject_cases[] = {
	/* udev's re-broadcast: "libudev\0" + binary monitor header + properties. */
	{ "libudev",
	  MSG("libudev\0\xfe\xed\xca\xfe\x28\0\0\0\x28\0\0\0\x40\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"
	  "ACTION=add\0DEVPATH=/devices/virtual/block/loop0\0SUBSYSTEM=block\0DEVNAME=/dev/loop0\0"),
	},
	{ "no header", MSG("ACTION=add\0DEVPATH=/d\0SUBSYSTEM=block\0") },
	{ "empty action in header", MSG("@/devices/x\0ACTION=add\0DEVPATH=/devices/x\0SUBSYSTEM=block\0") },
	{ "header without NUL", MSG("add@/devices/x") },
	{ "missing ACTION", MSG("add@/d\0DEVPATH=/d\0SUBSYSTEM=block\0") },
	{ "missing DEVPATH", MSG("add@/d\0ACTION=add\0SUBSYSTEM=block\0") },
	{ "missing SUBSYSTEM", MSG("add@/d\0ACTION=add\0DEVPATH=/d\0") },
	{ "empty SUBSYSTEM", MSG("add@/d\0ACTION=add\0DEVPATH=/d\0SUBSYSTEM=\0") },
	{ "header only", MSG("add@/d\0") },
	{ "empty", "", 0 },
	{ "lowercase keys", MSG("add@/d\0action=add\0devpath=/d\0subsystem=block\0") },
};

START_TEST(test_netlink_reject_table)
{
	struct uevent ev;

	ck_assert_msg(uevent_parse_netlink(netlink_reject_cases[_i].buf, netlink_reject_cases[_i].len, &ev) == -EINVAL,
		      "%s: not rejected", netlink_reject_cases[_i].name);
}
END_TEST

START_TEST(test_netlink_null)
{
	struct uevent ev;

	ck_assert_int_eq(uevent_parse_netlink(NULL, 10, &ev), -EINVAL);
}
END_TEST

/* Over-long values are rejected, never truncated: a truncated DEVNAME names another device. */
START_TEST(test_netlink_too_long)
{
	static char msg[2048];
	struct uevent ev;
	size_t len;
	char name[UEVENT_FIELD_MAX + 1];

	/* Longest DEVNAME that fits. */
	memset(name, 'a', UEVENT_FIELD_MAX - 1);
	name[UEVENT_FIELD_MAX - 1] = '\0';
	len = (size_t)snprintf(msg, sizeof(msg), "add@/d%cACTION=add%cDEVPATH=/d%cSUBSYSTEM=block%cDEVNAME=%s%c",
			       0, 0, 0, 0, name, 0);
	ck_assert_int_eq(uevent_parse_netlink(msg, len, &ev), 0);
	ck_assert_str_eq(ev.devname, name);

	/* One byte more. */
	memset(name, 'a', UEVENT_FIELD_MAX);
	name[UEVENT_FIELD_MAX] = '\0';
	len = (size_t)snprintf(msg, sizeof(msg), "add@/d%cACTION=add%cDEVPATH=/d%cSUBSYSTEM=block%cDEVNAME=%s%c",
			       0, 0, 0, 0, name, 0);
	ck_assert_int_eq(uevent_parse_netlink(msg, len, &ev), -EINVAL);

	/* ACTION has room for 15 characters. */
	len = (size_t)snprintf(msg, sizeof(msg), "x@/d%cACTION=%s%cDEVPATH=/d%cSUBSYSTEM=block%c",
			       0, "0123456789abcdef", 0, 0, 0);
	ck_assert_int_eq(uevent_parse_netlink(msg, len, &ev), -EINVAL);
	len = (size_t)snprintf(msg, sizeof(msg), "x@/d%cACTION=%s%cDEVPATH=/d%cSUBSYSTEM=block%c",
			       0, "0123456789abcde", 0, 0, 0);
	ck_assert_int_eq(uevent_parse_netlink(msg, len, &ev), 0);
	ck_assert_str_eq(ev.action, "0123456789abcde");

	/* Over-long fields we do not keep are fine. */
	memset(name, 'z', UEVENT_FIELD_MAX);
	name[UEVENT_FIELD_MAX] = '\0';
	len = (size_t)snprintf(msg, sizeof(msg), "add@/d%cACTION=add%cDEVPATH=/d%cSUBSYSTEM=block%cID_FOO=%s%c",
			       0, 0, 0, 0, name, 0);
	ck_assert_int_eq(uevent_parse_netlink(msg, len, &ev), 0);
}
END_TEST

/* The contents of /sys/class/block/vda1/uevent. */
START_TEST(test_sysfs)
{
	static const char text[] = "MAJOR=253\nMINOR=1\nDEVNAME=vda1\nDEVTYPE=partition\nDISKSEQ=9\n"
				   "PARTN=1\nPARTNAME=rootfs\n";
	static const char no_nl[] = "MAJOR=8\nMINOR=0\nDEVNAME=sda\nDEVTYPE=disk";
	static const char blank[] = "\n\nDEVNAME=sdb\n\n";
	struct uevent ev;

	ck_assert_int_eq(uevent_parse_sysfs(MSG(text), &ev), 0);
	ck_assert_str_eq(ev.action, "");
	ck_assert_str_eq(ev.devname, "vda1");
	ck_assert_str_eq(ev.devtype, "partition");
	ck_assert_str_eq(ev.partname, "rootfs");
	ck_assert_str_eq(ev.subsystem, "");

	ck_assert_int_eq(uevent_parse_sysfs(MSG(no_nl), &ev), 0);
	ck_assert_str_eq(ev.devname, "sda");
	ck_assert_str_eq(ev.devtype, "disk");

	ck_assert_int_eq(uevent_parse_sysfs(MSG(blank), &ev), 0);
	ck_assert_str_eq(ev.devname, "sdb");

	ck_assert_int_eq(uevent_parse_sysfs("", 0, &ev), 0);
	ck_assert_str_eq(ev.devname, "");
	ck_assert_int_eq(uevent_parse_sysfs(NULL, 0, &ev), -EINVAL);

	/* Results from a previous parse do not leak into the next one. */
	ck_assert_int_eq(uevent_parse_sysfs(MSG(text), &ev), 0);
	ck_assert_int_eq(uevent_parse_sysfs(MSG("MAJOR=1\n"), &ev), 0);
	ck_assert_str_eq(ev.devname, "");
	ck_assert_str_eq(ev.partname, "");
}
END_TEST

START_TEST(test_sysfs_reject)
{
	static char text[1024];
	struct uevent ev;
	int n;

	/* A NUL inside a line. */
	ck_assert_int_eq(uevent_parse_sysfs(MSG("DEVNAME=sd\0a\nDEVTYPE=disk\n"), &ev), -EINVAL);
	/* Over-long DEVNAME. */
	n = snprintf(text, sizeof(text), "MAJOR=8\nDEVNAME=%0*d\n", UEVENT_FIELD_MAX, 0);
	ck_assert_int_eq(uevent_parse_sysfs(text, (size_t)n, &ev), -EINVAL);
	n = snprintf(text, sizeof(text), "MAJOR=8\nDEVNAME=%0*d\n", UEVENT_FIELD_MAX - 1, 0);
	ck_assert_int_eq(uevent_parse_sysfs(text, (size_t)n, &ev), 0);
	ck_assert_uint_eq(strlen(ev.devname), UEVENT_FIELD_MAX - 1);
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *uevent_suite(void)
{
	Suite *s = suite_create("uevent");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_netlink_partition);
	tcase_add_test(tc, test_netlink_others);
	tcase_add_test(tc, test_netlink_len_respected);
	tcase_add_test(tc, test_netlink_embedded_nuls);
	tcase_add_loop_test(tc, test_netlink_reject_table, 0, N(netlink_reject_cases));
	tcase_add_test(tc, test_netlink_null);
	tcase_add_test(tc, test_netlink_too_long);
	tcase_add_test(tc, test_sysfs);
	tcase_add_test(tc, test_sysfs_reject);
	suite_add_tcase(s, tc);
	return s;
}
