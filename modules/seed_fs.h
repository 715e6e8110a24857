/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Internal to the seeding code (modules/seed.c, modules/seed_fs.c). */
#pragma once

#include <dirent.h>
#include <stddef.h>

/* How deep a tree on the persistent partition is walked: the partition is untrusted, PID 1's
 * stack is not. */
#define REMOVE_DEPTH_MAX 64

/* "/proc/self/fd/<dir_fd>/<name>" into buf, for xattrs of entries that cannot be opened. */
int seed_xattr_path(int dir_fd, const char *name, char *buf, size_t size);
/* Copy every xattr from src to dst: by fd (src_fd/dst_fd >= 0) or by /proc path (l*xattr, which
 * act on a symlink itself). 0 or -errno. */
int seed_copy_xattrs(int src_fd, const char *src_path, int dst_fd, const char *dst_path);
/* A directory stream over a duplicate of fd, from the start. NULL with errno set. */
DIR *seed_dir_stream(int fd);
