/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The boot context's own helpers: paths under the root. */
#include <check.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_sys.h"
#include "suites.h"

/* A path that does not fit is never truncated (a truncated path could name another file): the
 * buffer is emptied, which every call refuses, so the callers that ignore the result fail closed
 * too. */
START_TEST(ctx_path_too_long_is_empty_not_truncated)
{
	struct boot_context ctx;
	char buf[16];

	boot_context_init(&ctx, "/tmp/root", &sys_fake);
	ck_assert_int_eq(ctx_path(&ctx, "/etc", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "/tmp/root/etc");
	ck_assert_int_eq(ctx_path(&ctx, "/etc/ssh/keys", buf, sizeof(buf)), -E2BIG);
	ck_assert_str_eq(buf, "");
	ck_assert_int_eq(ctx_path(&ctx, "/etc/s", buf, sizeof(buf)), 0); /* exactly 15 + NUL */
	ck_assert_str_eq(buf, "/tmp/root/etc/s");
	boot_context_done(&ctx);
}
END_TEST

/* ---- the ctx_open family: resolved inside ctx->root_fd ---- */

static struct boot_context rctx;

static void in_root_setup(void)
{
	boot_context_init(&rctx, fake_setup("/tmp"), &sys_fake);
	ck_assert_int_ge(rctx.root_fd, 3);
	fake_write("/etc/passwd", "inside\n");
	fake_mkdir("/tmp");
	fake_mkdir("/elsewhere");
}

static void in_root_teardown(void)
{
	boot_context_done(&rctx);
	fake_teardown();
}

static void fake_symlink(const char *target, const char *rel)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s%s", fake.root, rel);
	ck_assert_int_eq(symlink(target, path), 0);
}

static bool fake_is_dir(const char *rel)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), "%s%s", fake.root, rel);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* An absolute link and one climbing out with ".." both land inside the fake root: the host's
 * /etc/passwd (which exists) is never what is read. */
START_TEST(ctx_read_file_follows_links_inside_the_root)
{
	char buf[64];

	fake_symlink("/etc", "/abs");
	fake_symlink("../../../../../../../../../etc", "/up");
	ck_assert_int_eq(ctx_read_file(&rctx, "/abs/passwd", buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "inside\n");
	ck_assert_int_eq(ctx_read_file(&rctx, "/up/passwd", buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "inside\n");
	ck_assert_int_eq(ctx_read_file(&rctx, "/../../../../etc/passwd", buf, sizeof(buf)), 7);
	ck_assert_str_eq(buf, "inside\n");
	/* read_small_file's contract: at most size-1 bytes, NUL-terminated. */
	ck_assert_int_eq(ctx_read_file(&rctx, "/etc/passwd", buf, 4), 3);
	ck_assert_str_eq(buf, "ins");
	ck_assert_int_eq(ctx_read_file(&rctx, "/etc/passwd", buf, 0), -EINVAL);
}
END_TEST

START_TEST(ctx_exists_does_not_see_the_host)
{
	fake_symlink("/bin/sh", "/sh");   /* there on the host, not in the root */
	ck_assert(access("/bin/sh", F_OK) == 0);
	ck_assert(!ctx_exists(&rctx, "/sh"));
	ck_assert(!ctx_exists(&rctx, "/bin/sh"));
	ck_assert(ctx_exists(&rctx, "/etc/passwd"));
	fake_symlink("/etc/passwd", "/pw");
	ck_assert(ctx_exists(&rctx, "/pw"));
}
END_TEST

/* A path too long is refused, never cut to a shorter one that names another file. */
START_TEST(ctx_open_too_long_fails_closed)
{
	static char path[PATH_MAX + 64];
	char buf[16];
	size_t n = 0;

	while (n + 2 < sizeof(path)) {
		path[n++] = '/';
		path[n++] = 'e';
	}
	path[n] = '\0';
	ck_assert_int_eq(ctx_read_file(&rctx, path, buf, sizeof(buf)), -ENAMETOOLONG);
	ck_assert_int_eq(ctx_mkdir(&rctx, path, 0755), -ENAMETOOLONG);
	ck_assert(!ctx_exists(&rctx, path));
	ck_assert_int_lt(ctx_write_new_file(&rctx, path, "x"), 0);
}
END_TEST

/* mkdir resolves the parent in the root and is happy with what is there already. */
START_TEST(ctx_mkdir_in_root_exist_ok)
{
	char name[64], host[PATH_MAX], p[128];

	snprintf(name, sizeof(name), "edgeinit-rootfd-%d", (int)getpid());
	snprintf(host, sizeof(host), "/tmp/%s", name);
	fake_symlink("../../../../../../../../../tmp", "/esc");
	/* The link's target exists (in the root): nothing to create. */
	ck_assert_int_eq(ctx_mkdir(&rctx, "/esc", 0755), 0);
	snprintf(p, sizeof(p), "/esc/%s", name);
	ck_assert_int_eq(ctx_mkdir(&rctx, p, 0755), 0);
	snprintf(p, sizeof(p), "/tmp/%s", name);
	ck_assert(fake_is_dir(p));
	ck_assert_int_ne(access(host, F_OK), 0);
	ck_assert_int_eq(ctx_mkdir(&rctx, "/etc", 0755), 0);
	ck_assert_int_eq(ctx_mkdir(&rctx, "/etc/passwd", 0755), -ENOTDIR);
	ck_assert_int_eq(ctx_mkdir(&rctx, "/nowhere/sub", 0755), -ENOENT);
	ck_assert_int_eq(ctx_mkdir(&rctx, "/etc/..", 0755), -EINVAL);
	ck_assert_int_eq(ctx_mkdir(&rctx, "/run/", 0755), -EINVAL);
	ck_assert_int_eq(ctx_mkdir(&rctx, "/run", 0700), 0);
	ck_assert(fake_is_dir("/run"));
}
END_TEST

/* A file written through an absolute link to a directory lands in the root; the last component
 * of a created file is never followed. */
START_TEST(ctx_write_and_create_stay_in_root)
{
	char buf[16];
	int fd;

	fake_symlink("/elsewhere", "/run");
	ck_assert_int_eq(ctx_write_new_file(&rctx, "/run/boot.json", "{}\n"), 0);
	ck_assert_int_eq(ctx_read_file(&rctx, "/elsewhere/boot.json", buf, sizeof(buf)), 3);
	ck_assert_str_eq(buf, "{}\n");
	ck_assert(!ctx_exists(&rctx, "/elsewhere/boot.json.tmp"));

	/* (A target that exists nowhere on the host: a create that followed it could not write
	 * there.) */
	fake_write("/elsewhere/log-target", "");
	fake_symlink("/elsewhere/log-target", "/log");
	ck_assert_int_eq(ctx_create(&rctx, "/log", O_WRONLY | O_APPEND, 0600), -ELOOP);
	fd = ctx_create(&rctx, "/run/measure.log", O_WRONLY | O_APPEND, 0600);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, "x", 1), 1);
	close(fd);
	ck_assert_int_eq(ctx_read_file(&rctx, "/elsewhere/measure.log", buf, sizeof(buf)), 1);

	ck_assert_int_eq(ctx_write_file(&rctx, "/etc/passwd", "over"), 0);
	ck_assert_int_eq(ctx_read_file(&rctx, "/abs-missing", buf, sizeof(buf)), -ENOENT);
	ck_assert_int_eq(ctx_write_file(&rctx, "/new", "x"), -ENOENT); /* an existing file only */
}
END_TEST

