/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seeding against temporary directories: what is copied, what is kept, what is refused. */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/macro.h"
#include "edgeinit/seed.h"
#include "suites.h"

/* tests/stages/test_persist.c: the layout and mounts stages on a plain or full partition. */
TCase *persist_tcase(void);

static char base[64], src[128], dst[128];
static int src_fd = -1, dst_fd = -1, base_fd = -1;

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
	base_fd = open(base, O_RDONLY | O_DIRECTORY);
	log_set_sink(sink);
	seed_inject_failure(0, 0);
}

static void teardown(void)
{
	char cmd[128];

	close(src_fd);
	close(dst_fd);
	close(base_fd);
	seed_inject_failure(0, 0);
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

	ck_assert_int_eq(seed_dir(src_fd, base_fd, "persist", &st), 0);
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
	ck_assert_int_eq(seed_dir(src_fd, base_fd, "persist", &st), 0);
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
	ck_assert_int_eq(seed_dir(src_fd, base_fd, "persist", &st), 0);
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

	ck_assert_int_eq(seed_dir(src_fd, base_fd, "persist", &st), 0);
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

/* A tree to seed: nested directories, files, a symlink, a hard link. */
/* The image's /etc/ssh under src; returns it opened as a directory. */
static int make_ssh_tree(void)
{
	char p[512], q[512];
	int fd;

	in(src, "ssh", p, sizeof(p));
	ck_assert_int_eq(mkdir(p, 0755), 0);
	in(src, "ssh/sshd_config.d", p, sizeof(p));
	ck_assert_int_eq(mkdir(p, 0755), 0);
	put(src, "ssh/sshd_config", "Port 22\n", 0644);
	put(src, "ssh/sshd_config.d/10-edge.conf", "PermitRootLogin no\n", 0644);
	put(src, "ssh/ssh_host_ed25519_key.pub", "ssh-ed25519 AAAA\n", 0644);
	in(src, "ssh/sshd_config", p, sizeof(p));
	in(src, "ssh/sshd_config.link", q, sizeof(q));
	ck_assert_int_eq(link(p, q), 0);
	in(src, "ssh/moduli", p, sizeof(p));
	ck_assert_int_eq(symlink("/usr/share/moduli", p), 0);
	in(src, "ssh", p, sizeof(p));
	fd = open(p, O_RDONLY | O_DIRECTORY);
	ck_assert_int_ge(fd, 0);
	return fd;
}

static int entries_in(const char *dir)
{
	char cmd[600], out[32] = "";
	FILE *f;

	snprintf(cmd, sizeof(cmd), "find '%s' -mindepth 1 | wc -l", dir);
	f = popen(cmd, "r");
	ck_assert_ptr_nonnull(f);
	ck_assert_ptr_nonnull(fgets(out, sizeof(out), f));
	pclose(f);
	return atoi(out);
}

/* A disk that fills up at any point of a first seeding: either the whole copy or nothing, never
 * a partial directory (an empty /etc/ssh bound would lock everyone out), no temporary left. */
START_TEST(test_new_copy_is_all_or_nothing_at_every_failure_point)
{
	_cleanup_close_ int ssh = -EBADF;
	unsigned n;
	int r = -1;

	ssh = make_ssh_tree();
	for (n = 1; n < 100; n++) {
		struct seed_stats st = { 0 };

		seed_inject_failure(n, -ENOSPC);
		r = seed_dir(ssh, dst_fd, "etc-ssh.bind", &st);
		if (r == 0)
			break;
		ck_assert_int_eq(r, -ENOSPC);
		ck_assert_msg(entries_in(dst) == 0, "failure at operation %u left %d entries", n, entries_in(dst));
		ck_assert_uint_eq(st.created, 0);
	}
	ck_assert_int_eq(r, 0);
	ck_assert_uint_ge(n, 8); /* every entry was a failure point */
	assert_content(dst, "etc-ssh.bind/sshd_config.d/10-edge.conf", "PermitRootLogin no\n");
	assert_content(dst, "etc-ssh.bind/sshd_config", "Port 22\n");
	ck_assert_int_eq(entries_in(dst), 7);
}
END_TEST

/* An empty persistent copy (an earlier boot's seeding failed) is replaced by a complete one; if
 * that fails too, it stays as it was. */
START_TEST(test_empty_copy_is_replaced_whole)
{
	_cleanup_close_ int ssh = -EBADF;
	struct seed_stats st = { 0 };
	char p[512];

	ssh = make_ssh_tree();
	in(dst, "etc-ssh.bind", p, sizeof(p));
	ck_assert_int_eq(mkdir(p, 0755), 0);
	seed_inject_failure(3, -ENOSPC);
	ck_assert_int_eq(seed_dir(ssh, dst_fd, "etc-ssh.bind", &st), -ENOSPC);
	ck_assert_int_eq(entries_in(dst), 1); /* the empty directory, nothing else */
	seed_inject_failure(0, 0);
	ck_assert_int_eq(seed_dir(ssh, dst_fd, "etc-ssh.bind", &st), 0);
	assert_content(dst, "etc-ssh.bind/sshd_config", "Port 22\n");
	ck_assert_int_eq(entries_in(dst), 7);
}
END_TEST

/* An existing copy with the device's data: a new directory of an updated image that does not
 * fit is left out whole, the device's files stay, the copy is still usable (0, failed = 1). */
START_TEST(test_existing_copy_keeps_device_data_when_an_addition_fails)
{
	struct seed_stats st = { 0 };
	char p[512];

	put(src, "a.conf", "image\n", 0644);
	in(src, "new.d", p, sizeof(p));
	ck_assert_int_eq(mkdir(p, 0755), 0);
	put(src, "new.d/one", "1\n", 0644);
	put(src, "new.d/two", "2\n", 0644);
	put(src, "new.conf", "new\n", 0644);
	put(dst, "a.conf", "device\n", 0600);
	put(dst, "device-only", "mine\n", 0600);
	/* Operations in readdir order; fail the 2nd file of new.d whatever the order is: try until
	 * exactly one entry failed. */
	for (unsigned n = 1; n < 10; n++) {
		struct seed_stats t = { 0 };
		char cmd[600];

		seed_inject_failure(n, -ENOSPC);
		ck_assert_int_eq(seed_dir(src_fd, base_fd, "persist", &t), 0);
		assert_content(dst, "a.conf", "device\n");
		assert_content(dst, "device-only", "mine\n");
		in(dst, "new.d", p, sizeof(p));
		if (t.failed && access(p, F_OK) != 0) {
			st = t;
			break;
		}
		/* Not the case under test: undo what was added and try the next failure point. */
		snprintf(cmd, sizeof(cmd), "rm -rf '%s/new.d' '%s/new.conf'", dst, dst);
		ck_assert_int_eq(system(cmd), 0);
	}
	ck_assert_uint_eq(st.failed, 1);
	in(dst, ".#edgeinit.new.d", p, sizeof(p));
	ck_assert_int_eq(access(p, F_OK), -1);
	/* The next boot adds it. */
	seed_inject_failure(0, 0);
	memset(&st, 0, sizeof(st));
	ck_assert_int_eq(seed_dir(src_fd, base_fd, "persist", &st), 0);
	ck_assert_uint_eq(st.failed, 0);
	assert_content(dst, "new.d/two", "2\n");
	assert_content(dst, "a.conf", "device\n");
}
END_TEST

/* A power cut during a first seeding leaves a temporary tree: removed, then a whole copy. */
START_TEST(test_stale_temporary_tree_is_removed)
{
	_cleanup_close_ int ssh = -EBADF;
	struct seed_stats st = { 0 };
	char p[512];

	ssh = make_ssh_tree();
	in(dst, ".#edgeinit.etc-ssh.bind", p, sizeof(p));
	ck_assert_int_eq(mkdir(p, 0700), 0);
	in(dst, ".#edgeinit.etc-ssh.bind/sshd_config.d", p, sizeof(p));
	ck_assert_int_eq(mkdir(p, 0700), 0);
	put(dst, ".#edgeinit.etc-ssh.bind/sshd_config.d/10-edge.conf", "Permit", 0600);
	in(dst, ".#edgeinit.etc-ssh.bind/escape", p, sizeof(p));
	ck_assert_int_eq(symlink(src, p), 0); /* removed as a link, never followed */
	ck_assert_int_eq(seed_dir(ssh, dst_fd, "etc-ssh.bind", &st), 0);
	ck_assert_int_eq(entries_in(dst), 7);
	assert_content(dst, "etc-ssh.bind/sshd_config.d/10-edge.conf", "PermitRootLogin no\n");
	assert_content(src, "ssh/sshd_config", "Port 22\n");
}
END_TEST

/* A power cut at any point of a seeding (edgeinit.debug.hold=seed:<n> is where the boot tests cut
 * a real machine): the seeding process dies there, leaving its temporaries on the disk. The next
 * seeding removes them, says so, and completes the copy: first a new copy, then an existing copy
 * an updated image adds a directory to. */
static char cut_log[4096];

static void cut_here(void *arg)
{
	(void)arg;
	_exit(42);
}

static void capture(int level, const char *line)
{
	(void)level;
	strncat(cut_log, line, sizeof(cut_log) - strlen(cut_log) - 2);
	strcat(cut_log, "\n");
}

/* Seed ssh into etc-ssh.bind in a child that dies before operation n; true if it died there. */
static bool seed_cut_at(int ssh, unsigned n)
{
	int status;
	pid_t pid = fork();

	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		struct seed_stats st = { 0 };

		seed_inject_hold(n, cut_here, NULL);
		_exit(seed_dir(ssh, dst_fd, "etc-ssh.bind", &st) == 0 ? 0 : 1);
	}
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert(WIFEXITED(status));
	ck_assert_msg(WEXITSTATUS(status) != 1, "the seeding failed without a cut (n %u)", n);
	return WEXITSTATUS(status) == 42;
}

