/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/failure.h"
#include "suites.h"

#define GOOD "{\"format\": 1, \"stage\": \"layout\", \"message\": \"Invalid argument\", " \
	"\"remedy\": \"Fix /layout.env (initrd) in the image.\", \"slot\": null, \"time\": 1764560000, " \
	"\"boot_id\": \"0f4c2a9e-1b2d-4e6f-8a9b-0c1d2e3f4a5b\", \"version\": \"0.9.0\"}"

static struct failure_record sample(const char *stage)
{
	struct failure_record r = { .time = 42 };

	strcpy(r.stage, stage);
	strcpy(r.message, "No such device");
	strcpy(r.remedy, "Check roothash= on the UKI's command line.");
	strcpy(r.version, "0.9.0");
	return r;
}

START_TEST(test_failure_parses_a_good_line_and_round_trips)
{
	struct failure_log log;
	char buf[FAILURE_LOG_MAX + 1];

	ck_assert_int_eq(failure_log_parse(GOOD "\n", strlen(GOOD) + 1, &log), 0);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_uint_eq(log.dropped, 0);
	ck_assert_str_eq(log.rec[0].stage, "layout");
	ck_assert_str_eq(log.rec[0].slot, "");
	ck_assert_uint_eq(log.rec[0].time, 1764560000);
	ck_assert_str_eq(log.rec[0].boot_id, "0f4c2a9e-1b2d-4e6f-8a9b-0c1d2e3f4a5b");
	ck_assert_int_eq(failure_log_format(&log, FAILURE_LOG_MAX, buf, sizeof(buf)), (int)strlen(GOOD) + 1);
	ck_assert_str_eq(buf, GOOD "\n");
}
END_TEST

START_TEST(test_failure_drops_malformed_lines_keeps_good_ones)
{
	static const char *const bad[] = {
		"{\"format\": 2, \"stage\": \"layout\", \"message\": \"x\", \"remedy\": null, \"slot\": null, \"time\": 1, \"boot_id\": null, \"version\": \"1\"}",
		"{\"format\": 1, \"stage\": \"Lay out\", \"message\": \"x\", \"remedy\": null, \"slot\": null, \"time\": 1, \"boot_id\": null, \"version\": \"1\"}",
		"{\"format\": 1, \"stage\": \"layout\", \"message\": \"x\\u001b[2J\", \"remedy\": null, \"slot\": null, \"time\": 1, \"boot_id\": null, \"version\": \"1\"}",
		"{\"format\": 1, \"stage\": \"layout\", \"message\": \"x\", \"remedy\": null, \"slot\": null, \"time\": -1, \"boot_id\": null, \"version\": \"1\"}",
		"{\"format\": 1, \"stage\": \"layout\", \"message\": \"x\", \"remedy\": null, \"slot\": null, \"time\": 1, \"boot_id\": \"nope\", \"version\": \"1\"}",
		"{\"format\": 1, \"stage\": \"layout\", \"message\": \"x\", \"remedy\": null, \"slot\": null, \"time\": 1, \"boot_id\": null, \"version\": \"1\", \"extra\": 1}",
		"{\"format\": 1, \"stage\": \"layout\", \"message\": \"x\", \"remedy\": null, \"slot\": null, \"time\": 1, \"boot_id\": null}",
		"{\"format\": 1, \"stage\": \"layout\", \"message\": \"\", \"remedy\": null, \"slot\": null, \"time\": 1, \"boot_id\": null, \"version\": \"1\"}",
		"{\"format\": 1, \"stage\": \"layout\", \"message\": \"x\", \"remedy\": null, \"slot\": null, \"time\": 1, \"boot_id\": null, \"version\": \"1\"} x",
		"not json",
		"[1]",
	};
	char text[FAILURE_LOG_MAX];
	struct failure_log log;
	size_t n = 0;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(failure_log_parse(bad[i], strlen(bad[i]), &log), 0);
		ck_assert_uint_eq(log.n, 0);
		ck_assert_uint_eq(log.dropped, 1);
	}
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\n%s\n%s\n", bad[0], GOOD, bad[2]);
	/* A last line cut short by a power cut. */
	n += (size_t)snprintf(text + n, sizeof(text) - n, "%.40s", GOOD);
	ck_assert_int_eq(failure_log_parse(text, n, &log), 0);
	ck_assert_uint_eq(log.n, 1);
	ck_assert_uint_eq(log.dropped, 3);
	ck_assert_str_eq(log.rec[0].stage, "layout");
}
END_TEST

