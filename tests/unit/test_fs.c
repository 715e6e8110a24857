/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "suites.h"

static char dir[64];

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/edgeinit-fs-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

START_TEST(test_root_is_a_mount_point_and_tmpdir_is_not)
{
	ck_assert_int_eq(is_mount_point("/"), 1);
	ck_assert_int_eq(is_mount_point("/proc"), 1);
	ck_assert_int_eq(is_mount_point(dir), 0);
	ck_assert_int_eq(is_mount_point("/nonexistent-edgeinit"), -ENOENT);
}
END_TEST

START_TEST(test_write_new_file_replaces_whole_content)
{
	char path[128], buf[64];

	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(write_new_file(path, "first version\n"), 0);
	ck_assert_int_eq(write_new_file(path, "second\n"), 0);
	ck_assert_int_eq(read_small_file(path, buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "second\n");
	snprintf(path, sizeof(path), "%s/f.tmp", dir);
	ck_assert_int_eq(access(path, F_OK), -1); /* no temporary left behind */
}
END_TEST

START_TEST(test_write_new_file_does_not_follow_planted_temp_symlink)
{
	char path[128], tmp[128], target[128];

	snprintf(path, sizeof(path), "%s/f", dir);
	snprintf(tmp, sizeof(tmp), "%s/f.tmp", dir);
	snprintf(target, sizeof(target), "%s/victim", dir);
	ck_assert_int_eq(symlink(target, tmp), 0);
	ck_assert_int_eq(write_new_file(path, "x"), -ELOOP);
	ck_assert_int_eq(access(target, F_OK), -1);
}
END_TEST

START_TEST(test_read_small_file_truncates_and_terminates)
{
	char path[128], buf[4];

	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(write_new_file(path, "abcdef"), 0);
	ck_assert_int_eq(read_small_file(path, buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "abc");
	ck_assert_int_eq(read_small_file(path, buf, 0), -EINVAL);
}
END_TEST

START_TEST(test_mkdir_exist_ok)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/d", dir);
	ck_assert_int_eq(mkdir_exist_ok(path, 0755), 0);
	ck_assert_int_eq(mkdir_exist_ok(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/f", dir);
	ck_assert_int_eq(write_new_file(path, "x"), 0);
	ck_assert_int_eq(mkdir_exist_ok(path, 0755), -ENOTDIR);
	snprintf(path, sizeof(path), "%s/missing/d", dir);
	ck_assert_int_eq(mkdir_exist_ok(path, 0755), -ENOENT);
}
END_TEST

/* A disk's names never lead out of the directory, through a symlink or across a mount. */
START_TEST(test_openat_beneath_stays_beneath)
{
	char path[192];
	int dfd, fd;

	snprintf(path, sizeof(path), "%s/d", dir);
	ck_assert_int_eq(mkdir_exist_ok(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/d/f", dir);
	ck_assert_int_eq(write_new_file(path, "x"), 0);
	snprintf(path, sizeof(path), "%s/outside", dir);
	ck_assert_int_eq(write_new_file(path, "secret"), 0);
	snprintf(path, sizeof(path), "%s/d/link", dir);
	ck_assert_int_eq(symlink("f", path), 0);
	snprintf(path, sizeof(path), "%s/d", dir);
	dfd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(dfd, 0);

	fd = openat_beneath(dfd, "f", O_RDONLY, 0);
	ck_assert_int_ge(fd, 0);
	ck_assert(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	close(fd);
	ck_assert_int_eq(openat_beneath(dfd, "../outside", O_RDONLY, 0), -EXDEV);
	ck_assert_int_eq(openat_beneath(dfd, path, O_RDONLY, 0), -EXDEV); /* absolute */
	ck_assert_int_eq(openat_beneath(dfd, "link", O_RDONLY, 0), -ELOOP);
	/* /proc is another mount: with RESOLVE_NO_XDEV a crossing is refused. */
	close(dfd);
	dfd = open("/", O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_eq(openat_beneath(dfd, "proc/self", O_PATH, RESOLVE_NO_XDEV), -EXDEV);
	close(dfd);
}
END_TEST

/* The command line's path inside the new root: symlinks are followed, as if it were "/". */
START_TEST(test_openat_in_root_resolves_inside_root)
{
	char path[192];
	int rfd, fd;
	struct stat st, want;

	snprintf(path, sizeof(path), "%s/sbin", dir);
	ck_assert_int_eq(mkdir_exist_ok(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/sbin/init.real", dir);
	ck_assert_int_eq(write_new_file(path, "#!/bin/sh\n"), 0);
	ck_assert_int_eq(stat(path, &want), 0);
	snprintf(path, sizeof(path), "%s/sbin/init", dir);
	ck_assert_int_eq(symlink("/sbin/init.real", path), 0); /* absolute: means the new root's */
	snprintf(path, sizeof(path), "%s/sbin/up", dir);
	ck_assert_int_eq(symlink("../../../../../..", path), 0);
	rfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	ck_assert_int_ge(rfd, 0);

	fd = openat_in_root(rfd, "sbin/init", O_PATH);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_ino, want.st_ino);
	close(fd);
	/* Dot-dots stop at the root: up/ is the root itself, not the host's "/". */
	fd = openat_in_root(rfd, "sbin/up/sbin/init.real", O_PATH);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(fstat(fd, &st), 0);
	ck_assert_uint_eq(st.st_ino, want.st_ino);
	close(fd);
	ck_assert_int_eq(openat_in_root(rfd, "sbin/up/etc/passwd", O_PATH), -ENOENT);
	close(rfd);
}
END_TEST

Suite *fs_suite(void)
{
	Suite *s = suite_create("fs");
	TCase *tc = tcase_create("fs");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_root_is_a_mount_point_and_tmpdir_is_not);
	tcase_add_test(tc, test_write_new_file_replaces_whole_content);
	tcase_add_test(tc, test_write_new_file_does_not_follow_planted_temp_symlink);
	tcase_add_test(tc, test_read_small_file_truncates_and_terminates);
	tcase_add_test(tc, test_mkdir_exist_ok);
	tcase_add_test(tc, test_openat_beneath_stays_beneath);
	tcase_add_test(tc, test_openat_in_root_resolves_inside_root);
	suite_add_tcase(s, tc);
	return s;
}
