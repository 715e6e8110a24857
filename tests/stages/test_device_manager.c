/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The device manager's one wait (devmgr_wait), which every stage that waits for a device uses:
 * it asks first, ends on the question's answer or error, handles uevents as they come, and never
 * waits past its deadline. */
#include <check.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#include "fake_sys.h"
#include "suites.h"

static struct device_manager dm;

static void setup(void)
{
	devmgr_init(&dm, fake_setup("/tmp"), &sys_fake);
}

static void teardown(void)
{
	devmgr_done(&dm);
	fake_teardown();
}

struct question {
	int answers[4]; /* what ready says on each call; the last one repeats */
	unsigned calls;
};

static int ask(void *userdata)
{
	struct question *q = userdata;
	int a = q->answers[q->calls < 4 ? q->calls : 3];

	q->calls++;
	return a;
}

static int vdb_seen(void *userdata)
{
	(*(unsigned *)userdata)++;
	return devmgr_find(&dm, "vdb") != NULL;
}

START_TEST(devmgr_wait_asks_first_and_returns_at_once_when_ready)
{
	struct question q = { .answers = { 1 } };

	ck_assert_int_eq(devmgr_open(&dm), 0);
	/* A deadline far away: a wait that polled before asking would hang the test. */
	ck_assert_int_eq(devmgr_wait(&dm, ask, &q, now_monotonic_us() + 600 * 1000000ULL), 0);
	ck_assert_uint_eq(q.calls, 1);
}
END_TEST

START_TEST(devmgr_wait_ends_with_the_questions_error)
{
	struct question q = { .answers = { -EEXIST } };

	ck_assert_int_eq(devmgr_open(&dm), 0);
	ck_assert_int_eq(devmgr_wait(&dm, ask, &q, now_monotonic_us() + 600 * 1000000ULL), -EEXIST);
	ck_assert_uint_eq(q.calls, 1);
}
END_TEST

START_TEST(devmgr_wait_without_a_socket_times_out_at_once)
{
	struct question q = { .answers = { 0 } };
	uint64_t start = now_monotonic_us();

	ck_assert_int_eq(devmgr_wait(&dm, ask, &q, start + 600 * 1000000ULL), -ETIMEDOUT);
	ck_assert_uint_eq(q.calls, 1);
	ck_assert_uint_lt(now_monotonic_us() - start, 1000000);
}
END_TEST

START_TEST(devmgr_wait_never_passes_its_deadline)
{
	struct question q = { .answers = { 0 } };
	uint64_t start = now_monotonic_us();

	ck_assert_int_eq(devmgr_open(&dm), 0);
	ck_assert_int_eq(devmgr_wait(&dm, ask, &q, start + 200000), -ETIMEDOUT);
	ck_assert_uint_ge(now_monotonic_us() - start, 200000);
	ck_assert_uint_lt(now_monotonic_us() - start, 2000000);
}
END_TEST

/* A block device announced while waiting is recorded (and probed) before the question is asked
 * again, and its driver alias is loaded once. */
START_TEST(devmgr_wait_handles_uevents_as_they_come)
{
	static const char vdb[] = "add@/devices/pci0000:00/0000:00:03.0/virtio1/block/vdb\0ACTION=add\0"
				  "DEVPATH=/devices/pci0000:00/0000:00:03.0/virtio1/block/vdb\0"
				  "SUBSYSTEM=block\0DEVNAME=vdb\0DEVTYPE=disk\0SEQNUM=9";
	static const char pci[] = "add@/devices/pci0000:00/0000:00:03.0\0ACTION=add\0"
				  "DEVPATH=/devices/pci0000:00/0000:00:03.0\0SUBSYSTEM=pci\0"
				  "MODALIAS=pci:v00001AF4d00001001\0SEQNUM=8";
	unsigned calls = 0;

	ck_assert_int_eq(devmgr_open(&dm), 0);
	ck_assert_int_eq(send(fake.uevent_peer, pci, sizeof(pci), 0), (ssize_t)sizeof(pci));
	ck_assert_int_eq(send(fake.uevent_peer, vdb, sizeof(vdb), 0), (ssize_t)sizeof(vdb));
	ck_assert_int_eq(devmgr_wait(&dm, vdb_seen, &calls, now_monotonic_us() + 600 * 1000000ULL), 0);
	ck_assert_uint_eq(calls, 2);
	ck_assert(fake_called("probe /dev/vdb"));
	ck_assert(fake_called("load pci:v00001AF4d00001001"));
	ck_assert_uint_eq(dm.modules_loaded, 1);
	ck_assert_str_eq(devmgr_find(&dm, "vdb")->node, "/dev/vdb");
}
END_TEST

Suite *device_manager_suite(void)
{
	Suite *s = suite_create("device-manager");
	TCase *tc = tcase_create("wait");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, devmgr_wait_asks_first_and_returns_at_once_when_ready);
	tcase_add_test(tc, devmgr_wait_ends_with_the_questions_error);
	tcase_add_test(tc, devmgr_wait_without_a_socket_times_out_at_once);
	tcase_add_test(tc, devmgr_wait_never_passes_its_deadline);
	tcase_add_test(tc, devmgr_wait_handles_uevents_as_they_come);
	suite_add_tcase(s, tc);
	return s;
}
