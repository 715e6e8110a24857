/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* File operations on the persistent partition by descriptor, for seeding (seed.c) and the
 * layout stage: open beneath a directory without following symlinks, copy metadata and xattrs,
 * and the space a seed will take. The partition is untrusted: nothing here follows a link or
 * leaves the directory it was given. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/macro.h"
#include "edgeinit/seed.h"
#include "seed_fs.h"

#define XATTR_LIST_MAX_BYTES 65536
#define XATTR_VALUE_MAX_BYTES 65536

int persist_open_dir(int base_fd, const char *relpath, bool create)
{
	char buf[4096], *save = NULL, *comp;
	_cleanup_close_ int fd = -EBADF;

	if (strlen(relpath) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, relpath);
	fd = fcntl(base_fd, F_DUPFD_CLOEXEC, 3);
	if (fd < 0)
		return negative_errno();
	for (comp = strtok_r(buf, "/", &save); comp; comp = strtok_r(NULL, "/", &save)) {
		int next;

		if (streq(comp, ".") || streq(comp, ".."))
			return -EINVAL;
		if (create && mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
			return negative_errno();
		next = openat_beneath(fd, comp, O_RDONLY | O_DIRECTORY, 0);
		if (next == -ENOTDIR) {
			struct stat st;

			/* Say what is in the way: a planted symlink is the interesting case. */
			if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
				next = -ELOOP;
		}
		if (next < 0)
			return next;
		closep(&fd);
		fd = next;
	}
	return TAKE_FD(fd);
}

/* xattrs by path for entries that cannot be opened (symlinks, device nodes we must not open). */
int seed_xattr_path(int dir_fd, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "/proc/self/fd/%d/%s", dir_fd, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Copy every xattr from src to dst. Either fds (src_fd/dst_fd >= 0) or /proc paths (l*xattr,
 * which act on a symlink itself). */
int seed_copy_xattrs(int src_fd, const char *src_path, int dst_fd, const char *dst_path)
{
	_cleanup_free_ char *names = malloc(XATTR_LIST_MAX_BYTES);
	_cleanup_free_ char *value = malloc(XATTR_VALUE_MAX_BYTES);
	ssize_t len;

	if (!names || !value)
		return -ENOMEM;
	len = src_fd >= 0 ? flistxattr(src_fd, names, XATTR_LIST_MAX_BYTES)
			  : llistxattr(src_path, names, XATTR_LIST_MAX_BYTES);
	if (len < 0)
		return errno == ENOTSUP ? 0 : negative_errno();
	for (char *n = names; n < names + len; n += strlen(n) + 1) {
		ssize_t v = src_fd >= 0 ? fgetxattr(src_fd, n, value, XATTR_VALUE_MAX_BYTES)
					: lgetxattr(src_path, n, value, XATTR_VALUE_MAX_BYTES);
		int r;

		if (v < 0)
			return negative_errno();
		r = dst_fd >= 0 ? fsetxattr(dst_fd, n, value, (size_t)v, 0)
				: lsetxattr(dst_path, n, value, (size_t)v, 0);
		if (r < 0)
			return negative_errno();
	}
	return 0;
}

int copy_metadata(int src_fd, int dst_fd, bool times)
{
	struct stat st;

	if (fstat(src_fd, &st) < 0)
		return negative_errno();
	if (fchown(dst_fd, st.st_uid, st.st_gid) < 0)
		return negative_errno();
	/* After chown, which clears setuid/setgid bits. */
	if (fchmod(dst_fd, st.st_mode & 07777) < 0)
		return negative_errno();
	int r = seed_copy_xattrs(src_fd, NULL, dst_fd, NULL);
	if (r < 0)
		return r;
	if (times) {
		struct timespec ts[2] = { st.st_atim, st.st_mtim };

		if (futimens(dst_fd, ts) < 0)
			return negative_errno();
	}
	return 0;
}

/* A directory stream over a duplicate of fd, from the start: duplicates share the file offset,
 * so an earlier stream over the same directory would otherwise leave this one at its end. */
DIR *seed_dir_stream(int fd)
{
	int dup_fd = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = dup_fd >= 0 ? fdopendir(dup_fd) : NULL;

	if (!d) {
		closep(&dup_fd);
		return NULL;
	}
	rewinddir(d);
	return d;
}

/* Sum of what a copy of src_fd's tree takes: contents in whole blocks, a block per directory. */
static int space_needed(int src_fd, dev_t dev, unsigned long block, uint64_t *bytes, unsigned depth)
{
	DIR *d = seed_dir_stream(src_fd);
	struct dirent *e;
	int r = 0;

	if (!d)
		return negative_errno();
	*bytes += block;
	while (r >= 0 && (e = readdir(d))) {
		struct stat st;

		if (streq(e->d_name, ".") || streq(e->d_name, "..") ||
		    fstatat(src_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISREG(st.st_mode))
			*bytes += ((uint64_t)st.st_size + block - 1) / block * block;
		else if (S_ISDIR(st.st_mode) && st.st_dev == dev && depth < REMOVE_DEPTH_MAX) {
			_cleanup_close_ int sub = openat(src_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			r = sub < 0 ? negative_errno() : space_needed(sub, dev, block, bytes, depth + 1);
		}
	}
	closedir(d);
	return r;
}

int seed_space(int src_dir_fd, const char *src_name, int dst_fs_fd, uint64_t *needed, uint64_t *free_bytes)
{
	_cleanup_close_ int src = -EBADF;
	struct statvfs v;
	struct stat st;
	unsigned long block;

	if (fstatvfs(dst_fs_fd, &v) < 0 || fstatat(src_dir_fd, src_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return negative_errno();
	block = v.f_frsize ? v.f_frsize : 4096;
	/* Root may use the reserved blocks too. */
	*free_bytes = (uint64_t)v.f_bfree * block;
	*needed = 0;
	if (!S_ISDIR(st.st_mode)) {
		/* A file's copy lives in a directory of its own (<mangled>.bind). */
		*needed = block + (S_ISREG(st.st_mode) ? ((uint64_t)st.st_size + block - 1) / block * block : 0);
		return 0;
	}
	src = openat(src_dir_fd, src_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return negative_errno();
	return space_needed(src, st.st_dev, block, needed, 0);
}