START_TEST(test_power_cut_at_every_seeding_operation_is_completed_on_the_next_boot)
{
	_cleanup_close_ int ssh = -EBADF;
	char p[512], cmd[600];
	unsigned n, cuts = 0;

	ssh = make_ssh_tree();
	for (int update = 0; update <= 1; update++) {
		if (update) { /* the image gains a directory; the device's copy exists */
			in(src, "ssh/new.d", p, sizeof(p));
			ck_assert_int_eq(mkdir(p, 0755), 0);
			put(src, "ssh/new.d/a.conf", "new a\n", 0644);
			put(src, "ssh/new.d/b.conf", "new b\n", 0644);
			in(dst, "etc-ssh.bind/sshd_config", p, sizeof(p));
			ck_assert_int_eq(unlink(p), 0);
			put(dst, "etc-ssh.bind/sshd_config", "Port 2222 (the device's)\n", 0644);
		}
		for (n = 1; n < 100; n++) {
			struct seed_stats st = { 0 };

			/* Back to no copy, or to the device's copy before the update. */
			snprintf(cmd, sizeof(cmd), "rm -rf '%s/etc-ssh.bind%s'", dst, update ? "/new.d" : "");
			ck_assert_int_eq(system(cmd), 0);
			if (!seed_cut_at(ssh, n))
				break;
			cuts++;
			/* The next boot. */
			cut_log[0] = '\0';
			log_set_sink(capture);
			ck_assert_int_eq(seed_dir(ssh, dst_fd, "etc-ssh.bind", &st), 0);
			log_set_sink(sink);
			ck_assert_int_eq(entries_in(dst), update ? 10 : 7);
			assert_content(dst, "etc-ssh.bind/sshd_config.d/10-edge.conf", "PermitRootLogin no\n");
			assert_content(dst, "etc-ssh.bind/sshd_config", update ? "Port 2222 (the device's)\n" : "Port 22\n");
			if (update)
				assert_content(dst, "etc-ssh.bind/new.d/b.conf", "new b\n");
			/* The cut after the rename (the last operation) leaves no temporary. */
			ck_assert_msg(strstr(cut_log, "Removing '.#edgeinit.") || n == 1,
				      "cut at %u (update %d): no removal logged: %s", n, update, cut_log);
		}
		ck_assert_uint_ge(n, update ? 3 : 8); /* every operation was a cut point */
	}
	ck_assert_uint_ge(cuts, 10);
}
END_TEST

