/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Run a call that may block for ever (sync(2) or umount(2) on a failing disk) without letting it
 * hold up its caller: the call runs in its own thread and the caller waits at most a bound. */
#pragma once

#include <time.h>

/* Run fn(arg) in a new thread and wait at most timeout_ms for it to return. Returns 0 if it
 * returned in time, -ETIMEDOUT if not (the thread is abandoned and keeps running; fn and arg must
 * stay valid for as long as it may run), or -errno if no thread could be started (fn did not run). */
int bounded_run(void (*fn)(void *arg), void *arg, unsigned timeout_ms);

/* CLOCK_MONOTONIC now plus timeout_ms, for pthread_cond_timedwait on a condvar set to that clock. */
struct timespec monotonic_deadline_ms(unsigned timeout_ms);
