/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Stage exitrd on a fake root: /init is copied to /run/initramfs/shutdown with the directories
 * systemd-shutdown binds into it, or nothing is written with edgeinit.exitrd=no. */
#include <check.h>
#include <limits.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/stage.h"
#include "fake_sys.h"
#include "suites.h"

static struct boot_context ctx;

static void setup(void)
{
	char run[PATH_MAX];

	boot_context_init(&ctx, fake_setup("/tmp"), &sys_fake);
	ctx.opts_rw.exitrd = true;
	/* early-setup mounted /run */
	ck_assert_int_eq(ctx_path(&ctx, "/run", run, sizeof(run)), 0);
	ck_assert_int_eq(mkdir_exist_ok(run, 0755), 0);
}

static void teardown(void)
{
	boot_context_done(&ctx);
	fake_teardown();
}

static void root_path(const char *rel, char *buf, size_t size)
{
	ck_assert_int_eq(ctx_path(&ctx, rel, buf, size), 0);
}

static void write_fake_init(size_t size)
{
	char path[PATH_MAX];
	FILE *f;

	root_path("/init", path, sizeof(path));
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	for (size_t i = 0; i < size; i++)
		fputc((int)(i * 7 % 251), f);
	ck_assert_int_eq(fclose(f), 0);
}

START_TEST(exitrd_copies_init_with_the_directories_systemd_binds)
{
	static const char *const dirs[] = { "dev", "proc", "sys", "run", "oldroot" };
	char init[PATH_MAX], copy[PATH_MAX], p[2 * PATH_MAX + 16];
	struct stat st;

	/* Larger than one copy buffer, so the loop is exercised. */
	write_fake_init(200 * 1024 + 13);
	ck_assert_int_eq(stage_exitrd.run(&ctx), 0);
	root_path("/init", init, sizeof(init));
	root_path("/run/initramfs/shutdown", copy, sizeof(copy));
	ck_assert_int_eq(stat(copy, &st), 0);
	ck_assert_uint_eq(st.st_mode & 07777, 0700);
	ck_assert_int_eq((int)st.st_size, 200 * 1024 + 13);
	snprintf(p, sizeof(p), "cmp -s '%s' '%s'", init, copy);
	ck_assert_int_eq(system(p), 0);
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		root_path("/run/initramfs", p, sizeof(p));
		strcat(p, "/");
		strcat(p, dirs[i]);
		ck_assert_msg(stat(p, &st) == 0 && S_ISDIR(st.st_mode), "%s", p);
	}
	root_path("/run/initramfs/.shutdown.tmp", p, sizeof(p));
	ck_assert_int_ne(access(p, F_OK), 0);
}
END_TEST

START_TEST(exitrd_off_writes_nothing)
{
	char p[PATH_MAX];

	write_fake_init(100);
	ctx.opts_rw.exitrd = false;
	ck_assert_int_eq(stage_exitrd.run(&ctx), 0);
	root_path("/run/initramfs", p, sizeof(p));
	ck_assert_int_ne(access(p, F_OK), 0);
}
END_TEST

/* No /init to copy: a warning, never a failed boot, and no half-written file. */
START_TEST(exitrd_without_init_does_not_stop_the_boot)
{
	char p[PATH_MAX];

	ck_assert_int_eq(stage_exitrd.run(&ctx), 0);
	root_path("/run/initramfs/shutdown", p, sizeof(p));
	ck_assert_int_ne(access(p, F_OK), 0);
	root_path("/run/initramfs/.shutdown.tmp", p, sizeof(p));
	ck_assert_int_ne(access(p, F_OK), 0);
}
END_TEST

Suite *exitrd_stage_suite(void)
{
	Suite *s = suite_create("exitrd-stage");
	TCase *tc = tcase_create("exitrd");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, exitrd_copies_init_with_the_directories_systemd_binds);
	tcase_add_test(tc, exitrd_off_writes_nothing);
	tcase_add_test(tc, exitrd_without_init_does_not_stop_the_boot);
	suite_add_tcase(s, tc);
	return s;
}