START_TEST(test_failure_refuses_oversized_sources)
{
	static char big[FAILURE_LOG_MAX + 1];
	struct failure_log log;

	memset(big, '\n', sizeof(big));
	ck_assert_int_eq(failure_log_parse(big, sizeof(big), &log), -E2BIG);
	ck_assert_uint_eq(log.n, 0);
	ck_assert_int_eq(failure_log_parse(big, FAILURE_LOG_MAX, &log), 0);
	ck_assert_uint_eq(log.n, 0);
	ck_assert_uint_eq(log.dropped, 0);
	ck_assert_int_eq(failure_log_parse(NULL, 0, &log), 0);
}
END_TEST

START_TEST(test_failure_log_is_bounded_oldest_out)
{
	struct failure_log log = { 0 }, back;
	struct failure_record r;
	char buf[FAILURE_LOG_MAX + 1];
	int n;

	for (int i = 0; i < FAILURE_RECORDS_MAX + 3; i++) {
		r = sample("verity");
		r.time = (uint64_t)i;
		ck_assert_int_eq(failure_log_add(&log, &r), 0);
	}
	ck_assert_uint_eq(log.n, FAILURE_RECORDS_MAX);
	ck_assert_uint_eq(log.rec[0].time, 3);
	/* The EFI variable's cap: fewer records, the newest. */
	n = failure_log_format(&log, FAILURE_EFI_MAX, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, FAILURE_EFI_MAX);
	ck_assert_int_eq(failure_log_parse(buf, (size_t)n, &back), 0);
	ck_assert_uint_gt(back.n, 0);
	ck_assert_uint_lt(back.n, FAILURE_RECORDS_MAX);
	ck_assert_uint_eq(back.rec[back.n - 1].time, FAILURE_RECORDS_MAX + 2);
	ck_assert_int_eq(failure_log_format(&log, FAILURE_LOG_MAX, buf, 100), -ENOSPC);
}
END_TEST

START_TEST(test_failure_record_check_and_text_copy)
{
	struct failure_record r = sample("layout");
	char buf[1024];

	ck_assert_int_eq(failure_record_check(&r), 0);
	failure_text_copy(r.message, sizeof(r.message), "bad\n\x1b[31m\xc3\xa9");
	ck_assert_str_eq(r.message, "bad??[31m??");
	ck_assert_int_eq(failure_record_check(&r), 0);
	strcpy(r.slot, "A");
	ck_assert_int_eq(failure_record_check(&r), -EINVAL);
	ck_assert_int_eq(failure_record_format(&r, buf, sizeof(buf)), -EINVAL);
	strcpy(r.slot, "b");
	strcpy(r.message, "say \"no\" \\ here");
	ck_assert_int_gt(failure_record_format(&r, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"message\": \"say \\\"no\\\" \\\\ here\""));
	ck_assert_ptr_nonnull(strstr(buf, "\"slot\": \"b\""));
}
END_TEST

START_TEST(test_failure_json_for_the_running_system)
{
	struct failure_log log = { 0 };
	struct failure_record r = sample("verity");
	char buf[8192], small[400];

	ck_assert_int_eq(failure_log_format_json(&log, buf, sizeof(buf)), (int)strlen("{\"format\": 1, \"count\": 0, \"reports\": []}"));
	ck_assert_str_eq(buf, "{\"format\": 1, \"count\": 0, \"reports\": []}");
	ck_assert_int_eq(failure_log_add(&log, &r), 0);
	r.time = 43;
	ck_assert_int_eq(failure_log_add(&log, &r), 0);
	ck_assert_int_gt(failure_log_format_json(&log, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"count\": 2, \"reports\": [{\"format\": 1, \"stage\": \"verity\""));
	/* Too small for both: the newest stays. */
	ck_assert_int_gt(failure_log_format_json(&log, small, sizeof(small)), 0);
	ck_assert_ptr_nonnull(strstr(small, "\"count\": 1,"));
	ck_assert_ptr_nonnull(strstr(small, "\"time\": 43,"));
	ck_assert_int_eq(failure_log_format_json(&log, small, 10), -ENOSPC);
}
END_TEST

Suite *failure_suite(void)
{
	Suite *s = suite_create("failure");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_failure_parses_a_good_line_and_round_trips);
	tcase_add_test(tc, test_failure_drops_malformed_lines_keeps_good_ones);
	tcase_add_test(tc, test_failure_refuses_oversized_sources);
	tcase_add_test(tc, test_failure_log_is_bounded_oldest_out);
	tcase_add_test(tc, test_failure_record_check_and_text_copy);
	tcase_add_test(tc, test_failure_json_for_the_running_system);
	suite_add_tcase(s, tc);
	return s;
}
