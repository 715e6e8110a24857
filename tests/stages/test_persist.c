/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The layout stage on a full persistent partition (a copy that does not fit is not bound) and
 * edgeinit.debug.hold=seed:<n>. The nosuid,nodev cases of a plain partition are data:
 * tests/stages/cases/{mounts,layout}-*-persist-*. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "edgeinit/seed.h"
#include "edgeinit/stage.h"
#include "edgeinit/strutil.h"
#include "fake_sys.h"

TCase *persist_tcase(void);

static struct boot_context ctx;

static void setup(void)
{
	boot_context_init(&ctx, fake_setup("/tmp"), &sys_fake);
	seed_inject_failure(0, 0);
}

static void teardown(void)
{
	seed_inject_failure(0, 0);
	boot_context_done(&ctx);
	fake_teardown();
}

#define LAYOUT_BINDS "OVERLAY=tmpfs:10m\nTMPFS_OVERLAYS_PATHS=\"\"\n" \
	"PERSISTENT_BIND_PATHS=\"/etc/ssh /etc/machine-id\"\nPERSISTENT_BIND_TARGET=/opt/.mount/persistence\n"

static void layout_fixture(const char *layout_env)
{
	fake_mkdir("/sysroot/var/lib");
	fake_mkdir("/sysroot/opt");
	fake_write("/sysroot/etc/ssh/sshd_config", "Port 22\n");
	fake_write("/sysroot/etc/ssh/sshd_config.d/10-edge.conf", "PermitRootLogin no\n");
	fake_write("/sysroot/etc/machine-id", "0123456789abcdef0123456789abcdef\n");
	fake_write("/proc/filesystems", "nodev\toverlay\nnodev\ttmpfs\n");
	fake_write("/sysroot/etc/layout.env", layout_env);
	str_copy(ctx.persist_node, sizeof(ctx.persist_node), "/dev/vda3");
}

/* The persistent partition is full on the first boot: /etc/ssh's copy does not fit. Nothing of
 * it is left on the partition, it is not bound (the image's /etc/ssh stays), the error names
 * the path, the space and the remedy; the other path is seeded and bound. */
START_TEST(layout_full_partition_never_binds_a_partial_copy)
{
	char p[512];

	layout_fixture(LAYOUT_BINDS);
	seed_inject_failure(3, -ENOSPC); /* the copy's directory, sshd_config, then a failure */
	ck_assert_int_eq(stage_layout.run(&ctx), 0);
	ck_assert(!fake_called("mount /sysroot/opt/.mount/persistence/etc-ssh.bind"));
	ck_assert(fake_called("mount /sysroot/opt/.mount/persistence/etc-machine-id.bind/machine-id /sysroot/etc/machine-id"));
	snprintf(p, sizeof(p), "%s/sysroot/opt/.mount/persistence/etc-ssh.bind", fake.root);
	ck_assert_int_eq(access(p, F_OK), -1);
	snprintf(p, sizeof(p), "%s/sysroot/opt/.mount/persistence/.#edgeinit.etc-ssh.bind", fake.root);
	ck_assert_int_eq(access(p, F_OK), -1);
	ck_assert(fake_logged("Cannot seed '/etc/ssh' into '/opt/.mount/persistence/etc-ssh.bind' (layout.env line 3): No space left on device. It needs about "));
	ck_assert(fake_logged("KiB; the persistent partition /dev/vda3 has "));
	ck_assert(fake_logged("Nothing was copied and '/etc/ssh' is not bound: it stays the image's copy"));
	ck_assert(fake_logged("Free space on the persistent partition (/opt) and reboot"));
	ck_assert_uint_eq(ctx.report.layout_mounts, 1);
	ck_assert_uint_eq(ctx.report.layout_failed, 1);

	/* Space freed: the next boot seeds and binds it. */
	fake.n_calls = 0;
	seed_inject_failure(0, 0);
	ck_assert_int_eq(stage_layout.run(&ctx), 0);
	ck_assert(fake_called("mount /sysroot/opt/.mount/persistence/etc-ssh.bind /sysroot/etc/ssh - 0x1000 -"));
	snprintf(p, sizeof(p), "%s/sysroot/opt/.mount/persistence/etc-ssh.bind/sshd_config.d/10-edge.conf", fake.root);
	ck_assert_int_eq(access(p, F_OK), 0);
}
END_TEST

/* A file bind that does not fit is not bound either. */
START_TEST(layout_full_partition_file_bind)
{
	layout_fixture("TMPFS_OVERLAYS_PATHS=\"\"\nPERSISTENT_BIND_PATHS=/etc/machine-id\n");
	seed_inject_failure(1, -ENOSPC);
	ck_assert_int_eq(stage_layout.run(&ctx), 0);
	ck_assert(!fake_called("mount /sysroot/opt/.mount/persistent/etc-machine-id.bind"));
	ck_assert(fake_logged("Cannot seed '/etc/machine-id'"));
	ck_assert(fake_logged("'/etc/machine-id' is not bound"));
}
END_TEST

/* edgeinit.debug.hold=seed:<n>: the layout stage holds (here for 0 s) right before the n-th
 * seeding operation, and says so, then finishes the seeding; the knob is gone after the stage. */
START_TEST(layout_debug_hold_at_the_nth_seeding_operation)
{
	layout_fixture(LAYOUT_BINDS);
	str_copy(ctx.opts_rw.debug_hold, sizeof(ctx.opts_rw.debug_hold), "seed:2");
	ctx_debug_hold_max_sec = 0;
	ck_assert_int_eq(stage_layout.run(&ctx), 0);
	ck_assert(fake_logged("edgeinit.debug.hold=seed:2: holding 0 s before this seeding operation"));
	ck_assert(fake_called("mount /sysroot/opt/.mount/persistence/etc-ssh.bind /sysroot/etc/ssh - 0x1000 -"));
	ck_assert_uint_eq(ctx.report.layout_mounts, 2);
	/* Without the option, no hold. */
	ctx.opts_rw.debug_hold[0] = '\0';
	fake_log[0] = '\0';
	ck_assert_int_eq(stage_layout.run(&ctx), 0);
	ck_assert(!fake_logged("holding"));
}
END_TEST

TCase *persist_tcase(void)
{
	TCase *tc = tcase_create("persist");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, layout_full_partition_never_binds_a_partial_copy);
	tcase_add_test(tc, layout_full_partition_file_bind);
	tcase_add_test(tc, layout_debug_hold_at_the_nth_seeding_operation);
	return tc;
}
