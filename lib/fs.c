/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/macro.h"

int is_mount_point(const char *path)
{
	struct stat st, parent;
	char up[4096];
	int n;

	/* A different device than the parent, or being its own parent ("/"), means a mount root.
	 * A bind mount within one file system is missed; an initramfs never has those. */
	n = snprintf(up, sizeof(up), "%s/..", path);
	if (n < 0 || (size_t)n >= sizeof(up))
		return -ENAMETOOLONG;
	if (lstat(path, &st) < 0 || stat(up, &parent) < 0)
		return negative_errno();
	return st.st_dev != parent.st_dev || st.st_ino == parent.st_ino;
}

int read_small_file(const char *path, char *buf, size_t size)
{
	_cleanup_close_ int fd = -EBADF;

	if (size == 0)
		return -EINVAL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	return read_small_fd(fd, buf, size);
}

int read_small_fd(int fd, char *buf, size_t size)
{
	size_t len = 0;

	if (size == 0)
		return -EINVAL;
	while (len < size - 1) {
		ssize_t n = read(fd, buf + len, size - 1 - len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return negative_errno();
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	return (int)len;
}

int write_small_file(const char *path, const char *content)
{
	_cleanup_close_ int fd = -EBADF;

	fd = open(path, O_WRONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return negative_errno();
	return write_small_fd(fd, content);
}

int write_small_fd(int fd, const char *content)
{
	size_t len = strlen(content);
	ssize_t n = write(fd, content, len);

	if (n < 0)
		return negative_errno();
	return (size_t)n == len ? 0 : -EIO;
}

int mkdir_exist_ok(const char *path, mode_t mode)
{
	struct stat st;

	if (mkdir(path, mode) == 0)
		return 0;
	if (errno != EEXIST)
		return negative_errno();
	if (stat(path, &st) < 0)
		return negative_errno();
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int write_new_file(const char *path, const char *content)
{
	return write_new_file_at(AT_FDCWD, path, content);
}

int write_new_file_at(int dir_fd, const char *name, const char *content)
{
	_cleanup_close_ int fd = -EBADF;
	char tmp[4096];
	size_t len = strlen(content);
	int n;

	n = snprintf(tmp, sizeof(tmp), "%s.tmp", name);
	if (n < 0 || (size_t)n >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = openat(dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return negative_errno();
	if (write(fd, content, len) != (ssize_t)len) {
		unlinkat(dir_fd, tmp, 0);
		return -EIO;
	}
	if (renameat(dir_fd, tmp, dir_fd, name) < 0) {
		int r = negative_errno();

		unlinkat(dir_fd, tmp, 0);
		return r;
	}
	return 0;
}

static int openat2_fd(int dir_fd, const char *path, const struct open_how *how)
{
	int fd = -1;

	/* EAGAIN: a rename or mount raced the ".." checks of RESOLVE_BENEATH/IN_ROOT; the kernel
	 * asks for a retry. A few, so a busy tree cannot keep us here. */
	for (int attempt = 0; attempt < 3; attempt++) {
		fd = (int)syscall(SYS_openat2, dir_fd, path, how, sizeof(*how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
	return fd < 0 ? negative_errno() : fd;
}

int openat_beneath(int dir_fd, const char *name, int flags, unsigned long long resolve_extra)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS | resolve_extra,
	};

	return openat2_fd(dir_fd, name, &how);
}

int openat_in_root(int dir_fd, const char *path, int flags)
{
	/* Magic links (/proc/PID/fd/N, /proc/PID/root) point outside any root: refused, as
	 * RESOLVE_IN_ROOT does today implicitly. */
	struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC,
				.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };

	return openat2_fd(dir_fd, path, &how);
}
