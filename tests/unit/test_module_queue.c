/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The background module queue (init/module_queue.c) with a loading function of the test's own:
 * order, each caller waiting for its turn, bounded waits, skipping the rest, one thread end. */
#include <check.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <string.h>

#include "module_queue.h"
#include "suites.h"

static struct {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	char loaded[MODULE_QUEUE_MAX][MODULE_QUEUE_NAME_MAX];
	int policy[MODULE_QUEUE_MAX]; /* the thread's scheduling policy when it loaded each */
	int n_loaded;
	const char *block_on; /* load() of this name waits until released */
	bool released;
	bool blocked;         /* load() is waiting on block_on */
	int thread_ends;
} t = { .lock = PTHREAD_MUTEX_INITIALIZER, .cond = PTHREAD_COND_INITIALIZER };

static int test_load(const char *name)
{
	pthread_mutex_lock(&t.lock);
	while (t.block_on && !strcmp(name, t.block_on) && !t.released) {
		t.blocked = true;
		pthread_cond_broadcast(&t.cond);
		pthread_cond_wait(&t.cond, &t.lock);
	}
	(void)pthread_getschedparam(pthread_self(), &t.policy[t.n_loaded], &(struct sched_param){ 0 });
	strcpy(t.loaded[t.n_loaded++], name);
	pthread_mutex_unlock(&t.lock);
	/* A distinct result per name: -ENOENT for "missing", else the name's length. */
	return strcmp(name, "missing") ? (int)strlen(name) : -ENOENT;
}

static void test_thread_end(void)
{
	pthread_mutex_lock(&t.lock);
	t.thread_ends++;
	pthread_mutex_unlock(&t.lock);
}

static void release(void)
{
	pthread_mutex_lock(&t.lock);
	t.released = true;
	pthread_cond_broadcast(&t.cond);
	pthread_mutex_unlock(&t.lock);
}

/* Until the queue's thread is inside load(block_on). */
static void wait_blocked(void)
{
	pthread_mutex_lock(&t.lock);
	while (!t.blocked)
		pthread_cond_wait(&t.cond, &t.lock);
	pthread_mutex_unlock(&t.lock);
}

static struct module_queue q;

static void setup(void)
{
	memset(t.loaded, 0, sizeof(t.loaded));
	t.n_loaded = t.thread_ends = 0;
	t.block_on = NULL;
	t.released = t.blocked = false;
	module_queue_init(&q, test_load, test_thread_end);
}

static void teardown(void)
{
	release();
	(void)module_queue_finish(&q, true, 5000);
}

START_TEST(queue_loads_in_order_and_hands_over_results)
{
	static const char *const names[] = { "dm_crypt", "missing", "fs-ext4" };
	int result = 0;

	ck_assert_int_eq(module_queue_start(&q, names, 3), 0);
	ck_assert_int_eq(module_queue_wait_for(&q, "fs-ext4", 5000, &result), 1);
	ck_assert_int_eq(result, 7);
	ck_assert_int_eq(module_queue_wait_for(&q, "missing", 5000, &result), 1);
	ck_assert_int_eq(result, -ENOENT);
	ck_assert_int_eq(module_queue_finish(&q, false, 5000), 0);
	ck_assert_int_eq(t.n_loaded, 3);
	ck_assert_str_eq(t.loaded[0], "dm_crypt");
	ck_assert_str_eq(t.loaded[1], "missing");
	ck_assert_str_eq(t.loaded[2], "fs-ext4");
	ck_assert_int_eq(t.thread_ends, 1);
	/* Not on the list: the caller loads it itself. */
	ck_assert_int_eq(module_queue_wait_for(&q, "overlay", 5000, &result), 0);
}
END_TEST

START_TEST(queue_caller_waits_for_its_turn_bounded)
{
	static const char *const names[] = { "dm_crypt", "xts" };
	int result = 0;

	t.block_on = "dm_crypt";
	ck_assert_int_eq(module_queue_start(&q, names, 2), 0);
	/* xts comes after a module that does not finish: the wait ends at its bound. */
	ck_assert_int_eq(module_queue_wait_for(&q, "xts", 50, &result), -ETIMEDOUT);
	ck_assert_int_eq(module_queue_wait_for(&q, "dm_crypt", 50, &result), -ETIMEDOUT);
	release();
	ck_assert_int_eq(module_queue_wait_for(&q, "xts", 5000, &result), 1);
	ck_assert_int_eq(result, 3);
}
END_TEST

