/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The EMT profile on a fake root, what its stage cases (tests/stages/cases/emt-*) cannot show:
 * the fatal path amid the background derivation threads (key buffers wiped, no wait, nothing
 * stored after the wipe: secret_* counts and timing); slot A's full opening, which also asserts
 * the options' root hash stays unset, the key_unsealed flag, the report and that the EMT profile's
 * stage list has no luks stage; and the report's mode, root hash source and warning of a
 * verity-only disk, with and without roothash= (a report field is not in a case's transcript). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "edgeinit/secret.h"
#include "edgeinit/strutil.h"
#include "fake_sys.h"
#include "suites.h"

#define EMT_KEY "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define HASH_A "1111111111111111111111111111111111111111111111111111111111111111"
#define HASH_B "2222222222222222222222222222222222222222222222222222222222222222"
#define UUID_A "1c5e2000-0001-4000-8000-000000000002"

static struct boot_context ctx;

static void setup(void)
{
	boot_context_init(&ctx, fake_setup("/tmp"), &sys_fake);
}

static void teardown(void)
{
	stage_emt.discard(&ctx); /* a failed test may leave the background derivation running */
	boot_context_done(&ctx);
	fake_teardown();
}

static const char *const fde_names[] = { NULL, "esp", "rootfs", "edge_persistent", "hashmap_a",
					 "hashmap_b", "rootfs_b", "roothash", "swap", "tep",
					 "reserved", "lvm" };
/* Node strings live as long as the test: fake.probe and fake.luks keep pointers. */
static char nodes[16][32], luks_uuids[16][40];

static void add_partition(const char *disk, unsigned n, const char *name, const char *type,
			  const char *uuid)
{
	char path[128], content[256];
	int slot = (disk[2] == 'a' ? 0 : 12) + (int)n % 12;

	snprintf(nodes[slot % 16], sizeof(nodes[0]), "/dev/%s%u", disk, n);
	snprintf(path, sizeof(path), "/sys/class/block/%s%u/uevent", disk, n);
	snprintf(content, sizeof(content), "DEVNAME=%s%u\nDEVTYPE=partition\nPARTN=%u\n%s%s%s", disk,
		 n, n, name ? "PARTNAME=" : "", name ? name : "", name ? "\n" : "");
	fake_write(path, content);
	fake_add_probe(nodes[slot % 16], name, type, uuid);
	if (type && streq(type, "crypto_LUKS")) {
		str_copy(luks_uuids[slot % 16], sizeof(luks_uuids[0]), uuid);
		fake.luks[fake.n_luks].node = nodes[slot % 16];
		fake.luks[fake.n_luks++].uuid = luks_uuids[slot % 16];
	}
}

static void emt_cmdline(const char *boot_uuid, const char *extra)
{
	char cmdline[512], bad[CMDLINE_KEY_MAX], reason[CMDLINE_REASON_MAX];

	snprintf(cmdline, sizeof(cmdline),
		 "root=/dev/mapper/rootfs_verity boot_uuid=%s rd.shell=0 rd.timeout=200 rd.emergency=reboot %s",
		 boot_uuid, extra ? extra : "");
	boot_options_init(&ctx.opts_rw);
	ck_assert_int_eq(boot_options_parse(cmdline, &ctx.opts_rw, NULL, NULL, bad, reason), 0);
	ck_assert_int_eq(ctx.opts_rw.profile, BOOT_PROFILE_EMT);
	ctx.opts_rw.timeout_sec = 1;
}

/* An FDE disk: partitions 1-11 with EMT's names, all but esp/tep/reserved LUKS2. */
static void fde_disk(bool with_roothash)
{
	char uuid[40];

	fake_write("/sys/class/block/vda/uevent", "DEVNAME=vda\nDEVTYPE=disk\n");
	for (unsigned n = 1; n <= 11; n++) {
		bool clear = n == 1 || n == 9 || n == 10;

		if (n == 7 && !with_roothash)
			continue;
		snprintf(uuid, sizeof(uuid), "1c5e2000-0001-4000-8000-%012u", n);
		add_partition("vda", n, fde_names[n], clear ? (n == 1 ? "vfat" : NULL) : "crypto_LUKS",
			      clear ? NULL : uuid);
	}
	fake_write("/run/edgeinit/roothash/part_a_roothash", HASH_A "\n");
	fake_write("/run/edgeinit/roothash/part_b_roothash", HASH_B "\n");
	fake_add_probe("/dev/mapper/ver_roothash", NULL, "ext4", NULL);
	fake.good_passphrase = EMT_KEY;
	ctx.dev.uevent_fd = sys_fake.dev->uevent_open();
	ctx.tpm.present = true;
	ctx.tpm.n_banks = 1;
	ctx.tpm.banks[0] = HASH_SHA256;
}

/* A verity-only disk: the same partitions in clear text. */
static void verity_disk(void)
{
	char uuid[40];

	fake_write("/sys/class/block/vda/uevent", "DEVNAME=vda\nDEVTYPE=disk\n");
	for (unsigned n = 1; n <= 8; n++) {
		snprintf(uuid, sizeof(uuid), "e4e40000-0002-4000-8000-%012u", n);
		add_partition("vda", n, fde_names[n], n == 4 || n == 5 ? "DM_verity_hash" : "ext4", uuid);
	}
	fake_write("/run/edgeinit/roothash/part_a_roothash", HASH_A "\n");
	ctx.dev.uevent_fd = sys_fake.dev->uevent_open();
}

/* devices, emt and, if they went well, emt-late. */
static int run_devices_and_emt(void)
{
	int r = stage_emt_devices.run(&ctx);

	r = r < 0 ? r : stage_emt.run(&ctx);
	if (r < 0)
		return r;
	/* emt-late has work only when keys opened volumes (FDE): else it reports itself skipped. */
	r = stage_emt_late.run(&ctx);
	ck_assert_int_eq(r == STAGE_RUN_SKIPPED, ctx.emt_mode != EMT_MODE_FDE);
	return r == STAGE_RUN_SKIPPED ? 0 : r;
}

START_TEST(emt_fde_slot_a_opens_every_volume_then_latches)
{
	fde_disk(true);
	add_partition("vdb", 1, "data", "crypto_LUKS", "1c5e2000-0001-4000-8000-000000000d21");
	add_partition("vdb", 2, "more", "crypto_LUKS", "1c5e2000-0001-4000-8000-000000000d22");
	emt_cmdline(UUID_A, NULL);
	ck_assert_uint_eq(ctx.opts_rw.tpm2_emt_handle, EMT_SEALED_KEY_HANDLE);
	fake.unseal_secret = EMT_KEY;
	ck_assert_int_eq(stage_emt_devices.run(&ctx), 0);
	ck_assert_int_eq(stage_emt.run(&ctx), 0);
	/* The volumes slot A needs are open; the others wait for emt-late, and so does PCR 15. */
	ck_assert(fake_called("luks_activate /dev/vda2 rootfs_a"));
	ck_assert(fake_called("luks_activate /dev/vda4 root_a_ver_hash_map"));
	ck_assert(fake_called("luks_activate /dev/vda7 ver_roothash"));
	ck_assert(fake_called("luks_activate /dev/vda3 edge_persistent"));
	ck_assert(!fake_called("luks_activate /dev/vda6 "));
	ck_assert(!fake_called("luks_activate /dev/vda8 "));
	/* PCR 15 moved once, right after the unseal and before any volume was derived or opened:
	 * the TPM will not release the key again while the disk's file systems are read. The
	 * volume keys are latched in emt-late. */
	int early_extends = 0;
	for (int i = 0; i < fake.n_calls; i++)
		early_extends += str_startswith(fake.calls[i], "extend 15 ") != NULL;
	ck_assert_int_eq(early_extends, 1);
	ck_assert_int_lt(fake_call_index("tpm2_unseal"), fake_call_index("extend 15 "));
	ck_assert_int_lt(fake_call_index("extend 15 "), fake_call_index("luks_derive"));
	ck_assert(fake_logged("Extended PCR 15 right after the unseal"));
	ck_assert_int_eq(stage_emt_late.run(&ctx), 0);

	/* Unsealed once, every volume under EMT's names, the inactive slot included. */
	int unseals = 0;
	for (int i = 0; i < fake.n_calls; i++)
		unseals += str_startswith(fake.calls[i], "tpm2_unseal") != NULL;
	ck_assert_int_eq(unseals, 1);
	static const char *const opened[] = {
		"luks_activate /dev/vda2 rootfs_a", "luks_activate /dev/vda3 edge_persistent",
		"luks_activate /dev/vda4 root_a_ver_hash_map", "luks_activate /dev/vda5 root_b_ver_hash_map",
		"luks_activate /dev/vda6 rootfs_b", "luks_activate /dev/vda7 ver_roothash",
		"luks_activate /dev/vda8 swap_crypt", "luks_activate /dev/vda11 lvmvg_crypt",
		"luks_activate /dev/vdb1 vdb_crypt",
	};
	int last_open = -1;
	for (size_t i = 0; i < ELEMENTSOF(opened); i++) {
		int at = fake_call_index(opened[i]);

		ck_assert_msg(at >= 0, "missing %s", opened[i]);
		last_open = at > last_open ? at : last_open;
	}
	ck_assert(fake_called("luks_derive /dev/vda2 slot 0"));
	ck_assert(!fake_called("luks_activate /dev/vdb2 "));
	ck_assert(!fake_called("luks_activate /dev/vda1 "));
	ck_assert(!fake_called("luks_activate /dev/vda9 "));
	/* The volume keys are latched once every volume is open: one latch per volume, after the
	 * early extend. */
	int extends = 0, latches = 0;
	for (int i = 0; i < fake.n_calls; i++) {
		bool ext = str_startswith(fake.calls[i], "extend 15 ") != NULL;

		extends += ext;
		latches += ext && i > last_open;
	}
	ck_assert_int_eq(latches, (int)ELEMENTSOF(opened));
	ck_assert_int_eq(extends, (int)ELEMENTSOF(opened) + 1);
	ck_assert(ctx.tpm.key_unsealed);

	/* The root hash from the roothash volume, mounted read-only without journal replay. */
	ck_assert(fake_called("mount /dev/mapper/ver_roothash /run/edgeinit/roothash ext4 0xf noload"));
	ck_assert(fake_called("umount /run/edgeinit/roothash"));
	char hex[65];
	hex_encode(ctx.rootfs.roothash, ctx.rootfs.roothash_size, hex, sizeof(hex));
	ck_assert_str_eq(hex, HASH_A);
	ck_assert_str_eq(ctx.rootfs.roothash_source, "roothash-partition-encrypted");
	ck_assert_uint_eq(ctx.opts_rw.roothash_size, 0); /* the options stay as the command line said */
	ck_assert_str_eq(ctx.rootfs.data_node, "/dev/mapper/rootfs_a");
	ck_assert_str_eq(ctx.rootfs.hash_node, "/dev/mapper/root_a_ver_hash_map");
	ck_assert_str_eq(ctx.persist_node, "/dev/mapper/edge_persistent");
	ck_assert_str_eq(ctx.report.emt_mode, "fde");
	ck_assert_str_eq(ctx.report.roothash_source, "roothash-partition-encrypted");
	ck_assert(!fake_logged(EMT_KEY));

	/* The luks stage is not in the EMT profile's list: the emt stage opened edge_persistent. */
	const struct stage *list[REPORT_STAGES_MAX];
	size_t n = boot_profile_stages(boot_table, boot_table_size, BOOT_PROFILE_EMT, list, ELEMENTSOF(list));
	for (size_t i = 0; i < n; i++)
		ck_assert_ptr_ne(list[i], &stage_luks);
}
END_TEST

START_TEST(emt_verity_only_warns_about_the_unauthenticated_hash)
{
	verity_disk();
	emt_cmdline("e4e40000-0002-4000-8000-000000000002", NULL);
	ck_assert_int_eq(run_devices_and_emt(), 0);
	ck_assert_str_eq(ctx.report.emt_mode, "verity");
	ck_assert(!fake_called("luks_"));
	ck_assert(!fake_called("tpm2_unseal"));
	ck_assert(fake_called("mount /dev/vda7 /run/edgeinit/roothash ext4 0xf noload"));
	ck_assert_str_eq(ctx.rootfs.data_node, "/dev/vda2");
	ck_assert_str_eq(ctx.rootfs.hash_node, "/dev/vda4");
	ck_assert_str_eq(ctx.persist_node, "/dev/vda3");
	ck_assert(fake_logged("nothing authenticates: put roothash=" HASH_A " on the signed UKI's command line"));
	ck_assert_str_eq(ctx.report.roothash_source, "roothash-partition-unauthenticated");
	ck_assert_ptr_nonnull(strstr(ctx.report.warning, "roothash=" HASH_A));
}
END_TEST

START_TEST(emt_roothash_on_the_command_line_wins)
{
	verity_disk();
	emt_cmdline("e4e40000-0002-4000-8000-000000000002", "roothash=" HASH_B);
	ck_assert_int_eq(run_devices_and_emt(), 0);
	ck_assert(!fake_called("mount"));
	ck_assert_str_eq(ctx.report.roothash_source, "cmdline");
	ck_assert_str_eq(ctx.report.warning, "");
	char hex[65];
	hex_encode(ctx.rootfs.roothash, ctx.rootfs.roothash_size, hex, sizeof(hex));
	ck_assert_str_eq(hex, HASH_B);
}
END_TEST

/* The fatal path after the emt stage (a later stage failed): the discard walk frees and wipes the
 * key buffer emt-late would have used, and emt-late has nothing left to activate or latch. */
static int run_fails(struct boot_context *c)
{
	(void)c;
	return -EIO;
}

static int walk_to_a_failure(void)
{
	static const struct stage fails = { .name = "fails", .run = run_fails };
	const struct boot_step steps[] = {
		{ &stage_emt_devices, PROFILES_ALL }, { &stage_emt, PROFILES_ALL }, { &fails, PROFILES_ALL },
	};
	const struct stage *failed = NULL;
	int r = boot_run(&ctx, steps, ELEMENTSOF(steps), NULL, &failed);

	ck_assert_ptr_eq(failed, &fails);
	return r;
}

START_TEST(emt_fatal_path_frees_the_keys)
{
	fde_disk(true);
	/* Only the volumes slot A needs are listed: nothing is left for the background. */
	emt_cmdline(UUID_A, "rd.luks.uuid=1c5e2000-0001-4000-8000-000000000002 "
			    "rd.luks.uuid=1c5e2000-0001-4000-8000-000000000003 "
			    "rd.luks.uuid=1c5e2000-0001-4000-8000-000000000004 "
			    "rd.luks.uuid=1c5e2000-0001-4000-8000-000000000007");
	ctx.opts_parsed = true;
	fake.unseal_secret = EMT_KEY;
	ck_assert_int_eq(walk_to_a_failure(), -EIO);
	ck_assert(fake_called("luks_activate /dev/vda2 rootfs_a"));
	boot_discard(&ctx);
	/* No locked buffer is left: the keys were wiped and released (secret_free). */
	ck_assert_uint_eq(secret_wipe_all(), 0);
	int before = fake.n_calls;
	ck_assert_int_eq(stage_emt_late.run(&ctx), STAGE_RUN_SKIPPED);
	ck_assert_int_eq(fake.n_calls, before);
}
END_TEST

static int background_derivations(void)
{
	static const char *const bg[] = { "luks_derive /dev/vda5 ", "luks_derive /dev/vda6 ",
					  "luks_derive /dev/vda8 ", "luks_derive /dev/vda11 " };
	int n = 0;

	for (int i = 0; i < fake.n_calls; i++)
		for (size_t j = 0; j < ELEMENTSOF(bg); j++)
			n += str_startswith(fake.calls[i], bg[j]) != NULL;
	return n;
}

/* The fatal path while the background derivation runs: it does not wait for it, and the worker
 * takes no new volume after it. */
START_TEST(emt_fatal_path_stops_the_background_without_waiting)
{
	fde_disk(true);
	emt_cmdline(UUID_A, NULL);
	ctx.opts_parsed = true;
	fake.unseal_secret = EMT_KEY;
	fake.pbkdf_memory_kib = 1024; /* no /proc/meminfo in the fake root: one derivation at a time */
	fake.derive_delay_ms = 200;
	ck_assert_int_eq(walk_to_a_failure(), -EIO);
	uint64_t t0 = now_monotonic_us();
	boot_discard(&ctx);
	ck_assert_uint_lt(now_monotonic_us() - t0, 100 * 1000);
	/* Four volumes at 200 ms each would take 800 ms; after 1.2 s at most the one in flight at
	 * the discard was derived. */
	nanosleep(&(struct timespec){ .tv_sec = 1, .tv_nsec = 200 * 1000 * 1000 }, NULL);
	ck_assert_int_le(background_derivations(), 1);
}
END_TEST

/* A derivation still running when the boot fails must not store its key after the fatal path
 * wiped the buffer: once it ends, no live secret buffer holds a byte. */
START_TEST(emt_fatal_path_leaves_no_key_from_a_derivation_in_flight)
{
	fde_disk(true);
	emt_cmdline(UUID_A, NULL);
	ctx.opts_parsed = true;
	fake.unseal_secret = EMT_KEY;
	fake.pbkdf_memory_kib = 1024;
	fake.derive_delay_ms = 300;
	ck_assert_int_eq(walk_to_a_failure(), -EIO);
	/* The slot's keys are there until the fatal path, and a derivation is in flight: waited for
	 * (bounded) rather than assumed after a fixed sleep, which a loaded machine can outlast. */
	for (int ms = 0; ms < 5000 && background_derivations() == 0; ms++)
		nanosleep(&(struct timespec){ .tv_nsec = 1000 * 1000 }, NULL);
	ck_assert_uint_ge(secret_count_nonzero(), 1);
	ck_assert_int_eq(background_derivations(), 1);
	boot_discard(&ctx);
	ck_assert_uint_eq(secret_count_nonzero(), 0);
	/* The derivation in flight at the discard ends 300 ms later. */
	nanosleep(&(struct timespec){ .tv_sec = 1 }, NULL);
	ck_assert_uint_eq(secret_count_nonzero(), 0);
}
END_TEST

Suite *emt_stage_suite(void)
{
	Suite *s = suite_create("emt-stage");
	TCase *tc = tcase_create("core");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 30);
	tcase_add_test(tc, emt_fde_slot_a_opens_every_volume_then_latches);
	tcase_add_test(tc, emt_verity_only_warns_about_the_unauthenticated_hash);
	tcase_add_test(tc, emt_roothash_on_the_command_line_wins);
	tcase_add_test(tc, emt_fatal_path_frees_the_keys);
	tcase_add_test(tc, emt_fatal_path_stops_the_background_without_waiting);
	tcase_add_test(tc, emt_fatal_path_leaves_no_key_from_a_derivation_in_flight);
	suite_add_tcase(s, tc);
	return s;
}
