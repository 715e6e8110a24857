/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "edgeinit/macro.h"
#include "edgeinit/secret.h"

int secret_alloc(struct secret *s, size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	s->data = NULL;
	s->size = 0;
	if (p == MAP_FAILED)
		return negative_errno();
	/* Locking can fail under a tight RLIMIT_MEMLOCK; PID 1 has none, tests may. The wipe on
	 * free still happens. */
	(void)mlock(p, size);
	(void)madvise(p, size, MADV_DONTDUMP);
	s->data = p;
	s->size = size;
	return 0;
}

void secret_free(struct secret *s)
{
	if (!s->data)
		return;
	explicit_bzero(s->data, s->size);
	(void)munlock(s->data, s->size);
	(void)munmap(s->data, s->size);
	s->data = NULL;
	s->size = 0;
}
