/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seeding, all or nothing and power-safe. A persistent copy that does not exist yet (or is an
 * empty directory) is built complete under a temporary name next to it (.#edgeinit.<name>):
 * every entry with its owner, mode, xattrs and times; then the file system is flushed once
 * (syncfs: one journal commit, where an fsync per file and directory cost one each), the copy is
 * renamed into place in one step and the parent is fsynced. An error (a full partition) or a
 * power cut leaves no copy at all, only a temporary that is removed at once or on the next boot:
 * a bind path is bound complete or not at all, never half seeded (an empty /etc/ssh would lock
 * everyone out). A copy that exists is only completed: each entry it lacks (a file, or a whole
 * directory tree) is added the same way, one at a time. Existing entries are never overwritten
 * (files the device changed win) and nothing but our own temporaries is ever removed. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "edgeinit/fs.h"
#include "edgeinit/log.h"
#include "edgeinit/macro.h"
#include "edgeinit/seed.h"
#include "seed_fs.h"

#define HARDLINKS_MAX 1024

/* Tests: the nth creating operation (a directory, an entry, a file's content) fails with err. */
static unsigned inject_nth, inject_count;
static int inject_err;

void seed_inject_failure(unsigned nth, int err)
{
	inject_nth = nth;
	inject_err = err;
	inject_count = 0;
}

static unsigned hold_nth, hold_count;
static void (*hold_fn)(void *);
static void *hold_arg;

void seed_inject_hold(unsigned nth, void (*hold)(void *arg), void *arg)
{
	hold_nth = hold ? nth : 0;
	hold_fn = hold;
	hold_arg = arg;
	hold_count = 0;
}

static int injected(void)
{
	if (hold_nth && ++hold_count == hold_nth)
		hold_fn(hold_arg);
	return inject_nth && ++inject_count == inject_nth ? inject_err : 0;
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

static void links_truncate(struct seeding *s, unsigned n)
{
	while (s->n_links > n)
		free(s->links[--s->n_links].path);
}

static void temp_name(const char *name, char *buf, size_t size)
{
	snprintf(buf, size, SEED_TMP_PREFIX "%.200s", name);
}

/* "a/b/c" -> "a/b", "c" -> "". */
static void parent_of(const char *path, char *buf, size_t size)
{
	const char *slash = strrchr(path, '/');

	snprintf(buf, size, "%.*s", slash ? (int)(slash - path) : 0, path);
}

/* Paths below the copy's root, for hard links and messages; a path too long to hold is cut
 * (a hard link to it then becomes a copy). */
static void join(char *buf, size_t size, const char *dir, const char *name)
{
	int n = snprintf(buf, size, "%s%s%s", dir, dir[0] ? "/" : "", name);

	if (n < 0)
		buf[0] = '\0';
}

/* Remove name in dir_fd and, if it is a directory, everything below it, without following
 * symlinks or leaving the file system. Only ever called on our own temporaries. */
static int remove_tree(int dir_fd, const char *name, unsigned depth)
{
	_cleanup_close_ int fd = -EBADF;
	struct stat parent, st;
	struct dirent *e;
	DIR *d;
	int r = 0;

	fd = openat_beneath(dir_fd, name, O_RDONLY | O_DIRECTORY, 0);
	if (fd == -ENOENT)
		return 0;
	if (fd == -ENOTDIR || fd == -ELOOP)
		return unlinkat(dir_fd, name, 0) < 0 && errno != ENOENT ? negative_errno() : 0;
	if (fd < 0)
		return fd;
	if (depth >= REMOVE_DEPTH_MAX)
		return -ELOOP;
	if (fstat(dir_fd, &parent) < 0 || fstat(fd, &st) < 0)
		return negative_errno();
	if (st.st_dev != parent.st_dev)
		return -EXDEV;
	d = fdopendir(fd);
	if (!d)
		return negative_errno();
	fd = -EBADF; /* owned by d */
	while ((e = readdir(d))) {
		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		r = remove_tree(dirfd(d), e->d_name, depth + 1);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	return unlinkat(dir_fd, name, AT_REMOVEDIR) < 0 ? negative_errno() : 0;
}

/* Remove name, a temporary an interrupted seeding (a power cut) left in dir_fd, if it exists. */
static void remove_stale_temp(int dir_fd, const char *name)
{
	struct stat st;
	int r;

	if (fstatat(dir_fd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return;
	log_info("Removing '%s', a partial copy an interrupted seeding left; seeding it again.", name);
	r = remove_tree(dir_fd, name, 0);
	if (r < 0)
		log_warning_errno(r, "Cannot remove stale '%s', ignoring: %m", name);
}

/* Remove every temporary an interrupted seeding left in dir_fd. */
static void remove_stale_temps(int dir_fd)
{
	DIR *d = seed_dir_stream(dir_fd);
	struct dirent *e;

	if (!d)
		return;
	while ((e = readdir(d)))
		if (strncmp(e->d_name, SEED_TMP_PREFIX, strlen(SEED_TMP_PREFIX)) == 0)
			remove_stale_temp(dir_fd, e->d_name);
	closedir(d);
}

static int copy_content(int in, int out, off_t size, uint64_t *bytes)
{
	off_t done = 0;
	int r = injected();

	if (r < 0)
		return r;
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

/* Create dst (a new name in dst_dir_fd) as a copy of the non-directory name in src_dir_fd. */
static int create_entry(struct seeding *s, int src_dir_fd, const char *name, const struct stat *st,
			int dst_dir_fd, const char *dst)
{
	char src_path[512], dst_path[512];
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	int r = injected();

	if (r < 0)
		return r;
	if (S_ISREG(st->st_mode)) {
		_cleanup_close_ int in = -EBADF, out = -EBADF;

		in = openat(src_dir_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY);
		if (in < 0)
			return negative_errno();
		out = openat(dst_dir_fd, dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (out < 0)
			return negative_errno();
		r = copy_content(in, out, st->st_size, &s->st->bytes);
		if (r < 0)
			return r;
		/* Durable by the syncfs before the copy is renamed into place. */
		return copy_metadata(in, out, true);
	}

	if (S_ISLNK(st->st_mode)) {
		char target[4096];
		ssize_t n = readlinkat(src_dir_fd, name, target, sizeof(target) - 1);

		if (n < 0)
			return negative_errno();
		target[n] = '\0';
		if (symlinkat(target, dst_dir_fd, dst) < 0)
			return negative_errno();
	} else if (S_ISCHR(st->st_mode) || S_ISBLK(st->st_mode) || S_ISFIFO(st->st_mode) ||
		   S_ISSOCK(st->st_mode)) {
		if (mknodat(dst_dir_fd, dst, st->st_mode & (S_IFMT | 07777), st->st_rdev) < 0)
			return negative_errno();
	} else
		return -EBADFD;

	/* Links and nodes are not opened: set their metadata by name, never following. */
	if (fchownat(dst_dir_fd, dst, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0)
		return negative_errno();
	if (!S_ISLNK(st->st_mode) && fchmodat(dst_dir_fd, dst, st->st_mode & 07777, 0) < 0)
		return negative_errno();
	if ((r = seed_xattr_path(src_dir_fd, name, src_path, sizeof(src_path))) < 0 ||
	    (r = seed_xattr_path(dst_dir_fd, dst, dst_path, sizeof(dst_path))) < 0)
		return r;
	r = seed_copy_xattrs(-1, src_path, -1, dst_path);
	if (r < 0)
		return r;
	return utimensat(dst_dir_fd, dst, ts, AT_SYMLINK_NOFOLLOW) < 0 ? negative_errno() : 0;
}

static struct hardlink *hardlink_find(struct seeding *s, const struct stat *st)
{
	for (unsigned i = 0; i < s->n_links; i++)
		if (s->links[i].dev == st->st_dev && s->links[i].ino == st->st_ino)
			return &s->links[i];
	return NULL;
}

static void hardlink_add(struct seeding *s, const struct stat *st, const char *at)
{
	if (st->st_nlink < 2 || s->n_links >= HARDLINKS_MAX)
		return;
	s->links[s->n_links] = (struct hardlink){ st->st_dev, st->st_ino, strdup(at) };
	if (s->links[s->n_links].path)
		s->n_links++;
}

/* A directory of the image that is another mount is not copied (only a directory can be a
 * mount point; files under an overlay report the device of their layer). */
static bool other_mount(struct seeding *s, const struct stat *st, const char *rel)
{
	if (!S_ISDIR(st->st_mode) || !s->src_dev || st->st_dev == s->src_dev)
		return false;
	log_warning("'%s' is another mount, not copying it.", rel);
	s->st->skipped++;
	return true;
}

static int copy_tree(struct seeding *s, int src_dir_fd, const char *name, const struct stat *st,
		     int dst_dir_fd, const char *dst, const char *rel, const char *at);

/* Fill the new, empty directory dst_fd with a complete copy of src_fd's entries, then give it
 * src's metadata and times (the caller flushes). at: dst's path below s->dst_root_fd. */
static int fill_dir(struct seeding *s, int src_fd, int dst_fd, const struct stat *st, const char *rel,
		    const char *at)
{
	DIR *d = seed_dir_stream(src_fd);
	struct dirent *e;
	int r = 0;

	if (!d)
		return negative_errno();
	while ((e = readdir(d))) {
		char child_rel[4096], child_at[4096];
		struct stat cst;

		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		if (fstatat(src_fd, e->d_name, &cst, AT_SYMLINK_NOFOLLOW) < 0) {
			r = negative_errno();
			break;
		}
		join(child_rel, sizeof(child_rel), rel, e->d_name);
		if (other_mount(s, &cst, child_rel))
			continue;
		join(child_at, sizeof(child_at), at, e->d_name);
		r = copy_tree(s, src_fd, e->d_name, &cst, dst_fd, e->d_name, child_rel, child_at);
		if (r < 0)
			break;
	}
	closedir(d);
	if (r < 0)
		return r;
	r = copy_metadata(src_fd, dst_fd, false);
	if (r < 0)
		return r;
	/* Times last, since filling the directory changed them. */
	struct timespec ts[2] = { st->st_atim, st->st_mtim };
	return futimens(dst_fd, ts) < 0 ? negative_errno() : 0;
}

/* Create dst in dst_dir_fd as a complete copy of name in src_dir_fd (any type, recursively).
 * Stops at the first error; the caller removes the temporary it was building. */
static int copy_tree(struct seeding *s, int src_dir_fd, const char *name, const struct stat *st,
		     int dst_dir_fd, const char *dst, const char *rel, const char *at)
{
	_cleanup_close_ int src = -EBADF, out = -EBADF;
	int r;

	if (!S_ISDIR(st->st_mode)) {
		struct hardlink *h = st->st_nlink > 1 ? hardlink_find(s, st) : NULL;

		/* If the first copy is gone or elsewhere, fall back to a copy. */
		if (h && linkat(s->dst_root_fd, h->path, dst_dir_fd, dst, 0) == 0) {
			s->st->hardlinked++;
			return 0;
		}
		r = create_entry(s, src_dir_fd, name, st, dst_dir_fd, dst);
		if (r < 0)
			return r;
		s->st->created++;
		if (!h)
			hardlink_add(s, st, at);
		return 0;
	}
	if ((r = injected()) < 0)
		return r;
	if (mkdirat(dst_dir_fd, dst, 0700) < 0)
		return negative_errno();
	src = openat(src_dir_fd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return negative_errno();
	out = openat_beneath(dst_dir_fd, dst, O_RDONLY | O_DIRECTORY, 0);
	if (out < 0)
		return out;
	s->st->created++;
	return fill_dir(s, src, out, st, rel, at);
}

/* Add the missing entry name of src_dir_fd to the existing directory dst_dir_fd: built complete
 * under a temporary name, then renamed into place. On failure nothing is left behind. */
static int add_entry(struct seeding *s, int src_dir_fd, const char *name, const struct stat *st,
		     int dst_dir_fd, const char *rel, const char *at)
{
	struct seed_stats before = *s->st;
	unsigned links_before = s->n_links;
	char tmp[256], tmp_at[4096], dir_at[4096];
	struct hardlink *h;
	int r;

	/* A hard link to an entry copied before is created in place, atomically. */
	h = !S_ISDIR(st->st_mode) && st->st_nlink > 1 ? hardlink_find(s, st) : NULL;
	if (h && linkat(s->dst_root_fd, h->path, dst_dir_fd, name, 0) == 0) {
		s->st->hardlinked++;
		return 0;
	}
	temp_name(name, tmp, sizeof(tmp));
	parent_of(at, dir_at, sizeof(dir_at));
	join(tmp_at, sizeof(tmp_at), dir_at, tmp);
	r = copy_tree(s, src_dir_fd, name, st, dst_dir_fd, tmp, rel, tmp_at);
	if (r >= 0 && syncfs(dst_dir_fd) < 0)
		r = negative_errno();
	if (r >= 0 && renameat2(dst_dir_fd, tmp, dst_dir_fd, name, RENAME_NOREPLACE) < 0)
		r = negative_errno();
	if (r < 0) {
		int k = remove_tree(dst_dir_fd, tmp, 0);

		if (k < 0)
			log_warning_errno(k, "Cannot remove the partial copy '%s', ignoring: %m", tmp);
		*s->st = before;
		links_truncate(s, links_before);
		return r;
	}
	/* Hard links recorded inside the temporary now live under the final name. */
	for (unsigned i = links_before; i < s->n_links; i++) {
		char fixed[4096];
		size_t n = strlen(tmp_at);

		if (strncmp(s->links[i].path, tmp_at, n) != 0)
			continue;
		join(fixed, sizeof(fixed), dir_at, name);
		size_t m = strlen(fixed);
		snprintf(fixed + m, sizeof(fixed) - m, "%s", s->links[i].path + n);
		free(s->links[i].path);
		s->links[i].path = strdup(fixed);
		if (!s->links[i].path) { /* forget it: a later link becomes a copy */
			s->links[i] = s->links[--s->n_links];
			i--;
		}
	}
	return 0;
}

/* Complete the existing directory dst_fd: add what it lacks, enter the directories both have.
 * Entries that cannot be added are logged and counted in st->failed; the walk goes on. */
static int complete_dir(struct seeding *s, int src_fd, int dst_fd, const char *rel, const char *at)
{
	DIR *d = seed_dir_stream(src_fd);
	struct dirent *e;
	bool changed = false;

	if (!d)
		return negative_errno();
	remove_stale_temps(dst_fd);
	while ((e = readdir(d))) {
		char child_rel[4096], child_at[4096];
		struct stat st, existing;
		int r;

		if (streq(e->d_name, ".") || streq(e->d_name, ".."))
			continue;
		join(child_rel, sizeof(child_rel), rel, e->d_name);
		join(child_at, sizeof(child_at), at, e->d_name);
		if (fstatat(src_fd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			r = negative_errno();
		} else if (other_mount(s, &st, child_rel)) {
			continue;
		} else if (fstatat(dst_fd, e->d_name, &existing, AT_SYMLINK_NOFOLLOW) < 0) {
			r = errno == ENOENT ? add_entry(s, src_fd, e->d_name, &st, dst_fd, child_rel, child_at)
					    : negative_errno();
			changed |= r >= 0;
		} else if (!S_ISDIR(st.st_mode)) {
			s->st->kept++;
			continue;
		} else if (!S_ISDIR(existing.st_mode)) {
			log_warning("'%s' in the persistent copy is not a directory (%s), skipping it.", child_rel,
				    S_ISLNK(existing.st_mode) ? "a symlink" : "another type");
			s->st->skipped++;
			continue;
		} else {
			/* Into the directory, never through a symlink in the persistent copy. */
			_cleanup_close_ int sub_src = openat(src_fd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			_cleanup_close_ int sub_dst = openat_beneath(dst_fd, e->d_name, O_RDONLY | O_DIRECTORY, 0);

			s->st->kept++;
			r = sub_src < 0 ? negative_errno() : sub_dst < 0 ? sub_dst : 0;
			if (r >= 0)
				r = complete_dir(s, sub_src, sub_dst, child_rel, child_at);
		}
		if (r < 0) {
			log_warning_errno(r, "Cannot add '%s' to the persistent copy, leaving it out: %m", child_rel);
			s->st->failed++;
		}
	}
	closedir(d);
	/* Make the renames in this directory durable; on most boots there are none. */
	if (changed && fsync(dst_fd) < 0)
		return negative_errno();
	return 0;
}

static bool dir_is_empty(int dir_fd)
{
	DIR *d = seed_dir_stream(dir_fd);
	struct dirent *e;
	bool empty = true;

	if (!d)
		return false;
	while (empty && (e = readdir(d)))
		empty = streq(e->d_name, ".") || streq(e->d_name, "..");
	closedir(d);
	return empty;
}

int seed_dir(int src_fd, int dst_parent_fd, const char *dst_name, struct seed_stats *st)
{
	struct seeding s = { .st = st, .dst_root_fd = -EBADF };
	struct seed_stats before = *st;
	_cleanup_close_ int dst = -EBADF;
	struct stat sst, existing;
	char tmp[256];
	bool replace_empty = false;
	int r;

	if (fstat(src_fd, &sst) < 0)
		return negative_errno();
	s.src_dev = sst.st_dev;
	temp_name(dst_name, tmp, sizeof(tmp));
	remove_stale_temp(dst_parent_fd, tmp);

	if (fstatat(dst_parent_fd, dst_name, &existing, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(existing.st_mode))
			return -ELOOP;
		if (!S_ISDIR(existing.st_mode))
			return -ENOTDIR;
		dst = openat_beneath(dst_parent_fd, dst_name, O_RDONLY | O_DIRECTORY, 0);
		if (dst < 0)
			return dst;
		remove_stale_temps(dst);
		if (!dir_is_empty(dst)) {
			s.dst_root_fd = dst;
			r = complete_dir(&s, src_fd, dst, "", "");
			links_truncate(&s, 0);
			return r;
		}
		/* Empty (made by an earlier boot whose seeding failed, or emptied): a fresh copy. */
		replace_empty = true;
		closep(&dst);
	} else if (errno != ENOENT) {
		return negative_errno();
	}

	if ((r = injected()) < 0)
		goto fail;
	if (mkdirat(dst_parent_fd, tmp, 0700) < 0) {
		r = negative_errno();
		goto fail;
	}
	dst = openat_beneath(dst_parent_fd, tmp, O_RDONLY | O_DIRECTORY, 0);
	if (dst < 0) {
		r = dst;
		goto fail;
	}
	s.dst_root_fd = dst;
	r = fill_dir(&s, src_fd, dst, &sst, "", "");
	if (r < 0)
		goto fail;
	if (syncfs(dst) < 0) {
		r = negative_errno();
		goto fail;
	}
	/* rename() replaces an empty directory in one step; anything else stays untouched. */
	if ((replace_empty ? renameat(dst_parent_fd, tmp, dst_parent_fd, dst_name)
			   : renameat2(dst_parent_fd, tmp, dst_parent_fd, dst_name, RENAME_NOREPLACE)) < 0) {
		r = negative_errno();
		goto fail;
	}
	links_truncate(&s, 0);
	return fsync(dst_parent_fd) < 0 ? negative_errno() : 0;

fail:
	links_truncate(&s, 0);
	*st = before;
	int k = remove_tree(dst_parent_fd, tmp, 0);
	if (k < 0)
		log_warning_errno(k, "Cannot remove the partial copy '%s', ignoring: %m", tmp);
	return r;
}

int seed_entry(int src_dir_fd, const char *src_name, int dst_dir_fd, const char *dst_name,
	       struct seed_stats *st)
{
	struct seeding s = { .st = st, .dst_root_fd = dst_dir_fd };
	struct stat sst, existing;
	int r;

	remove_stale_temps(dst_dir_fd);
	if (fstatat(dst_dir_fd, dst_name, &existing, AT_SYMLINK_NOFOLLOW) == 0) {
		st->kept++;
		return 0;
	}
	if (errno != ENOENT)
		return negative_errno();
	if (fstatat(src_dir_fd, src_name, &sst, AT_SYMLINK_NOFOLLOW) < 0)
		return negative_errno();
	if (S_ISDIR(sst.st_mode))
		return -EISDIR;
	r = add_entry(&s, src_dir_fd, src_name, &sst, dst_dir_fd, dst_name, dst_name);
	links_truncate(&s, 0);
	if (r < 0)
		return r;
	return fsync(dst_dir_fd) < 0 ? negative_errno() : 0;
}

