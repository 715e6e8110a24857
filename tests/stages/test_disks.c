/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Which disk provides the roles: the devices stage on a fake root with several disks, a fake
 * LoaderDevicePartUUID, removable disks and duplicate names (issue 10: a disk attacker gets
 * nothing). Most of these are data (tests/stages/cases/devices-*, emt-devices-*); the tests
 * here assert what no case can observe: the report's devices, a role left empty after the
 * stage failed, how long a failure takes. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "edgeinit/efivar.h"
#include "edgeinit/strutil.h"
#include "fake_sys.h"
#include "suites.h"

#define ESP_VDA "6f0e6c0a-0e1d-4b1f-9c1b-000000000001"
#define ESP_VDB "E3700000-0001-4000-8000-000000000001"
#define PERSIST_VDA "6f0e6c0a-0e1d-4b1f-9c1b-000000000003"
#define BOOT_UUID "1c5e2000-0001-4000-8000-000000000002"

static struct boot_context ctx;

static void setup(void)
{
	boot_context_init(&ctx, fake_setup("/tmp"), &sys_fake);
	ctx.dev.uevent_fd = sys_fake.dev->uevent_open();
	ctx.opts_rw.timeout_sec = 1;
}

static void teardown(void)
{
	boot_context_done(&ctx);
	fake_teardown();
}

/* Node strings live as long as the test: fake.probe keeps pointers. */
static char nodes[24][32];

static void add_disk(const char *disk, bool removable)
{
	char path[128], content[128];

	snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", disk);
	snprintf(content, sizeof(content), "DEVNAME=%s\nDEVTYPE=disk\n", disk);
	fake_write(path, content);
	snprintf(path, sizeof(path), "/sys/class/block/%s/removable", disk);
	fake_write(path, removable ? "1\n" : "0\n");
}

static void add_part(const char *disk, unsigned n, const char *name, const char *partuuid,
		     const char *uuid)
{
	char path[128], content[256];
	int i = fake.n_probe;

	snprintf(nodes[i], sizeof(nodes[0]), "/dev/%s%u", disk, n);
	snprintf(path, sizeof(path), "/sys/class/block/%s%u/uevent", disk, n);
	snprintf(content, sizeof(content), "DEVNAME=%s%u\nDEVTYPE=partition\nPARTN=%u\n", disk, n, n);
	fake_write(path, content);
	fake_add_probe(nodes[i], name, uuid ? "ext4" : NULL, uuid);
	if (partuuid)
		str_copy(fake.probe[i].tags.partuuid, sizeof(fake.probe[i].tags.partuuid), partuuid);
}

/* What systemd-boot leaves in efivarfs: attributes, then the UUID in UTF-16LE with its NUL. */
static void loader_variable(uint32_t attr, const char *uuid)
{
	char path[512];
	uint8_t buf[128];
	size_t n = 0;
	FILE *f;

	buf[n++] = attr & 0xff;
	buf[n++] = (attr >> 8) & 0xff;
	buf[n++] = (attr >> 16) & 0xff;
	buf[n++] = attr >> 24;
	for (size_t i = 0; i <= strlen(uuid); i++) {
		buf[n++] = (uint8_t)uuid[i];
		buf[n++] = 0;
	}
	fake_mkdir("/sys/firmware/efi/efivars");
	snprintf(path, sizeof(path), "%s/sys/firmware/efi/efivars/%s", fake.root,
		 EFIVAR_LOADER_DEVICE_PART_UUID);
	f = fopen(path, "wb");
	ck_assert_ptr_nonnull(f);
	ck_assert_uint_eq(fwrite(buf, 1, n, f), n);
	fclose(f);
}

static void verity_refs(const char *persist)
{
	devref_parse("PARTLABEL=rootfs", &ctx.opts_rw.verity_data);
	devref_parse("PARTLABEL=hashmap_a", &ctx.opts_rw.verity_hash);
	devref_parse(persist, &ctx.opts_rw.persist);
}

/* The reference disk: esp, rootfs, edge_persistent, hashmap_a. */
static void reference_disk(const char *disk, const char *esp_partuuid, bool with_persist)
{
	add_disk(disk, false);
	add_part(disk, 1, "esp", esp_partuuid, NULL);
	add_part(disk, 2, "rootfs", NULL, NULL);
	if (with_persist)
		add_part(disk, 3, "edge_persistent", PERSIST_VDA, NULL);
	add_part(disk, 4, "hashmap_a", NULL, NULL);
}

static const struct blockdev *seen(const char *name)
{
	for (unsigned i = 0; i < ctx.dev.n_seen; i++)
		if (streq(ctx.dev.seen[i].name, name))
			return &ctx.dev.seen[i];
	ck_abort_msg("%s not seen", name);
	return NULL;
}

/* ---- the verity profile ---- */

START_TEST(disks_boot_disk_from_the_loader_variable)
{
	/* The attacker's disk comes first and carries every name; the loader started from vdb. */
	reference_disk("vda", NULL, true);
	reference_disk("vdb", ESP_VDB, true);
	loader_variable(6, ESP_VDB);
	verity_refs("PARTLABEL=edge_persistent");
	ck_assert_int_eq(stage_devices.run(&ctx), 0);
	ck_assert_str_eq(ctx.boot_disk, "vdb");
	ck_assert(fake_logged("Boot disk: /dev/vdb (the ESP the loader started from, PARTUUID e3700000-0001-4000-8000-000000000001)."));
	ck_assert_str_eq(ctx.rootfs.data_node, "/dev/vdb2");
	ck_assert_str_eq(ctx.rootfs.hash_node, "/dev/vdb4");
	ck_assert_str_eq(ctx.persist_node, "/dev/vdb3");
	ck_assert(fake_logged("Ignoring /dev/vda3, which matches PARTLABEL=edge_persistent (persistent partition, edgeinit.persist=): it is not on the boot disk /dev/vdb."));
	ck_assert(fake_logged("Ignoring /dev/vda2, which matches PARTLABEL=rootfs"));
	ck_assert_str_eq(ctx.report.devices[0].role, "boot-disk");
	ck_assert_str_eq(ctx.report.devices[0].node, "/dev/vdb1");
}
END_TEST

