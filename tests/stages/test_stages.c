/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage tests: each stage runs against a fake root directory with the recording fake of the
 * side-effect seam; assertions are on the recorded plan of calls, the context and the log.
 * Cases whose outcome is a call log and a result are data instead: tests/stages/cases/. The tests
 * left here assert what a case cannot see: options and report fields no stage shows, the TPM
 * lockdown flag (nothing after luks reads it), the context a failed stage leaves, the measurement
 * log's mode, the uevent socket kept for later stages; and the real switch_root. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/hash.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "fake_sys.h"
#include "suites.h"

#define HASH64 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static struct boot_context ctx;

static void setup(void)
{
	boot_context_init(&ctx, fake_setup("/tmp"), &sys_fake);
}

static void teardown(void)
{
	boot_context_done(&ctx);
	fake_teardown();
}

/* ---- early-setup: tests/stages/cases/ ---- */

/* ---- cmdline ---- */

START_TEST(cmdline_reads_options)
{
	fake_write("/proc/cmdline",
		   "console=ttyS0 roothash=" HASH64 " systemd.verity_root_data=PARTLABEL=rootfs "
		   "systemd.verity_root_hash=PARTLABEL=hashmap_a rd.timeout=7 edgeinit.bogus=1\n");
	ck_assert_int_eq(stage_cmdline.run(&ctx), 0);
	ck_assert_int_eq(ctx.opts_rw.roothash_size, 32);
	ck_assert_str_eq(ctx.opts_rw.verity_data.value, "rootfs");
	ck_assert_uint_eq(ctx.opts_rw.timeout_sec, 7);
	ck_assert_str_eq(ctx.opts_rw.root_mapper_name, "rootfs_verity");
	ck_assert(fake_logged("Unknown option 'edgeinit.bogus'"));
}
END_TEST

/* ---- modules ---- */

static void virtio_bus_appears(struct fake_sys *f)
{
	(void)f;
	fake_write("/sys/bus/virtio/devices/virtio0/modalias", "virtio:d00000002v00001AF4\n");
}

START_TEST(modules_loads_required_then_coldplugs_until_stable)
{
	fake_write("/sys/bus/pci/devices/0000:00:02.0/modalias", "pci:v00001AF4d00001001sv00001AF4\n");
	fake_write("/sys/bus/pci/devices/0000:00:03.0/modalias", "pci:v00001AF4d00001001sv00001AF4\n");
	fake_mkdir("/sys/bus/virtio/devices");
	fake_write("/proc/filesystems", "nodev\tsysfs\nnodev\tefivarfs\n");
	fake.on_load_name = "pci:v00001AF4d00001001sv00001AF4";
	fake.on_load = virtio_bus_appears;
	ck_assert_int_eq(stage_modules.run(&ctx), 0);
	ck_assert_int_ge(ctx.dev.uevent_fd, 0);
	ck_assert_int_eq(fake_call_index("uevent_open"), 0); /* before any module */
	/* Then the later stages' modules go to the background, in the order they are needed, without
	 * the file systems the kernel knows already. */
	ck_assert_str_eq(fake.calls[1], "load-background dm_crypt xts fs-ext4 fs-overlay");
	ck_assert_str_eq(fake.calls[2], "load dm_mod");
	ck_assert_str_eq(fake.calls[3], "load dm_verity");
	/* Each alias once, and the device added by the first driver got its driver too. */
	int pci = 0, virtio = 0;
	for (int i = 0; i < fake.n_calls; i++) {
		pci += !strcmp(fake.calls[i], "load pci:v00001AF4d00001001sv00001AF4");
		virtio += !strcmp(fake.calls[i], "load virtio:d00000002v00001AF4");
	}
	ck_assert_int_eq(pci, 1);
	ck_assert_int_eq(virtio, 1);
}
END_TEST

/* ---- devices ---- */

static void devices_fixture(bool with_persist)
{
	fake_write("/sys/class/block/vda/uevent", "MAJOR=254\nMINOR=0\nDEVNAME=vda\nDEVTYPE=disk\n");
	fake_write("/sys/class/block/vda2/uevent", "MAJOR=254\nMINOR=2\nDEVNAME=vda2\nDEVTYPE=partition\nPARTNAME=rootfs\n");
	fake_write("/sys/class/block/vda4/uevent", "MAJOR=254\nMINOR=4\nDEVNAME=vda4\nDEVTYPE=partition\n");
	fake_add_probe("/dev/vda2", "rootfs", "ext4", NULL);
	fake_add_probe("/dev/vda4", "hashmap_a", "DM_verity_hash", NULL);
	fake_add_probe("/dev/vda3", "edge_persistent", "ext4", NULL);
	if (with_persist)
		fake_write("/sys/class/block/vda3/uevent", "DEVNAME=vda3\nDEVTYPE=partition\n");
	devref_parse("PARTLABEL=rootfs", &ctx.opts_rw.verity_data);
	devref_parse("PARTLABEL=hashmap_a", &ctx.opts_rw.verity_hash);
	ctx.opts_rw.timeout_sec = 1;
	ctx.dev.uevent_fd = sys_fake.dev->uevent_open();
}

