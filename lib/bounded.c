/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "edgeinit/bounded.h"

/* Shared by the caller and the thread; whichever lets go last frees it, because an abandoned
 * thread outlives the call. */
struct bounded_call {
	void (*fn)(void *arg);
	void *arg;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	bool done;
	int refs;
};

static void bounded_call_unref(struct bounded_call *c)
{
	int refs;

	pthread_mutex_lock(&c->lock);
	refs = --c->refs;
	pthread_mutex_unlock(&c->lock);
	if (refs > 0)
		return;
	pthread_cond_destroy(&c->cond);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void *bounded_thread(void *p)
{
	struct bounded_call *c = p;

	c->fn(c->arg);
	pthread_mutex_lock(&c->lock);
	c->done = true;
	pthread_cond_signal(&c->cond);
	pthread_mutex_unlock(&c->lock);
	bounded_call_unref(c);
	return NULL;
}

struct timespec monotonic_deadline_ms(unsigned timeout_ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += timeout_ms / 1000;
	ts.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

int bounded_run(void (*fn)(void *arg), void *arg, unsigned timeout_ms)
{
	struct bounded_call *c;
	pthread_condattr_t cattr;
	pthread_attr_t attr;
	struct timespec deadline;
	pthread_t thread;
	bool done;
	int r;

	c = calloc(1, sizeof(*c));
	if (!c)
		return -ENOMEM;
	c->fn = fn;
	c->arg = arg;
	c->refs = 2;
	pthread_mutex_init(&c->lock, NULL);
	/* The monotonic clock: setting the wall clock must not stretch or cut the bound. */
	pthread_condattr_init(&cattr);
	pthread_condattr_setclock(&cattr, CLOCK_MONOTONIC);
	pthread_cond_init(&c->cond, &cattr);
	pthread_condattr_destroy(&cattr);

	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&thread, &attr, bounded_thread, c);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		pthread_cond_destroy(&c->cond);
		pthread_mutex_destroy(&c->lock);
		free(c);
		return -r;
	}

	deadline = monotonic_deadline_ms(timeout_ms);

	pthread_mutex_lock(&c->lock);
	while (!c->done && pthread_cond_timedwait(&c->cond, &c->lock, &deadline) != ETIMEDOUT)
		;
	done = c->done;
	pthread_mutex_unlock(&c->lock);
	bounded_call_unref(c);
	return done ? 0 : -ETIMEDOUT;
}
