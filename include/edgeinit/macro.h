/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Small helpers shared by every unit: cleanup attributes, ownership moves, array sizes. */
#pragma once

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ELEMENTSOF(a) (sizeof(a) / sizeof((a)[0]))
#define _noreturn_ __attribute__((noreturn))
#define _printf_(a, b) __attribute__((format(printf, a, b)))
#define _unused_ __attribute__((unused))
#define _cleanup_(f) __attribute__((cleanup(f)))

static inline void freep(void *p) { free(*(void **)p); }
static inline void closep(int *fd)
{
	if (*fd >= 0) {
		int saved = errno;
		close(*fd);
		errno = saved;
	}
}
#define _cleanup_free_ _cleanup_(freep)
#define _cleanup_close_ _cleanup_(closep)

/* Hand a resource to a new owner: the old variable no longer owns it. */
#define TAKE_FD(fd) ({ int _fd_ = (fd); (fd) = -EBADF; _fd_; })
#define TAKE_PTR(p) ({ __typeof__(p) _p_ = (p); (p) = NULL; _p_; })

/* libc reports failure as -1/errno; edgeinit code speaks -errno. */
static inline int negative_errno(void) { return errno > 0 ? -errno : -EIO; }

static inline int streq(const char *a, const char *b) { return strcmp(a, b) == 0; }
