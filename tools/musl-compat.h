/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Force-included (-include) into every edgeinit source file of the static musl build of /init
 * only (the host build with glibc does not see it). It supplies what glibc declares and
 * Debian 12's musl 1.2.3 lacks, so that edgeinit's own code stays written against glibc. */
#ifndef EDGEINIT_MUSL_COMPAT_H
#define EDGEINIT_MUSL_COMPAT_H

#include <stdio.h>
#include <sys/syscall.h>
#include <unistd.h>

/* renameat2() arrived in musl 1.2.5; the system call is older than any kernel we boot. The flag
 * values are the kernel's (include/uapi/linux/fs.h), spelled identically so a later include of
 * <linux/fs.h> does not redefine them differently. */
#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE	(1 << 0)	/* Don't overwrite target */
#define RENAME_EXCHANGE		(1 << 1)	/* Exchange source and dest */
#define RENAME_WHITEOUT		(1 << 2)	/* Whiteout source */
#endif
static inline int renameat2(int olddirfd, const char *oldpath, int newdirfd, const char *newpath,
			    unsigned int flags)
{
	return (int)syscall(SYS_renameat2, olddirfd, oldpath, newdirfd, newpath, flags);
}

#endif