START_TEST(disks_two_persistent_partitions_on_the_boot_disk_are_fatal)
{
	reference_disk("vda", ESP_VDA, true);
	add_part("vda", 5, "edge_persistent", NULL, NULL);
	loader_variable(6, ESP_VDA);
	verity_refs("PARTLABEL=edge_persistent");
	ck_assert_int_eq(stage_devices.run(&ctx), -EEXIST);
	ck_assert(fake_logged("Two partitions match PARTLABEL=edge_persistent (persistent partition, edgeinit.persist=): /dev/vda3 and /dev/vda5. Refusing to guess."));
	ck_assert_ptr_nonnull(strstr(ctx.remedy, "PARTUUID="));
	ck_assert_ptr_nonnull(strstr(ctx.remedy, "edgeinit.persist="));
	ck_assert_str_eq(ctx.persist_node, ""); /* neither is left for a later stage */
	ck_assert_uint_eq(ctx.report.n_devices, 1);       /* the boot disk only */
}
END_TEST

START_TEST(disks_without_the_loader_removable_disks_provide_nothing)
{
	/* The fixed disk lacks edge_persistent; a USB stick carries one. */
	reference_disk("vda", NULL, false);
	add_disk("sda", true);
	add_part("sda", 1, "edge_persistent", NULL, NULL);
	verity_refs("PARTLABEL=edge_persistent");
	ck_assert_int_eq(stage_devices.run(&ctx), -ETIMEDOUT);
	ck_assert_str_eq(ctx.boot_disk, "");
	ck_assert(seen("sda")->removable);
	ck_assert(seen("sda1")->removable);
	ck_assert(!seen("vda2")->removable);
	ck_assert(fake_logged("no EFI variable LoaderDevicePartUUID"));
	ck_assert(fake_logged("Ignoring /dev/sda1, which matches PARTLABEL=edge_persistent (persistent partition, edgeinit.persist=): /dev/sda is removable and the loader did not say which disk it started from."));
	ck_assert(fake_logged("Timed out after 1 s waiting for PARTLABEL=edge_persistent (persist partition, edgeinit.persist=) on a fixed disk."));
	ck_assert(fake_logged("sda [removable]"));
	ck_assert_str_eq(ctx.persist_node, "");
}
END_TEST

START_TEST(disks_the_boot_disk_never_seen_times_out_naming_it)
{
	reference_disk("vda", ESP_VDA, true);
	loader_variable(6, ESP_VDB);
	verity_refs("PARTLABEL=edge_persistent");
	ck_assert_int_eq(stage_devices.run(&ctx), -ETIMEDOUT);
	ck_assert(fake_logged("Timed out after 1 s waiting for the boot disk: no partition has PARTUUID e3700000-0001-4000-8000-000000000001, the ESP the loader started from (LoaderDevicePartUUID)."));
	ck_assert_ptr_nonnull(strstr(ctx.remedy, "booted from"));
	ck_assert_str_eq(ctx.persist_node, "");
}
END_TEST

/* ---- the EMT profile ---- */

static void emt_profile(void)
{
	str_copy(ctx.opts_rw.boot_uuid, sizeof(ctx.opts_rw.boot_uuid), BOOT_UUID);
	ctx.opts_rw.profile = BOOT_PROFILE_EMT;
}

static void emt_disk(const char *disk, const char *esp_partuuid, bool removable)
{
	add_disk(disk, removable);
	if (esp_partuuid)
		add_part(disk, 1, "esp", esp_partuuid, NULL);
	add_part(disk, 2, "rootfs", NULL, BOOT_UUID);
	add_part(disk, 3, "edge_persistent", NULL, NULL);
}

START_TEST(disks_emt_boot_disk_without_rootfs_is_fatal_at_once)
{
	emt_profile();
	emt_disk("vda", NULL, false);
	add_disk("vdb", false);
	add_part("vdb", 1, "esp", ESP_VDB, NULL);
	loader_variable(6, ESP_VDB);
	ctx.opts_rw.timeout_sec = 30;
	uint64_t t0 = now_monotonic_us();
	ck_assert_int_eq(stage_emt_devices.run(&ctx), -ENODEV);
	ck_assert_uint_lt(now_monotonic_us() - t0, 5000000);
	ck_assert(fake_logged("The boot disk /dev/vdb (the ESP the loader started from) has no partition named 'rootfs' and none with UUID " BOOT_UUID " (boot_uuid=)"));
	ck_assert(fake_logged("Ignoring /dev/vda2"));
	ck_assert_str_eq(ctx.os_disk, "");
	/* boot_uuid= is looked for on the boot disk alone: vda2 carries it, unprobed. */
	ck_assert(!fake_called("probe /dev/vda2 +sb"));
}
END_TEST

Suite *disks_stage_suite(void)
{
	Suite *s = suite_create("disks-stage");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, disks_boot_disk_from_the_loader_variable);
	tcase_add_test(tc, disks_two_persistent_partitions_on_the_boot_disk_are_fatal);
	tcase_add_test(tc, disks_without_the_loader_removable_disks_provide_nothing);
	tcase_add_test(tc, disks_the_boot_disk_never_seen_times_out_naming_it);
	tcase_add_test(tc, disks_emt_boot_disk_without_rootfs_is_fatal_at_once);
	suite_add_tcase(s, tc);
	return s;
}
