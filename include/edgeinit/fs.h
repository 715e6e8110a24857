/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small file-system helpers: silent, no globals, -errno on failure. */
#pragma once

#include <stddef.h>
#include <sys/types.h>

/* 1 if path is the root of a mount, 0 if not, -errno on error. */
int is_mount_point(const char *path);

/* Read up to size-1 bytes of a (small, e.g. /proc or sysfs) file and NUL-terminate.
 * Returns the length. */
int read_small_file(const char *path, char *buf, size_t size);
/* The same from an open fd (read from where it stands; the caller keeps it). */
int read_small_fd(int fd, char *buf, size_t size);

/* Replace the contents of an existing file (sysctl/proc style writes). */
int write_small_file(const char *path, const char *content);
int write_small_fd(int fd, const char *content);

/* Create a file with this content (0644), replacing an existing one atomically (temporary name
 * in the same directory, then rename), so a reader never sees half of it. */
int write_new_file(const char *path, const char *content);
/* The same for name in dir_fd (AT_FDCWD: write_new_file). */
int write_new_file_at(int dir_fd, const char *name, const char *content);

/* mkdir that is happy when the directory already exists. */
int mkdir_exist_ok(const char *path, mode_t mode);

/* openat2() of name below dir_fd, never above it, through a symlink or through a magic link
 * (O_CLOEXEC | O_NOFOLLOW added to flags; resolve_extra adds RESOLVE_* bits such as
 * RESOLVE_NO_XDEV). For what a disk holds. fd or -errno (-EXDEV, -ELOOP). */
int openat_beneath(int dir_fd, const char *name, int flags, unsigned long long resolve_extra);

/* openat2() of path resolved as if dir_fd were "/": symlinks are followed, but never out of it
 * (RESOLVE_IN_ROOT). For a path the signed command line names inside the new root. fd or -errno. */
int openat_in_root(int dir_fd, const char *path, int flags);