START_TEST(queue_runs_idle_until_someone_waits)
{
	static const char *const names[] = { "dm_crypt", "xts" };
	int result = 0;

	t.block_on = "xts";
	ck_assert_int_eq(module_queue_start(&q, names, 2), 0);
	wait_blocked();
	/* Someone needs xts: the thread leaves SCHED_IDLE while it still loads it. */
	ck_assert_int_eq(module_queue_wait_for(&q, "xts", 10, &result), -ETIMEDOUT);
	release();
	ck_assert_int_eq(module_queue_wait_for(&q, "xts", 5000, &result), 1);
	ck_assert_int_eq(t.policy[0], SCHED_IDLE);
	ck_assert_int_eq(t.policy[1], SCHED_OTHER);
}
END_TEST

START_TEST(queue_finish_skips_what_has_not_started)
{
	static const char *const names[] = { "dm_crypt", "xts", "fs-ext4" };
	int result = 0;

	t.block_on = "dm_crypt";
	ck_assert_int_eq(module_queue_start(&q, names, 3), 0);
	wait_blocked();
	/* finish waits for the module being loaded, bounded. */
	ck_assert_int_eq(module_queue_finish(&q, true, 50), -ETIMEDOUT);
	release();
	/* The detached thread ends after dm_crypt; a new start is refused until it has. */
	ck_assert_int_eq(module_queue_wait_for(&q, "dm_crypt", 5000, &result), 1);
	ck_assert_int_eq(module_queue_wait_for(&q, "fs-ext4", 5000, &result), 0);
	ck_assert_int_eq(t.n_loaded, 1);
}
END_TEST

START_TEST(queue_finish_with_skip_rest_joins)
{
	static const char *const names[] = { "dm_crypt", "xts", "fs-ext4" };
	int result = 0;

	t.block_on = "dm_crypt";
	ck_assert_int_eq(module_queue_start(&q, names, 3), 0);
	wait_blocked();
	/* Asked to skip the rest while dm_crypt loads: dm_crypt ends, nothing else starts. */
	pthread_mutex_lock(&q.lock);
	q.skip_rest = true;
	pthread_mutex_unlock(&q.lock);
	release();
	ck_assert_int_eq(module_queue_finish(&q, true, 5000), 0);
	ck_assert_int_eq(t.thread_ends, 1);
	ck_assert_int_eq(t.n_loaded, 1);
	ck_assert_int_eq(module_queue_wait_for(&q, "dm_crypt", 5000, &result), 1);
	/* Whatever was skipped is the caller's to load. */
	ck_assert_int_eq(module_queue_wait_for(&q, "xts", 5000, &result), 0);
	ck_assert_int_eq(module_queue_wait_for(&q, "fs-ext4", 5000, &result), 0);
	/* Finished: a second finish does nothing, and a new list can start. */
	ck_assert_int_eq(module_queue_finish(&q, true, 5000), 0);
	ck_assert_int_eq(module_queue_start(&q, names, 1), 0);
}
END_TEST

START_TEST(queue_refuses_what_does_not_fit_and_a_second_start)
{
	const char *many[MODULE_QUEUE_MAX + 1];
	char long_name[MODULE_QUEUE_NAME_MAX + 1];
	const char *const one_long[] = { long_name };
	static const char *const names[] = { "dm_crypt" };

	for (size_t i = 0; i < MODULE_QUEUE_MAX + 1; i++)
		many[i] = "xts";
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	ck_assert_int_eq(module_queue_start(&q, many, MODULE_QUEUE_MAX + 1), -E2BIG);
	ck_assert_int_eq(module_queue_start(&q, one_long, 1), -E2BIG);
	t.block_on = "dm_crypt";
	ck_assert_int_eq(module_queue_start(&q, names, 1), 0);
	ck_assert_int_eq(module_queue_start(&q, names, 1), -EBUSY);
	ck_assert_int_eq(t.thread_ends, 0);
}
END_TEST

Suite *module_queue_suite(void)
{
	Suite *s = suite_create("module_queue");
	TCase *tc = tcase_create("queue");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, queue_loads_in_order_and_hands_over_results);
	tcase_add_test(tc, queue_caller_waits_for_its_turn_bounded);
	tcase_add_test(tc, queue_runs_idle_until_someone_waits);
	tcase_add_test(tc, queue_finish_skips_what_has_not_started);
	tcase_add_test(tc, queue_finish_with_skip_rest_joins);
	tcase_add_test(tc, queue_refuses_what_does_not_fit_and_a_second_start);
	suite_add_tcase(s, tc);
	return s;
}
