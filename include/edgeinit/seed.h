/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seeding persistent copies from the root, and opening directories on the persistent partition
 * without ever following a symlink planted there. Used by the layout stage; works on directory
 * fds, so tests run it on temporary directories. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Entries created by a seeding that a power cut interrupted start with this; they are removed
 * on the next boot before seeding again. */
#define SEED_TMP_PREFIX ".#edgeinit."

struct seed_stats {
	unsigned created;    /* entries copied (files, dirs, links, nodes) */
	unsigned hardlinked; /* entries created as hard links to an entry copied before */
	unsigned kept;       /* entries that already existed: never overwritten */
	unsigned skipped;    /* entries refused (planted symlink, wrong type, other device) */
	unsigned failed;     /* entries an existing copy lacks that could not be added (full disk) */
	uint64_t bytes;
};

/* Open (creating if asked) the directory relpath below base_fd, one component at a time, never
 * following a symlink and never leaving base_fd. Returns an O_DIRECTORY fd or -errno (-ELOOP for
 * a symlink, -ENOTDIR for another type). Created directories get mode 0755, root-owned. */
int persist_open_dir(int base_fd, const char *relpath, bool create);

/* Copy owner, mode, all extended attributes (POSIX ACLs and SELinux labels are xattrs) and, if
 * times is set, the timestamps from src_fd to dst_fd (both open files or directories). */
int copy_metadata(int src_fd, int dst_fd, bool times);

/* Make dst_name in dst_parent_fd the persistent copy of the directory src_fd. src is trusted
 * (the verified root); dst is not: nothing in it is ever followed.
 * - dst_name missing or an empty directory: a complete copy is built under a temporary name,
 *   made durable and renamed into place. All or nothing: on any error (-ENOSPC...) the partial
 *   copy is removed and -errno returned, dst_name is as it was.
 * - dst_name an existing directory with entries: each entry it lacks is added the same way,
 *   one at a time; entries that cannot be added are logged and counted in st->failed, and 0 is
 *   returned (the copy is usable as it was). What exists is never overwritten.
 * - dst_name a symlink: -ELOOP; another type: -ENOTDIR. */
int seed_dir(int src_fd, int dst_parent_fd, const char *dst_name, struct seed_stats *st);

/* Copy the non-directory src_name of src_dir_fd to dst_name in dst_dir_fd if that is missing,
 * atomically (a temporary renamed into place); -errno and nothing left behind on failure. */
int seed_entry(int src_dir_fd, const char *src_name, int dst_dir_fd, const char *dst_name,
	       struct seed_stats *st);

/* What a copy of src_name (in src_dir_fd) needs on the file system of dst_fs_fd (file contents
 * in whole blocks, a block per directory, a file counted with a directory to hold it) and what
 * that file system has free, in bytes. */
int seed_space(int src_dir_fd, const char *src_name, int dst_fs_fd, uint64_t *needed, uint64_t *free_bytes);

/* Tests: make the nth creating operation of seeding (a directory, an entry, a file's content)
 * fail with err (negative); 0 turns it off. */
void seed_inject_failure(unsigned nth, int err);

/* edgeinit.debug.hold=seed:<n> (the power-cut tests): call hold(arg) before the nth creating
 * operation counted from this call, across seedings; nth 0 turns it off. */
void seed_inject_hold(unsigned nth, void (*hold)(void *arg), void *arg);
