/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* bounded_run (the fatal path's bound on sync/umount) and the secret registry the crash handler
 * wipes. */
#include <check.h>
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "edgeinit/bounded.h"
#include "edgeinit/secret.h"
#include "suites.h"

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_flag(void *arg)
{
	__atomic_store_n((bool *)arg, true, __ATOMIC_RELEASE);
}

/* What sync(2) does on a dead disk. */
static void block_for_ever(void *arg)
{
	set_flag(arg);
	for (;;)
		pause();
}

static void sleep_100ms(void *arg)
{
	struct timespec ts = { .tv_nsec = 100 * 1000000L };

	nanosleep(&ts, NULL);
	set_flag(arg);
}

START_TEST(test_returns_when_fn_returns)
{
	bool ran = false;

	ck_assert_int_eq(bounded_run(set_flag, &ran, 5000), 0);
	ck_assert(__atomic_load_n(&ran, __ATOMIC_ACQUIRE));
}
END_TEST

START_TEST(test_does_not_wait_for_the_bound_when_done)
{
	bool ran = false;
	uint64_t t0 = now_ms();

	ck_assert_int_eq(bounded_run(sleep_100ms, &ran, 10000), 0);
	ck_assert(__atomic_load_n(&ran, __ATOMIC_ACQUIRE));
	ck_assert_uint_ge(now_ms() - t0, 100);
	ck_assert_uint_lt(now_ms() - t0, 2000);
}
END_TEST

START_TEST(test_gives_up_on_a_call_that_blocks_for_ever)
{
	static bool started; /* the abandoned thread outlives this frame */
	uint64_t t0 = now_ms(), elapsed;

	ck_assert_int_eq(bounded_run(block_for_ever, &started, 300), -ETIMEDOUT);
	elapsed = now_ms() - t0;
	ck_assert(__atomic_load_n(&started, __ATOMIC_ACQUIRE));
	ck_assert_uint_ge(elapsed, 300);
	ck_assert_uint_lt(elapsed, 2000);
	/* The caller can go on and do it again: nothing is left locked. */
	ck_assert_int_eq(bounded_run(block_for_ever, &started, 50), -ETIMEDOUT);
}
END_TEST

static bool all_zero(const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i])
			return false;
	return true;
}

START_TEST(test_secret_wipe_all_wipes_live_buffers_only)
{
	struct secret a = { 0 }, b = { 0 };
	size_t before = secret_wipe_all(), n;

	ck_assert_int_eq(secret_alloc(&a, 64), 0);
	ck_assert_int_eq(secret_alloc(&b, 4096), 0);
	memset(a.data, 0xaa, a.size);
	memset(b.data, 0x55, b.size);
	n = secret_wipe_all();
	ck_assert_uint_eq(n, before + 2);
	ck_assert(all_zero(a.data, a.size));
	ck_assert(all_zero(b.data, b.size));

	/* A freed buffer leaves the registry; the other stays in it. */
	secret_free(&a);
	memset(b.data, 0x55, b.size);
	ck_assert_uint_eq(secret_wipe_all(), before + 1);
	ck_assert(all_zero(b.data, b.size));
	secret_free(&b);
	ck_assert_uint_eq(secret_wipe_all(), before);
}
END_TEST

Suite *bounded_suite(void)
{
	Suite *s = suite_create("bounded");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_returns_when_fn_returns);
	tcase_add_test(tc, test_does_not_wait_for_the_bound_when_done);
	tcase_add_test(tc, test_gives_up_on_a_call_that_blocks_for_ever);
	tcase_add_test(tc, test_secret_wipe_all_wipes_live_buffers_only);
	suite_add_tcase(s, tc);
	return s;
}
