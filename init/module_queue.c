/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See module_queue.h. One mutex guards the whole struct; the thread drops it while it loads. */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <time.h>

#include "edgeinit/bounded.h"
#include "edgeinit/macro.h"
#include "edgeinit/strutil.h"
#include "module_queue.h"

/* libkmod's lookups and path buffers need more than musl's 128 KiB default. */
#define MODULE_QUEUE_STACK (256 * 1024)

void module_queue_init(struct module_queue *q, int (*load)(const char *name),
		       void (*thread_end)(void))
{
	pthread_condattr_t attr;

	memset(q, 0, sizeof(*q));
	pthread_mutex_init(&q->lock, NULL);
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&q->changed, &attr);
	pthread_condattr_destroy(&attr);
	q->load = load;
	q->thread_end = thread_end;
}

static void *module_queue_thread(void *data)
{
	struct module_queue *q = data;
	struct sched_param param = { 0 };

	pthread_mutex_lock(&q->lock);
	/* Only when nothing else wants the CPU: the boot's own work is never delayed by this. Under
	 * the lock, so a boost that came first is not undone. */
	if (!q->boosted)
		(void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &param);
	while (q->done < q->n && !q->skip_rest) {
		char name[MODULE_QUEUE_NAME_MAX];
		int r;

		memcpy(name, q->names[q->done], sizeof(name));
		pthread_mutex_unlock(&q->lock);
		r = q->load ? q->load(name) : -ENOSYS;
		pthread_mutex_lock(&q->lock);
		q->results[q->done++] = r;
		pthread_cond_broadcast(&q->changed);
	}
	pthread_mutex_unlock(&q->lock);
	if (q->thread_end)
		q->thread_end();
	pthread_mutex_lock(&q->lock);
	q->ended = true;
	pthread_cond_broadcast(&q->changed);
	pthread_mutex_unlock(&q->lock);
	return NULL;
}

int module_queue_start(struct module_queue *q, const char *const *names, size_t n)
{
	pthread_attr_t attr;
	int r;

	if (n > MODULE_QUEUE_MAX)
		return -E2BIG;
	for (size_t i = 0; i < n; i++)
		if (strlen(names[i]) >= MODULE_QUEUE_NAME_MAX)
			return -E2BIG;
	pthread_mutex_lock(&q->lock);
	if (q->running || (q->n > 0 && !q->ended)) { /* also a detached thread still loading */
		pthread_mutex_unlock(&q->lock);
		return -EBUSY;
	}
	for (size_t i = 0; i < n; i++)
		str_copy(q->names[i], sizeof(q->names[i]), names[i]);
	q->n = n;
	q->done = 0;
	q->ended = q->skip_rest = q->boosted = false;
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, MODULE_QUEUE_STACK);
	r = -pthread_create(&q->thread, &attr, module_queue_thread, q);
	pthread_attr_destroy(&attr);
	if (r == 0)
		q->running = true;
	else
		q->n = 0;
	pthread_mutex_unlock(&q->lock);
	return r;
}

/* Called with the lock held, the thread running. */
static void module_queue_boost(struct module_queue *q)
{
	struct sched_param param = { 0 };

	if (q->boosted || q->ended || !q->running) /* a detached thread may be gone */
		return;
	q->boosted = true;
	(void)pthread_setschedparam(q->thread, SCHED_OTHER, &param);
}

int module_queue_wait_for(struct module_queue *q, const char *name, unsigned timeout_ms,
			  int *result)
{
	struct timespec deadline = monotonic_deadline_ms(timeout_ms);
	size_t i;
	int r = 0;

	pthread_mutex_lock(&q->lock);
	for (i = 0; i < q->n; i++)
		if (streq(q->names[i], name))
			break;
	if (i < q->n && q->done <= i)
		module_queue_boost(q);
	while (i < q->n && q->done <= i && !q->ended && r == 0)
		r = -pthread_cond_timedwait(&q->changed, &q->lock, &deadline);
	if (i < q->n && q->done > i) {
		*result = q->results[i];
		r = 1;
	} else if (i < q->n && !q->ended)
		r = -ETIMEDOUT;
	else
		r = 0; /* not on the list, or skipped: the caller loads it */
	pthread_mutex_unlock(&q->lock);
	return r;
}

int module_queue_finish(struct module_queue *q, bool skip_rest, unsigned timeout_ms)
{
	struct timespec deadline = monotonic_deadline_ms(timeout_ms);
	int r = 0;

	pthread_mutex_lock(&q->lock);
	if (!q->running) {
		pthread_mutex_unlock(&q->lock);
		return 0;
	}
	q->skip_rest = q->skip_rest || skip_rest;
	module_queue_boost(q);
	while (!q->ended && r == 0)
		r = -pthread_cond_timedwait(&q->changed, &q->lock, &deadline);
	q->running = false;
	pthread_mutex_unlock(&q->lock);
	if (r == 0) {
		pthread_join(q->thread, NULL);
		return 0;
	}
	pthread_detach(q->thread);
	return -ETIMEDOUT;
}
