/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seeding against temporary directories: what is copied, what is kept, what is refused. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/macro.h"
#include "edgeinit/seed.h"
#include "suites.h"

static char base[64], src[128], dst[128];
static int src_fd = -1, dst_fd = -1;

static void sink(int level, const char *line) { (void)level, (void)line; }

static void setup(void)
{
	snprintf(base, sizeof(base), "/tmp/edgeinit-seed-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(base));
	snprintf(src, sizeof(src), "%s/root", base);
	snprintf(dst, sizeof(dst), "%s/persist", base);
	ck_assert_int_eq(mkdir(src, 0755), 0);
	ck_assert_int_eq(mkdir(dst, 0755), 0);
	src_fd = open(src, O_RDONLY | O_DIRECTORY);
	dst_fd = open(dst, O_RDONLY | O_DIRECTORY);
	log_set_sink(sink);
}

static void teardown(void)
{
	char cmd[128];

	close(src_fd);
	close(dst_fd);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	ck_assert_int_eq(system(cmd), 0);
	log_set_sink(NULL);
}

static void put(const char *dir, const char *rel, const char *content, mode_t mode)
{
	char p[512];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", dir, rel);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, mode);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	ck_assert_int_eq(fchmod(fd, mode), 0);
	close(fd);
}

static void in(const char *dir, const char *rel, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", dir, rel);
}

static void assert_content(const char *dir, const char *rel, const char *want)
{
	char p[512], buf[256];

	in(dir, rel, p, sizeof(p));
	ck_assert_int_ge(read_small_file(p, buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, want);
}

START_TEST(test_copies_tree_with_metadata)
{
	char p[512], q[512], buf[64];
	struct stat a, b;
	struct timespec ts[2] = { { 1000000000, 0 }, { 1100000000, 123 } };
	struct seed_stats st = { 0 };

	in(src, "ssh", p, sizeof(p));
	ck_assert_int_eq(mkdir(p, 0700), 0);
	put(src, "ssh/sshd_config", "Port 22\n", 0640);
	in(src, "ssh/sshd_config", p, sizeof(p));
	ck_assert_int_eq(chown(p, 1234, 5678), 0);
	ck_assert_int_eq(utimensat(AT_FDCWD, p, ts, 0), 0);
	ck_assert_int_eq(setxattr(p, "user.edgeinit", "v1", 2, 0), 0);
	ck_assert_int_eq(setxattr(p, "security.selinux", "system_u:object_r:etc_t:s0", 27, 0), 0);
	in(src, "ssh/moduli.link", p, sizeof(p));
	ck_assert_int_eq(symlink("../../usr/share/moduli", p), 0); /* dangling: copied as a link */
	in(src, "ssh/null", p, sizeof(p));
	ck_assert_int_eq(mknod(p, S_IFCHR | 0666, makedev(1, 3)), 0);

	ck_assert_int_eq(seed_dir(src_fd, dst_fd, &st), 0);
	ck_assert_uint_eq(st.created, 4);
	ck_assert_uint_eq(st.skipped, 0);

	assert_content(dst, "ssh/sshd_config", "Port 22\n");
	in(src, "ssh/sshd_config", p, sizeof(p));
	in(dst, "ssh/sshd_config", q, sizeof(q));
	ck_assert_int_eq(stat(p, &a), 0);
	ck_assert_int_eq(stat(q, &b), 0);
	ck_assert_uint_eq(b.st_uid, 1234);
	ck_assert_uint_eq(b.st_gid, 5678);
	ck_assert_uint_eq(b.st_mode & 07777, 0640);
	ck_assert_int_eq(b.st_mtim.tv_sec, 1100000000);
	ck_assert_int_eq(b.st_mtim.tv_nsec, 123);
	ck_assert_int_eq(getxattr(q, "user.edgeinit", buf, sizeof(buf)), 2);
	ck_assert_int_eq(memcmp(buf, "v1", 2), 0);
	ck_assert_int_eq(getxattr(q, "security.selinux", buf, sizeof(buf)), 27);
	ck_assert_str_eq(buf, "system_u:object_r:etc_t:s0");

	in(dst, "ssh", q, sizeof(q));
	ck_assert_int_eq(stat(q, &b), 0);
	ck_assert_uint_eq(b.st_mode & 07777, 0700);

	in(dst, "ssh/moduli.link", q, sizeof(q));
	ck_assert_int_eq(readlink(q, buf, sizeof(buf)), 22);
	in(dst, "ssh/null", q, sizeof(q));
	ck_assert_int_eq(lstat(q, &b), 0);
	ck_assert(S_ISCHR(b.st_mode));
	ck_assert_uint_eq(b.st_rdev, makedev(1, 3));
}
END_TEST

/* A POSIX ACL is the system.posix_acl_access xattr; build one by hand (version 2 entries). */
START_TEST(test_copies_posix_acl)
{
	struct { uint16_t tag, perm; uint32_t id; } __attribute__((packed)) e[] = {
		{ 0x01, 6, UINT32_MAX }, { 0x02, 4, 1000 }, { 0x04, 4, UINT32_MAX },
		{ 0x10, 4, UINT32_MAX }, { 0x20, 0, UINT32_MAX },
	};
	char acl[4 + sizeof(e)], got[128], p[512];
	uint32_t version = 2;
	struct seed_stats st = { 0 };

	memcpy(acl, &version, 4);
	memcpy(acl + 4, e, sizeof(e));
	put(src, "hosts", "127.0.0.1 localhost\n", 0640);
	in(src, "hosts", p, sizeof(p));
	ck_assert_int_eq(setxattr(p, "system.posix_acl_access", acl, sizeof(acl), 0), 0);
	ck_assert_int_eq(seed_entry(src_fd, "hosts", dst_fd, "hosts", &st), 0);
	in(dst, "hosts", p, sizeof(p));
	ck_assert_int_eq(getxattr(p, "system.posix_acl_access", got, sizeof(got)), (ssize_t)sizeof(acl));
	ck_assert_int_eq(memcmp(got, acl, sizeof(acl)), 0);
}
END_TEST

START_TEST(test_keeps_existing_and_adds_new)
{
	char p[512];
	struct seed_stats st = { 0 };

	put(src, "a.conf", "image version\n", 0644);
	put(src, "new.conf", "added by an update\n", 0644);
	put(dst, "a.conf", "changed on the device\n", 0600);
	put(dst, "device-only", "mine\n", 0600);
	ck_assert_int_eq(seed_dir(src_fd, dst_fd, &st), 0);
	assert_content(dst, "a.conf", "changed on the device\n");
	assert_content(dst, "new.conf", "added by an update\n");
	assert_content(dst, "device-only", "mine\n");
	ck_assert_uint_eq(st.created, 1);
	ck_assert_uint_eq(st.kept, 1);
	in(dst, ".#edgeinit.new.conf", p, sizeof(p));
	ck_assert_int_eq(access(p, F_OK), -1);
}
END_TEST

START_TEST(test_hard_links_stay_linked)
{
	char p[512], q[512];
	struct stat a, b;
	struct seed_stats st = { 0 };

	put(src, "one", "same inode\n", 0644);
	in(src, "one", p, sizeof(p));
	in(src, "two", q, sizeof(q));
	ck_assert_int_eq(link(p, q), 0);
	ck_assert_int_eq(seed_dir(src_fd, dst_fd, &st), 0);
	in(dst, "one", p, sizeof(p));
	in(dst, "two", q, sizeof(q));
	ck_assert_int_eq(stat(p, &a), 0);
	ck_assert_int_eq(stat(q, &b), 0);
	ck_assert_uint_eq(a.st_ino, b.st_ino);
	ck_assert_uint_eq(st.created, 1);
	ck_assert_uint_eq(st.hardlinked, 1);
}
END_TEST

/* The running system can plant a symlink in the persistent copy; seeding must not follow it. */
START_TEST(test_planted_symlink_is_not_followed)
{
	char p[600], outside[256];
	struct seed_stats st = { 0 };

	in(src, "ssh", p, sizeof(p));
	ck_assert_int_eq(mkdir(p, 0755), 0);
	put(src, "ssh/key", "secret-ish\n", 0600);
	snprintf(outside, sizeof(outside), "%s/outside", base);
	ck_assert_int_eq(mkdir(outside, 0755), 0);
	in(dst, "ssh", p, sizeof(p));
	ck_assert_int_eq(symlink(outside, p), 0);

	ck_assert_int_eq(seed_dir(src_fd, dst_fd, &st), 0);
	ck_assert_uint_eq(st.skipped, 1);
	snprintf(p, sizeof(p), "%s/key", outside);
	ck_assert_int_eq(access(p, F_OK), -1);
}
END_TEST

START_TEST(test_persist_open_dir_refuses_symlinks)
{
	char p[512];
	int fd;

	in(dst, "real/dir", p, sizeof(p));
	fd = persist_open_dir(dst_fd, "real/dir", true);
	ck_assert_int_ge(fd, 0);
	close(fd);
	ck_assert_int_eq(access(p, F_OK), 0);

	in(dst, "link", p, sizeof(p));
	ck_assert_int_eq(symlink("/etc", p), 0);
	ck_assert_int_eq(persist_open_dir(dst_fd, "link/x", true), -ELOOP);
	ck_assert_int_eq(persist_open_dir(dst_fd, "../escape", true), -EINVAL);
	put(dst, "file", "x", 0644);
	ck_assert_int_eq(persist_open_dir(dst_fd, "file/sub", true), -ENOTDIR);
}
END_TEST

/* A power cut leaves a temporary; the next seeding removes it and makes the real entry whole. */
START_TEST(test_stale_temporary_is_replaced)
{
	char p[512];
	struct seed_stats st = { 0 };

	put(src, "machine-id", "0123456789abcdef0123456789abcdef\n", 0444);
	put(dst, ".#edgeinit.machine-id", "01234", 0600); /* half-written */
	ck_assert_int_eq(seed_entry(src_fd, "machine-id", dst_fd, "machine-id", &st), 0);
	assert_content(dst, "machine-id", "0123456789abcdef0123456789abcdef\n");
	in(dst, ".#edgeinit.machine-id", p, sizeof(p));
	ck_assert_int_eq(access(p, F_OK), -1);
}
END_TEST

START_TEST(test_copy_metadata_for_overlay_upper)
{
	char p[512], q[512], buf[64];
	struct stat b;
	int s, d;

	in(src, "var", p, sizeof(p));
	in(dst, "upper", q, sizeof(q));
	ck_assert_int_eq(mkdir(p, 01777), 0);
	ck_assert_int_eq(chmod(p, 01777), 0);
	ck_assert_int_eq(chown(p, 0, 12), 0);
	ck_assert_int_eq(setxattr(p, "security.selinux", "system_u:object_r:var_t:s0", 27, 0), 0);
	ck_assert_int_eq(mkdir(q, 0700), 0);
	s = open(p, O_RDONLY | O_DIRECTORY);
	d = open(q, O_RDONLY | O_DIRECTORY);
	ck_assert_int_eq(copy_metadata(s, d, false), 0);
	close(s);
	close(d);
	ck_assert_int_eq(stat(q, &b), 0);
	ck_assert_uint_eq(b.st_mode & 07777, 01777);
	ck_assert_uint_eq(b.st_gid, 12);
	ck_assert_int_eq(getxattr(q, "security.selinux", buf, sizeof(buf)), 27);
}
END_TEST

Suite *seed_suite(void)
{
	Suite *s = suite_create("seed");
	TCase *tc = tcase_create("seed");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_copies_tree_with_metadata);
	tcase_add_test(tc, test_copies_posix_acl);
	tcase_add_test(tc, test_keeps_existing_and_adds_new);
	tcase_add_test(tc, test_hard_links_stay_linked);
	tcase_add_test(tc, test_planted_symlink_is_not_followed);
	tcase_add_test(tc, test_persist_open_dir_refuses_symlinks);
	tcase_add_test(tc, test_stale_temporary_is_replaced);
	tcase_add_test(tc, test_copy_metadata_for_overlay_upper);
	suite_add_tcase(s, tc);
	return s;
}