START_TEST(ctx_opendir_lists_the_root_s_directory)
{
	struct dirent *e;
	bool marker = false, host = false;
	DIR *d;

	fake_write("/elsewhere/marker", "");
	fake_symlink("/elsewhere", "/sys");
	d = ctx_opendir(&rctx, "/sys");
	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d))) {
		marker |= strcmp(e->d_name, "marker") == 0;
		host |= strcmp(e->d_name, "bus") == 0 || strcmp(e->d_name, "class") == 0;
	}
	closedir(d);
	ck_assert(marker);
	ck_assert(!host);
	errno = 0;
	ck_assert_ptr_null(ctx_opendir(&rctx, "/etc/passwd"));
	ck_assert_int_eq(errno, ENOTDIR);
}
END_TEST

/* Until early-setup, fds 0-2 may be closed: the root's fd must not take one of them. */
START_TEST(root_fd_is_above_the_standard_fds)
{
	struct boot_context c;

	close(0);
	boot_context_init(&c, fake.root, &sys_fake);
	ck_assert_int_ge(c.root_fd, 3);
	ck_assert_int_lt(fcntl(0, F_GETFD), 0);
	ck_assert(fcntl(c.root_fd, F_GETFD) & FD_CLOEXEC);
	boot_context_done(&c);
	ck_assert_int_eq(c.root_fd, -EBADF);
}
END_TEST

/* After switch-root's chroot the context resolves in the new root, and if that cannot be opened
 * nothing resolves: never the old root. */
START_TEST(ctx_root_reopen_moves_to_the_new_root)
{
	char newroot[PATH_MAX], buf[32];
	const char *old = rctx.root;

	fake_write("/sysroot/etc/passwd", "new root\n");
	snprintf(newroot, sizeof(newroot), "%s/sysroot", fake.root);
	rctx.root = newroot;
	ck_assert_int_eq(ctx_root_reopen(&rctx), 0);
	ck_assert_int_ge(rctx.root_fd, 3);
	ck_assert_int_eq(ctx_read_file(&rctx, "/etc/passwd", buf, sizeof(buf)), 9);
	ck_assert_str_eq(buf, "new root\n");

	snprintf(newroot, sizeof(newroot), "%s/gone", fake.root);
	ck_assert_int_eq(ctx_root_reopen(&rctx), -ENOENT);
	ck_assert_int_eq(ctx_read_file(&rctx, "/etc/passwd", buf, sizeof(buf)), -ENOENT);
	ck_assert(!ctx_exists(&rctx, "/"));
	rctx.root = old;
}
END_TEST

Suite *context_suite(void)
{
	Suite *s = suite_create("context");
	TCase *tc = tcase_create("paths");

	tcase_add_test(tc, ctx_path_too_long_is_empty_not_truncated);
	suite_add_tcase(s, tc);

	tc = tcase_create("in-root");
	tcase_add_checked_fixture(tc, in_root_setup, in_root_teardown);
	tcase_add_test(tc, ctx_read_file_follows_links_inside_the_root);
	tcase_add_test(tc, ctx_exists_does_not_see_the_host);
	tcase_add_test(tc, ctx_open_too_long_fails_closed);
	tcase_add_test(tc, ctx_mkdir_in_root_exist_ok);
	tcase_add_test(tc, ctx_write_and_create_stay_in_root);
	tcase_add_test(tc, ctx_opendir_lists_the_root_s_directory);
	tcase_add_test(tc, root_fd_is_above_the_standard_fds);
	tcase_add_test(tc, ctx_root_reopen_moves_to_the_new_root);
	suite_add_tcase(s, tc);
	return s;
}