/* A temporary planted on /opt with a name made to forge console lines: removed, and logged with
 * its control characters replaced. */
START_TEST(test_hostile_temporary_name_is_logged_without_control_characters)
{
	_cleanup_close_ int ssh = -EBADF;
	struct seed_stats st = { 0 };
	char p[512];

	ssh = make_ssh_tree();
	ck_assert_int_eq(seed_dir(ssh, dst_fd, "etc-ssh.bind", &st), 0);
	in(dst, "etc-ssh.bind/.#edgeinit.x\nedgeinit: Unlocked by the TPM\x1b[2J", p, sizeof(p));
	ck_assert_int_eq(mkdir(p, 0700), 0);
	cut_log[0] = '\0';
	log_set_sink(capture);
	ck_assert_int_eq(seed_dir(ssh, dst_fd, "etc-ssh.bind", &st), 0);
	log_set_sink(sink);
	ck_assert_msg(strstr(cut_log, "Removing '.#edgeinit.x?edgeinit: Unlocked by the TPM?[2J', a partial copy") != NULL,
		      "log: %s", cut_log);
	ck_assert_int_eq(access(p, F_OK), -1);
}
END_TEST

START_TEST(test_file_copy_is_all_or_nothing)
{
	struct seed_stats st = { 0 };

	put(src, "machine-id", "0123456789abcdef0123456789abcdef\n", 0444);
	for (unsigned n = 1; n <= 2; n++) {
		seed_inject_failure(n, -ENOSPC);
		ck_assert_int_eq(seed_entry(src_fd, "machine-id", dst_fd, "machine-id", &st), -ENOSPC);
		ck_assert_int_eq(entries_in(dst), 0);
	}
	seed_inject_failure(0, 0);
	ck_assert_int_eq(seed_entry(src_fd, "machine-id", dst_fd, "machine-id", &st), 0);
	assert_content(dst, "machine-id", "0123456789abcdef0123456789abcdef\n");
}
END_TEST

