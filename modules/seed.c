/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seeding, power-safe: every new entry is built under a temporary name in its final directory,
 * given its owner, mode, xattrs and times, fsynced, and only then renamed into place with
 * RENAME_NOREPLACE. A power cut leaves either no entry or the complete one (plus a temporary
 * that the next seeding removes). Directories are renamed into place empty and then filled;
 * whatever a cut leaves missing inside is copied on the next boot, since seeding runs on every
 * boot. Existing entries are never overwritten: files the device changed win. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/macro.h"
#include "edgeinit/seed.h"

#define XATTR_LIST_MAX_BYTES 65536
#define XATTR_VALUE_MAX_BYTES 65536
#define HARDLINKS_MAX 1024

static int openat_beneath(int dir_fd, const char *name, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC | O_NOFOLLOW,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dir_fd, name, &how, sizeof(how));

	return fd < 0 ? negative_errno() : fd;
}

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
		next = openat_beneath(fd, comp, O_RDONLY | O_DIRECTORY);
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
static int xattr_path(int dir_fd, const char *name, char *buf, size_t size)
{
	int n = snprintf(buf, size, "/proc/self/fd/%d/%s", dir_fd, name);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* Copy every xattr from src to dst. Either fds (src_fd/dst_fd >= 0) or /proc paths (l*xattr,
 * which act on a symlink itself). */
static int copy_xattrs(int src_fd, const char *src_path, int dst_fd, const char *dst_path)
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
	int r = copy_xattrs(src_fd, NULL, dst_fd, NULL);
	if (r < 0)
		return r;
	if (times) {
		struct timespec ts[2] = { st.st_atim, st.st_mtim };

		if (futimens(dst_fd, ts) < 0)
			return negative_errno();
	}
	return 0;
}

/* Source inode -> the path (relative to the seeding's destination root) it was copied to. */
struct hardlink {
	dev_t dev;
	ino_t ino;
	char *path;
};

struct seeding {
	struct seed_stats *st;
	int dst_root_fd;
	dev_t src_dev;
	struct hardlink links[HARDLINKS_MAX];
	unsigned n_links;
};

static void seeding_done(struct seeding *s)
{
	for (unsigned i = 0; i < s->n_links; i++)
		free(s->links[i].path);
}

static void temp_name(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, SEED_TMP_PREFIX "%.200s", name);
}

/* Remove temporaries an interrupted seeding left in dir_fd. */
static void remove_stale_temps(int dir_fd)
{
	int fd = fcntl(dir_fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		closep(&fd);
		return;
	}
	while ((e = readdir(d)))
		if (strncmp(e->d_name, SEED_TMP_PREFIX, strlen(SEED_TMP_PREFIX)) == 0 &&
		    unlinkat(dir_fd, e->d_name, e->d_type == DT_DIR ? AT_REMOVEDIR : 0) < 0)
			log_warning_errno(negative_errno(), "Cannot remove stale '%s', ignoring: %m",
					  e->d_name);
	closedir(d);
}

static int copy_content(int in, int out, off_t size, uint64_t *bytes)
{
	off_t done = 0;

	while (done < size) {
		ssize_t n = sendfile(out, in, NULL, (size_t)(size - done));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return negative_errno();
		if (n == 0)
			break; /* the file shrank; what we have is what there is */
		done += n;
	}
	*bytes += (uint64_t)done;
	return 0;
}

