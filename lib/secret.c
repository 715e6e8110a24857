/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/mman.h>

#include "edgeinit/macro.h"
#include "edgeinit/secret.h"

/* The live secret buffers, for secret_wipe_all() (a crash handler cannot walk the owners' data).
 * A fixed table of lock-free slots: registering happens in any thread, wiping in a signal
 * handler. A buffer that does not fit is still wiped by its owner on free. */
#define SECRET_REGISTRY_MAX 32
static struct {
	int claimed;   /* a slot is taken (claimed) before it is filled */
	size_t size;
	void *data;    /* set last: a wipe that sees it sees its size */
} registry[SECRET_REGISTRY_MAX];

static void registry_add(void *data, size_t size)
{
	for (size_t i = 0; i < SECRET_REGISTRY_MAX; i++) {
		int expected = 0;

		if (!__atomic_compare_exchange_n(&registry[i].claimed, &expected, 1, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		__atomic_store_n(&registry[i].size, size, __ATOMIC_RELEASE);
		__atomic_store_n(&registry[i].data, data, __ATOMIC_RELEASE);
		return;
	}
}

static void registry_remove(void *data)
{
	for (size_t i = 0; i < SECRET_REGISTRY_MAX; i++) {
		void *expected = data;

		if (__atomic_compare_exchange_n(&registry[i].data, &expected, NULL, false,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			__atomic_store_n(&registry[i].claimed, 0, __ATOMIC_RELEASE);
			return;
		}
	}
}

size_t secret_wipe_all(void)
{
	size_t n = 0;

	for (size_t i = 0; i < SECRET_REGISTRY_MAX; i++) {
		void *data = __atomic_load_n(&registry[i].data, __ATOMIC_ACQUIRE);

		if (!data)
			continue;
		explicit_bzero(data, __atomic_load_n(&registry[i].size, __ATOMIC_ACQUIRE));
		n++;
	}
	return n;
}

size_t secret_count_nonzero(void)
{
	size_t n = 0;

	for (size_t i = 0; i < SECRET_REGISTRY_MAX; i++) {
		const uint8_t *data = __atomic_load_n(&registry[i].data, __ATOMIC_ACQUIRE);
		size_t size = __atomic_load_n(&registry[i].size, __ATOMIC_ACQUIRE);
		uint8_t any = 0;

		for (size_t k = 0; data && k < size; k++)
			any |= data[k];
		n += any != 0;
	}
	return n;
}

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
	registry_add(p, size);
	return 0;
}

void secret_free(struct secret *s)
{
	if (!s->data)
		return;
	/* Out of the registry before the unmap: a crash wipe must not touch freed pages. */
	registry_remove(s->data);
	explicit_bzero(s->data, s->size);
	(void)munlock(s->data, s->size);
	(void)munmap(s->data, s->size);
	s->data = NULL;
	s->size = 0;
}
