/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: failure logs as the next boot reads them from /opt or an EFI variable.
 * Invariants: parsing never fails on a bounded input (malformed lines are only counted); every
 * record kept passes the record rules; what is written back parses to the same records with
 * nothing dropped, within the cap; the JSON for the running system is formed. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "edgeinit/failure.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct failure_log log, back;
	static char out[FAILURE_LOG_MAX + 1], json[8192];
	int r, n;

	r = failure_log_parse((const char *)data, size, &log);
	if (size > FAILURE_LOG_MAX) {
		CHECK(r == -E2BIG && log.n == 0);
		return 0;
	}
	CHECK(r == 0 && log.n <= FAILURE_RECORDS_MAX);
	for (size_t i = 0; i < log.n; i++)
		CHECK(failure_record_check(&log.rec[i]) == 0);
	n = failure_log_format(&log, FAILURE_LOG_MAX, out, sizeof(out));
	CHECK(n >= 0 && n <= FAILURE_LOG_MAX && strlen(out) == (size_t)n);
	CHECK(failure_log_parse(out, (size_t)n, &back) == 0 && back.dropped == 0 && back.n <= log.n);
	/* What was left out for the cap is the oldest: the kept ones are the newest, unchanged. */
	for (size_t i = 0; i < back.n; i++)
		CHECK(memcmp(&back.rec[i], &log.rec[log.n - back.n + i], sizeof(back.rec[i])) == 0);
	n = failure_log_format_json(&log, json, sizeof(json));
	CHECK(n > 0 && json[0] == '{' && json[n - 1] == '}');
	return 0;
}