/* Create the temporary entry tmp in dst_dir_fd as a copy of name in src_dir_fd (not a dir). */
static int create_temp_copy(struct seeding *s, int src_dir_fd, const char *name, const struct stat *st,
			    int dst_dir_fd, const char *tmp)
{
	char src_path[512], dst_path[512];
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	int r;

	if (S_ISREG(st->st_mode)) {
		_cleanup_close_ int in = -EBADF, out = -EBADF;

		in = openat(src_dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (in < 0)
			return negative_errno();
		out = openat(dst_dir_fd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0)
			return negative_errno();
		r = copy_content(in, out, st->st_size, &s->st->bytes);
		if (r < 0)
			return r;
		r = copy_metadata(in, out, true);
		if (r < 0)
			return r;
		return fsync(out) < 0 ? negative_errno() : 0;
	}

	if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(src_dir_fd, name, target, sizeof(target) - 1);

		if (n < 0)
			return negative_errno();
		target[n] = '\0';
		if (symlinkat(target, dst_dir_fd, tmp) < 0)
			return negative_errno();
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode) ||
		   S_ISSOCK(st->st_mode)) {
		if (mknodat(dst_dir_fd, tmp, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0)
			return negative_errno();
	} else
		return -EBADFD;

	/* Links and nodes are not opened: set their metadata by name, never following. */
	if (fchownat(dst_dir_fd, tmp, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return negative_errno();
	if (!S_ISLNK(st->st_mode) && fchmodat(dst_dir_fd, tmp, st->st_mode & 07777, 0) < 0)
		return negative_errno();
	if ((r = xattr_path(src_dir_fd, name, src_path, sizeof(src_path))) < 0 ||
	    (r = xattr_path(dst_dir_fd, tmp, dst_path, sizeof(dst_path))) < 0)
		return r;
	r = copy_xattrs(-1, src_path, -1, dst_path);
	if (r < 0)
		return r;
	return utimensat(dst_dir_fd, tmp, ts, AT_SYMLINK_NOFOLLOW) < 0 ? negative_errno() : 0;
}

static struct hardlink *hardlink_find(struct seeding *s, const struct stat *st)
{
	for (unsigned i = 0; i < s->n_links; i++)
		if (s->links[i].dev == st->st_dev && s->links[i].ino == st->st_ino)
			return &s->links[i];
	return NULL;
}

static int seed_dir_at(struct seeding *s, int src_fd, int dst_fd, const char *rel);

/* Copy one entry (any type) if dst lacks it. rel: its path relative to the destination root. */
static int seed_one(struct seeding *s, int src_dir_fd, const char *name, int dst_dir_fd,
		    const char *dst_name, const char *rel)
{
	char tmp[256];
	struct stat st, existing;
	bool created_dir = false;
	int r;

	if (fstatat(src_dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return negative_errno();
	/* Only a directory can be a mount point. (Files under an overlay report the device of the
	 * layer they come from, so their st_dev says nothing.) */
	if (S_ISDIR(st.st_mode) && s->src_dev && st.st_dev != s->src_dev) {
		log_warning("'%s' is another mount, not copying it.", rel);
		s->st->skipped++;
		return 0;
	}

	if (fstatat(dst_dir_fd, dst_name, &existing, AT_SYMLINK_NOFOLLOW) == 0) {
		if (!S_ISDIR(st.st_mode)) {
			s->st->kept++;
			return 0;
		}
		if (!S_ISDIR(existing.st_mode)) {
			log_warning("'%s' in the persistent copy is not a directory (%s), skipping it.", rel,
				    S_ISLNK(existing.st_mode) ? "a symlink" : "another type");
			s->st->skipped++;
			return 0;
		}
		s->st->kept++;
	} else if (errno != ENOENT) {
		return negative_errno();
	} else if (S_ISDIR(st.st_mode)) {
		_cleanup_close_ int src = -EBADF, dst = -EBADF;

		temp_name(dst_name, tmp, sizeof(tmp));
		if (mkdirat(dst_dir_fd, tmp, 0700) < 0)
			return negative_errno();
		src = openat(src_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		dst = openat(dst_dir_fd, tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (src < 0 || dst < 0) {
			r = negative_errno();
			goto fail_dir;
		}
		r = copy_metadata(src, dst, false);
		if (r < 0 || (r = fsync(dst) < 0 ? negative_errno() : 0) < 0)
			goto fail_dir;
		if (renameat2(dst_dir_fd, tmp, dst_dir_fd, dst_name, RENAME_NOREPLACE) < 0) {
			r = negative_errno();
			goto fail_dir;
		}
		s->st->created++;
		created_dir = true;
		goto recurse;
fail_dir:
		unlinkat(dst_dir_fd, tmp, AT_REMOVEDIR);
		return r;
	} else {
		struct hardlink *h = st.st_nlink > 1 ? hardlink_find(s, &st) : NULL;

		if (h) {
			if (linkat(s->dst_root_fd, h->path, dst_dir_fd, dst_name, 0) == 0) {
				s->st->hardlinked++;
				return 0;
			}
			/* The first copy is gone or elsewhere: fall back to a copy. */
		}
		temp_name(dst_name, tmp, sizeof(tmp));
		r = create_temp_copy(s, src_dir_fd, name, &st, dst_dir_fd, tmp);
		if (r == 0 && renameat2(dst_dir_fd, tmp, dst_dir_fd, dst_name, RENAME_NOREPLACE) < 0)
			r = negative_errno();
		if (r < 0) {
			unlinkat(dst_dir_fd, tmp, 0);
			return r;
		}
		s->st->created++;
		if (st.st_nlink > 1 && !h && s->n_links < HARDLINKS_MAX) {
			s->links[s->n_links] = (struct hardlink){ st.st_dev, st.st_ino, strdup(rel) };
			if (s->links[s->n_links].path)
				s->n_links++;
		}
		return 0;
	}

recurse:;
	/* Into the directory, never through a symlink in the persistent copy. */
	_cleanup_close_ int sub_src = openat(src_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	_cleanup_close_ int sub_dst = openat_beneath(dst_dir_fd, dst_name, O_RDONLY | O_DIRECTORY);
	if (sub_src < 0)
		return negative_errno();
	if (sub_dst < 0)
		return sub_dst;
	r = seed_dir_at(s, sub_src, sub_dst, rel);
	if (r < 0 || !created_dir)
		return r;
	/* Times last, since filling the directory changed them; only for directories we created. */
	struct timespec ts[2] = { st.st_atim, st.st_mtim };
	return futimens(sub_dst, ts) < 0 ? negative_errno() : 0;
}

static int seed_dir_at(struct seeding *s, int src_fd, int dst_fd, const char *rel)
{
	int fd = fcntl(src_fd, F_DUPFD_CLOEXEC, 3);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;
	unsigned created_before = s->st->created + s->st->hardlinked;
	int r = 0;

	if (!d) {
		closep(&fd);
		return negative_errno();
	}
	remove_stale_temps(dst_fd);
	while ((e = readdir(d))) {
		char child[4096];

		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		snprintf(child, sizeof(child), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
		r = seed_one(s, src_fd, e->d_name, dst_fd, e->d_name, child);
		if (r < 0) {
			log_warning_errno(r, "Cannot copy '%s' to the persistent copy, skipping it: %m", child);
			s->st->skipped++;
			r = 0;
		}
	}
	closedir(d);
	/* Make the renames in this directory durable; on most boots there are none. */
	if (s->st->created + s->st->hardlinked != created_before && fsync(dst_fd) < 0)
		return negative_errno();
	return r;
}

int seed_dir(int src_fd, int dst_fd, struct seed_stats *st)
{
	struct seeding s = { .st = st, .dst_root_fd = dst_fd };
	struct stat sst;
	int r;

	if (fstat(src_fd, &sst) < 0)
		return negative_errno();
	s.src_dev = sst.st_dev;
	r = seed_dir_at(&s, src_fd, dst_fd, "");
	seeding_done(&s);
	return r;
}

int seed_entry(int src_dir_fd, const char *src_name, int dst_dir_fd, const char *dst_name,
	       struct seed_stats *st)
{
	struct seeding s = { .st = st, .dst_root_fd = dst_dir_fd };
	unsigned created_before = st->created + st->hardlinked;
	int r;

	remove_stale_temps(dst_dir_fd);
	r = seed_one(&s, src_dir_fd, src_name, dst_dir_fd, dst_name, dst_name);
	if (r >= 0 && st->created + st->hardlinked != created_before && fsync(dst_dir_fd) < 0)
		r = negative_errno();
	seeding_done(&s);
	return r;
}