START_TEST(devices_resolves_present_partitions)
{
	devices_fixture(true);
	ctx.opts_rw.roothash_size = 32;
	memset(ctx.opts_rw.roothash, 0xab, 32);
	ck_assert_int_eq(stage_devices.run(&ctx), 0);
	ck_assert_str_eq(ctx.rootfs.data_node, "/dev/vda2");
	ck_assert_str_eq(ctx.rootfs.hash_node, "/dev/vda4");
	/* The root plan takes the root hash from the signed command line. */
	ck_assert_uint_eq(ctx.rootfs.roothash_size, 32);
	ck_assert_mem_eq(ctx.rootfs.roothash, ctx.opts_rw.roothash, 32);
	ck_assert_str_eq(ctx.rootfs.roothash_source, "cmdline");
	ck_assert_str_eq(ctx.persist_node, "/dev/vda3");
	ck_assert_uint_eq(ctx.report.n_devices, 3);
	ck_assert_str_eq(ctx.report.devices[2].ref, "PARTLABEL=edge_persistent");
}
END_TEST

/* ---- verity: tests/stages/cases/ ---- */

/* ---- mounts, layout: tests/stages/cases/ ---- */

/* ---- tpm2, luks, leave-initrd ---- */

/* sha256("enter-initrd"), as systemd-pcrphase extends it into PCR 11. */
static void sha256_hex(const char *s, char *hex)
{
	uint8_t d[32];

	hash_buffer(HASH_SHA256, s, strlen(s), d);
	hex_encode(d, 32, hex, 65);
}

START_TEST(tpm2_measures_enter_initrd_with_a_log_record)
{
	char want[128], hex[65], path[512], log[2048];

	ctx.dev.uevent_fd = -1;
	fake_mkdir("/run");
	fake_write("/proc/sys/kernel/random/boot_id", "0123456789abcdef0123456789abcdef\n");
	ck_assert_int_eq(stage_tpm2.run(&ctx), 0);
	ck_assert(ctx.tpm.present);
	sha256_hex("enter-initrd", hex);
	snprintf(want, sizeof(want), "extend 11 sha256:%s", hex);
	ck_assert(fake_called(want));
	snprintf(path, sizeof(path), "%s/run/log/systemd/tpm2-measure.log", fake.root);
	ck_assert_int_gt(read_small_file(path, log, sizeof(log)), 0);
	ck_assert_int_eq(log[0], 0x1e);
	ck_assert_ptr_nonnull(strstr(log, "\"pcr\":11"));
	ck_assert_ptr_nonnull(strstr(log, "\"string\":\"enter-initrd\""));
	ck_assert_ptr_nonnull(strstr(log, hex));
	struct stat st;
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0600); /* record complete: no sticky bit */

	/* ... and leave-initrd just before switch_root. */
	ck_assert_int_eq(stage_leave_initrd.run(&ctx), 0);
	sha256_hex("leave-initrd", hex);
	snprintf(want, sizeof(want), "extend 11 sha256:%s", hex);
	ck_assert(fake_called(want));
	/* Then the TPM context is finalized: tss2's buffers do not live on until exec. */
	ck_assert_int_gt(fake_call_index("tpm2_close"), fake_call_index(want));
}
END_TEST

#define EMT_KEY "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static void luks_fixture(bool tpm)
{
	fake_mkdir("/run");
	str_copy(ctx.persist_node, sizeof(ctx.persist_node), "/dev/vda3");
	fake.luks_uuid = "3f0b2d6e-1111-4222-8333-944455556666";
	fake.good_passphrase = EMT_KEY;
	ctx.tpm.present = tpm;
	ctx.tpm.n_banks = 1;
	ctx.tpm.banks[0] = HASH_SHA256;
}

