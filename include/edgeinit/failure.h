/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Failure reports: what a fatal error leaves for the next good boot (docs/failure-report.md,
 * schema docs/schema/failure-report-v1.json). One record is one JSON object on one line; a log is
 * such lines, oldest first. The persistent partition and the EFI variable that hold a log are
 * hostile on the next boot: the parser takes a bounded text, refuses each malformed line alone
 * (counting it) and keeps only fields that pass the checks below; nothing is copied through. */
#pragma once

#include <stddef.h>
#include <stdint.h>

#define FAILURE_FORMAT 1
/* The most bytes read from (and written to) one source. */
#define FAILURE_LOG_MAX 4096
/* The EFI variable's share of that: a few hundred bytes of NVRAM. */
#define FAILURE_EFI_MAX 1024
/* Records a log keeps (the oldest go first) and a boot exposes. */
#define FAILURE_RECORDS_MAX 8
/* The longest line the parser looks at. */
#define FAILURE_LINE_MAX 2048

struct failure_record {
	char stage[32];    /* [a-z0-9-], 1-31 bytes */
	char message[160]; /* printable UTF-8, no control characters, 1-159 bytes */
	char remedy[256];  /* same, 0-255 bytes ("" stored as null) */
	char slot[8];      /* EMT A/B slot "a" or "b"; "" (null) if unknown */
	uint64_t time;     /* CLOCK_REALTIME seconds; 0 if unknown */
	char boot_id[37];  /* lower-case 8-4-4-4-12; "" (null) if unknown */
	char version[32];  /* edgeinit's version: [A-Za-z0-9.+~_-], 1-31 bytes */
};

struct failure_log {
	struct failure_record rec[FAILURE_RECORDS_MAX];
	size_t n;
	unsigned dropped; /* malformed lines refused, plus records pushed out by newer ones */
};

/* 0 if every field of r is within the rules above, -EINVAL if not. */
int failure_record_check(const struct failure_record *r);

/* Copy s into dst (size bytes) as a field value: control characters and invalid UTF-8 become
 * '?', and the copy is cut on a character boundary. For building a record from edgeinit's own
 * strings, which must pass failure_record_check(). */
void failure_text_copy(char *dst, size_t size, const char *s);

/* Parse text[0..len) (need not be NUL-terminated). log gets the valid records, oldest first (the
 * newest FAILURE_RECORDS_MAX if there are more); every other line is counted in log->dropped.
 * Returns 0, -E2BIG if len > FAILURE_LOG_MAX (nothing parsed), -EINVAL on bad arguments. */
int failure_log_parse(const char *text, size_t len, struct failure_log *log);

/* Append r (checked: -EINVAL) to log, pushing out the oldest record when full. */
int failure_log_add(struct failure_log *log, const struct failure_record *r);

/* r as one JSON object without a newline. Returns the length, -EINVAL, or -ENOSPC. */
int failure_record_format(const struct failure_record *r, char *buf, size_t size);

/* log as lines, newest last, in at most cap bytes: the oldest records that do not fit are left
 * out. Returns the length (0 for an empty log), -EINVAL, or -ENOSPC if size < cap + 1. */
int failure_log_format(const struct failure_log *log, size_t cap, char *buf, size_t size);

/* log as a JSON object {"format": 1, "count": N, "reports": [...]}, oldest first, without a
 * newline: what /run/edgeinit/last-failures.json and boot.json's previous_failures hold. When it
 * does not fit, the oldest records are left out (count says how many are shown). Returns the
 * length or -ENOSPC (size too small for even an empty list). */
int failure_log_format_json(const struct failure_log *log, char *buf, size_t size);
