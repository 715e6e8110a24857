/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Seeding persistent copies from the root, and opening directories on the persistent partition
 * without ever following a symlink planted there. Used by the layout stage; works on directory
 * fds, so tests run it on temporary directories. */
#pragma once

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
	uint64_t bytes;
};

/* Open (creating if asked) the directory relpath below base_fd, one component at a time, never
 * following a symlink and never leaving base_fd. Returns an O_DIRECTORY fd or -errno (-ELOOP for
 * a symlink, -ENOTDIR for another type). Created directories get mode 0755, root-owned. */
int persist_open_dir(int base_fd, const char *relpath, bool create);

/* Copy owner, mode, all extended attributes (POSIX ACLs and SELinux labels are xattrs) and, if
 * times is set, the timestamps from src_fd to dst_fd (both open files or directories). */
int copy_metadata(int src_fd, int dst_fd, bool times);

/* Make the directory dst_fd hold every entry of src_fd it lacks, recursively, keeping what is
 * there. src is trusted (the verified root); dst is not: its entries are never followed.
 * Returns 0 or -errno for a failure of the whole copy; single entries that cannot be copied are
 * logged, counted as skipped, and the copy goes on. */
int seed_dir(int src_fd, int dst_fd, struct seed_stats *st);

/* Copy the non-directory src_name of src_dir_fd to dst_name in dst_dir_fd if that is missing. */
int seed_entry(int src_dir_fd, const char *src_name, int dst_dir_fd, const char *dst_name,
	       struct seed_stats *st);