/* How many PCRs got the lockdown event. */
static int lockdown_extends(void)
{
	char hex[65], want[128];
	int n = 0;

	sha256_hex(TPM_LOCKDOWN_EVENT, hex);
	for (unsigned pcr = 0; pcr < 24; pcr++) {
		snprintf(want, sizeof(want), "extend %u sha256:%s", pcr, hex);
		n += fake_called(want);
	}
	return n;
}

START_TEST(luks_not_encrypted_is_plain_and_locks_the_tpm)
{
	luks_fixture(true);
	fake.luks_uuid = NULL;
	ck_assert_int_eq(stage_luks.run(&ctx), 0);
	ck_assert_str_eq(ctx.persist_node, "/dev/vda3");
	ck_assert(ctx.persist_plain);
	ck_assert(!fake_called("tpm2_unseal"));
	/* PCRs 0-15: a PCR-7-only policy fails from now on too. */
	ck_assert_int_eq(lockdown_extends(), 16);
	ck_assert(ctx.tpm.locked_down);
}
END_TEST

START_TEST(luks_not_encrypted_but_expected_is_refused)
{
	static const char *const cmdlines[][2] = {
		{ "rd.luks.uuid=3f0b2d6e-1111-4222-8333-944455556666", "rd.luks.uuid=" },
		{ "rd.luks.name=3f0b2d6e-1111-4222-8333-944455556666=data", "rd.luks.name=" },
		{ "edgeinit.tpm2.emt-handle=0x81000000", "edgeinit.tpm2.emt-handle=" },
	};
	char bad[CMDLINE_KEY_MAX], reason[CMDLINE_REASON_MAX], line[256], want[256];

	for (size_t i = 0; i < ELEMENTSOF(cmdlines); i++) {
		fake_log[0] = '\0';
		luks_fixture(true);
		fake.luks_uuid = NULL;
		snprintf(line, sizeof(line), "roothash=%064d %s", 1, cmdlines[i][0]);
		boot_options_init(&ctx.opts_rw);
		ck_assert_int_eq(boot_options_parse(line, &ctx.opts_rw, NULL, NULL, bad, reason), 0);
		ck_assert_int_eq(stage_luks.run(&ctx), -EMEDIUMTYPE);
		snprintf(want, sizeof(want), "The persistent partition /dev/vda3 is not LUKS2, but the command line expects it encrypted (%s)",
			 cmdlines[i][1]);
		ck_assert_msg(fake_logged(want), "%s", fake_log);
		ck_assert(!ctx.persist_plain);
	}
	ck_assert(!fake_called("extend"));
}
END_TEST

START_TEST(luks_three_wrong_passphrases_fail_closed)
{
	luks_fixture(false);
	fake.answers[0] = fake.answers[1] = fake.answers[2] = fake.answers[3] = "nope";
	ck_assert_int_eq(stage_luks.run(&ctx), -EKEYREJECTED);
	ck_assert_int_eq(fake.n_asked, 3);
	ck_assert_str_eq(ctx.persist_node, "/dev/vda3");
	ck_assert_ptr_nonnull(strstr(ctx.remedy, "recovery passphrase"));
}
END_TEST

/* ---- switch-root ---- */

/* Privileged tier: the real switch_root in a private mount namespace. The child mounts a tmpfs
 * as the fake old root, another as the new root, runs the stage with real mount/chroot, then
 * checks what it sees from inside the new root and reports through its exit status. */
static int real_mount(const char *s, const char *t, const char *f, unsigned long fl, const char *d)
{
	return mount(s, t, f, fl, d) < 0 ? -errno : 0;
}
static int real_umount(const char *t, int fl) { return umount2(t, fl) < 0 ? -errno : 0; }
static int real_chroot(const char *p) { return chroot(p) < 0 ? -errno : 0; }

static int no_background_loading(bool skip_rest) { return skip_rest ? 0 : -EINVAL; }
static int module_hangs_loading(bool skip_rest) { return skip_rest ? -ETIMEDOUT : -EINVAL; }

/* With a module that never finishes loading (hanging), the stage must refuse before anything
 * moved: the old root, its API mounts and its files as they were. */
