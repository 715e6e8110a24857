/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Kernel modules loaded by one background thread, in order, at SCHED_IDLE; whoever needs one of
 * them waits for its turn instead of loading it again, and from then on the thread runs at the
 * normal policy: other busy threads (EMT's key derivation) must not starve what the boot waits
 * for. Only the loading function is the machine's (libkmod in init/sys_kmod.c), so the unit
 * tests run the queue with their own. */
#pragma once

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#define MODULE_QUEUE_MAX 16
#define MODULE_QUEUE_NAME_MAX 64

struct module_queue {
	pthread_mutex_t lock;
	pthread_cond_t changed;    /* an entry finished, or the thread ended */
	pthread_t thread;
	bool running;              /* the thread was started and not joined */
	bool ended;                /* the thread returned */
	bool skip_rest;            /* finish() asked to load nothing more */
	bool boosted;              /* someone waits: SCHED_OTHER from now on */
	size_t n, done;            /* entries [0, done) have their result */
	char names[MODULE_QUEUE_MAX][MODULE_QUEUE_NAME_MAX];
	int results[MODULE_QUEUE_MAX];
	/* Called on the thread for each name; then thread_end once (both may be NULL). */
	int (*load)(const char *name);
	void (*thread_end)(void);
};

void module_queue_init(struct module_queue *q, int (*load)(const char *name),
		       void (*thread_end)(void));
/* Start the thread over names (copied). 0, -E2BIG (too many or too long: nothing started),
 * -EBUSY (already running), or pthread_create's error. */
int module_queue_start(struct module_queue *q, const char *const *names, size_t n);
/* If name is on the list: boost the thread (see above), wait until it is done (at most
 * timeout_ms) and return 1 with its result in *result; -ETIMEDOUT if it is not done in time.
 * 0 if it is not on the list, or was skipped. */
int module_queue_wait_for(struct module_queue *q, const char *name, unsigned timeout_ms,
			  int *result);
/* Boost the thread and wait (at most timeout_ms) for it to end, with skip_rest after the
 * module it is loading, and join it. 0, or -ETIMEDOUT (the thread is left to run, detached). */
int module_queue_finish(struct module_queue *q, bool skip_rest, unsigned timeout_ms);
