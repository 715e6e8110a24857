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

/* Replace the contents of an existing file (sysctl/proc style writes). */
int write_small_file(const char *path, const char *content);

/* Create a file with this content (0644), replacing an existing one atomically (temporary name
 * in the same directory, then rename), so a reader never sees half of it. */
int write_new_file(const char *path, const char *content);

/* mkdir that is happy when the directory already exists. */
int mkdir_exist_ok(const char *path, mode_t mode);