static int switch_root_child(const char *root, bool hanging)
{
	static const struct sys_fs_ops fs = { .mount = real_mount, .umount = real_umount,
					      .chroot = real_chroot };
	static const struct sys_dev_ops dev = { .load_modules_finish = no_background_loading };
	static const struct sys_dev_ops dev_hanging = { .load_modules_finish = module_hangs_loading };
	static const struct sys_ops ops = { .fs = &fs, .dev = &dev }; /* the stage needs nothing else */
	static const struct sys_ops ops_hanging = { .fs = &fs, .dev = &dev_hanging };
	static const char *const api[] = { "/dev", "/proc", "/sys", "/run" };
	struct boot_context c;
	char p[512];

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 10;
	if (mount("tmpfs", root, "tmpfs", 0, "mode=0755") < 0)
		return 11;
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s%s", root, api[i]);
		mkdir(p, 0755);
		if (mount("tmpfs", p, "tmpfs", 0, NULL) < 0)
			return 12;
		snprintf(p, sizeof(p), "%s%s/marker", root, api[i]);
		close(open(p, O_CREAT | O_WRONLY, 0644));
	}
	snprintf(p, sizeof(p), "%s/sysroot", root);
	mkdir(p, 0755);
	if (mount("tmpfs", p, "tmpfs", 0, "mode=0755") < 0)
		return 13;
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/sysroot%s", root, api[i]);
		mkdir(p, 0755);
	}
	snprintf(p, sizeof(p), "%s/sysroot/sbin", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/sysroot/sbin/init", root);
	int fd = open(p, O_CREAT | O_WRONLY, 0755);
	if (fd < 0 || write(fd, "#!/bin/true\n", 12) != 12)
		return 14;
	close(fd);
	/* initramfs content: 3 files of known size in a directory tree */
	snprintf(p, sizeof(p), "%s/lib", root);
	mkdir(p, 0755);
	snprintf(p, sizeof(p), "%s/lib/modules", root);
	mkdir(p, 0755);
	const char *files[] = { "/init", "/layout.env", "/lib/modules/a.ko" };
	for (size_t i = 0; i < 3; i++) {
		snprintf(p, sizeof(p), "%s%s", root, files[i]);
		fd = open(p, O_CREAT | O_WRONLY, 0644);
		if (fd < 0 || write(fd, "0123456789", 10) != 10)
			return 15;
		close(fd);
	}

	boot_context_init(&c, root, hanging ? &ops_hanging : &ops);
	if (hanging) {
		if (stage_switch_root.run(&c) != -ETIMEDOUT)
			return 30;
		snprintf(p, sizeof(p), "%s/dev/marker", root);
		if (access(p, F_OK) != 0) /* /dev not moved */
			return 31;
		snprintf(p, sizeof(p), "%s/init", root);
		if (access(p, F_OK) != 0 || c.report.initramfs_freed_bytes != 0) /* nothing deleted */
			return 32;
		return strstr(c.remedy, "edgeinit-mkinitrd") ? 0 : 33;
	}
	if (stage_switch_root.run(&c) != 0)
		return 20;
	/* Now inside the new root. */
	if (access("/sbin/init", X_OK) != 0)
		return 21;
	for (size_t i = 0; i < 4; i++) {
		snprintf(p, sizeof(p), "%s/marker", api[i]);
		if (access(p, F_OK) != 0) /* the API mount moved along */
			return 22;
	}
	if (c.report.initramfs_freed_bytes != 30)
		return 23;
	if (c.report.initramfs_left_entries != 0)
		return 24;
	return 0;
}

static void run_switch_root_child(bool hanging)
{
	char root[] = "/tmp/edgeinit-switch-XXXXXX";
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP the real switch_root: needs root (privileged tier)\n");
		return;
	}
	ck_assert_ptr_nonnull(mkdtemp(root));
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(switch_root_child(root, hanging));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	rmdir(root);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "switch_root child failed with status %d (see test source for codes)",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

START_TEST(switch_root_real_in_private_namespace)
{
	run_switch_root_child(false);
}
END_TEST

START_TEST(switch_root_refuses_with_a_module_still_loading)
{
	run_switch_root_child(true);
}
END_TEST

void boot_table_tests(Suite *s); /* test_boot.c */

Suite *stages_suite(void)
{
	Suite *s = suite_create("stages");
	TCase *tc = tcase_create("stages");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, cmdline_reads_options);
	tcase_add_test(tc, modules_loads_required_then_coldplugs_until_stable);
	tcase_add_test(tc, devices_resolves_present_partitions);
	tcase_add_test(tc, tpm2_measures_enter_initrd_with_a_log_record);
	tcase_add_test(tc, luks_not_encrypted_is_plain_and_locks_the_tpm);
	tcase_add_test(tc, luks_not_encrypted_but_expected_is_refused);
	tcase_add_test(tc, luks_three_wrong_passphrases_fail_closed);
	tcase_add_test(tc, switch_root_real_in_private_namespace);
	tcase_add_test(tc, switch_root_refuses_with_a_module_still_loading);
	suite_add_tcase(s, tc);
	boot_table_tests(s);
	return s;
}