START_TEST(test_space_needed_counts_blocks)
{
	uint64_t need = 0, avail = 0;
	char big[10000];

	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	close(make_ssh_tree());
	put(src, "ssh/big", big, 0644);
	ck_assert_int_eq(seed_space(src_fd, "ssh", dst_fd, &need, &avail), 0);
	/* 2 directories, 4 small files (one twice: a hard link), 9999 bytes: at least 9 blocks of 1
	 * KiB, at most 2 + 4 + 3 blocks of 4 KiB. */
	ck_assert_uint_ge(need, 9 * 1024);
	ck_assert_uint_le(need, 9 * 4096 + 4096);
	ck_assert_uint_gt(avail, 0);
}
END_TEST

/* Privileged tier: a real full file system (an 80 KiB tmpfs in a private mount namespace). */
static int full_tmpfs_child(const char *mnt)
{
	char p[600], q[600], big[48 * 1024], filler[64 * 1024];
	struct seed_stats st = { 0 };
	uint64_t need, avail;
	int fd, mfd, r;

	if (unshare(CLONE_NEWNS) < 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return 10;
	if (mount("tmpfs", mnt, "tmpfs", 0, "size=80k,mode=0755") < 0)
		return 11;
	memset(big, 'y', sizeof(big));
	memset(filler, 'z', sizeof(filler));
	snprintf(p, sizeof(p), "%s/filler", mnt);
	fd = open(p, O_WRONLY | O_CREAT, 0600);
	if (fd < 0 || write(fd, filler, sizeof(filler)) != (ssize_t)sizeof(filler))
		return 12;
	close(fd);
	snprintf(q, sizeof(q), "%s/ssh/big", src);
	fd = open(q, O_WRONLY | O_CREAT, 0644);
	if (fd < 0 || write(fd, big, sizeof(big)) != (ssize_t)sizeof(big))
		return 13;
	close(fd);
	mfd = open(mnt, O_RDONLY | O_DIRECTORY);
	if (mfd < 0)
		return 14;
	r = seed_dir(src_fd, mfd, "etc-ssh.bind", &st);
	if (r != -ENOSPC)
		return 20;
	snprintf(p, sizeof(p), "%s/etc-ssh.bind", mnt);
	snprintf(q, sizeof(q), "%s/.#edgeinit.etc-ssh.bind", mnt);
	if (access(p, F_OK) == 0 || access(q, F_OK) == 0)
		return 21;
	if (seed_space(src_fd, ".", mfd, &need, &avail) < 0 || need <= avail)
		return 22;
	/* Room made: the next boot seeds it. */
	snprintf(p, sizeof(p), "%s/filler", mnt);
	if (unlink(p) < 0 || seed_dir(src_fd, mfd, "etc-ssh.bind", &st) != 0)
		return 23;
	snprintf(p, sizeof(p), "%s/etc-ssh.bind/ssh/sshd_config", mnt);
	return access(p, F_OK) == 0 ? 0 : 24;
}

START_TEST(test_real_full_filesystem)
{
	char mnt[200];
	int status;
	pid_t pid;

	if (geteuid() != 0) {
		fprintf(stderr, "SKIP test_real_full_filesystem: needs root (privileged tier)\n");
		return;
	}
	close(make_ssh_tree());
	snprintf(mnt, sizeof(mnt), "%s/mnt", base);
	ck_assert_int_eq(mkdir(mnt, 0755), 0);
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0)
		_exit(full_tmpfs_child(mnt));
	ck_assert_int_eq(waitpid(pid, &status, 0), pid);
	ck_assert_msg(WIFEXITED(status) && WEXITSTATUS(status) == 0,
		      "full tmpfs child failed with status %d (see test source for codes)",
		      WIFEXITED(status) ? WEXITSTATUS(status) : -1);
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
	tcase_add_test(tc, test_new_copy_is_all_or_nothing_at_every_failure_point);
	tcase_add_test(tc, test_empty_copy_is_replaced_whole);
	tcase_add_test(tc, test_existing_copy_keeps_device_data_when_an_addition_fails);
	tcase_add_test(tc, test_stale_temporary_tree_is_removed);
	tcase_add_test(tc, test_file_copy_is_all_or_nothing);
	tcase_add_test(tc, test_power_cut_at_every_seeding_operation_is_completed_on_the_next_boot);
	tcase_add_test(tc, test_hostile_temporary_name_is_logged_without_control_characters);
	tcase_add_test(tc, test_space_needed_counts_blocks);
	tcase_add_test(tc, test_real_full_filesystem);
	suite_add_tcase(s, tc);
	suite_add_tcase(s, persist_tcase());
	return s;
}
