/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edgeinit/report.h"
#include "suites.h"

/* ======================= a tiny strict JSON (RFC 8259) checker ======================= */

struct json {
	const char *p, *end;
	int depth;
};

static bool j_value(struct json *j);

static void j_ws(struct json *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r'))
		j->p++;
}

static bool j_lit(struct json *j, const char *lit)
{
	size_t n = strlen(lit);

	if ((size_t)(j->end - j->p) < n || memcmp(j->p, lit, n) != 0)
		return false;
	j->p += n;
	return true;
}

static bool is_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* One UTF-8 sequence starting at j->p (already known to be >= 0x80). */
static bool j_utf8(struct json *j)
{
	unsigned char c = (unsigned char)*j->p;
	int n = c >= 0xc2 && c <= 0xdf ? 1 : c >= 0xe0 && c <= 0xef ? 2 : c >= 0xf0 && c <= 0xf4 ? 3 : -1;

	if (n < 0 || j->end - j->p <= n)
		return false;
	for (int i = 1; i <= n; i++)
		if (((unsigned char)j->p[i] & 0xc0) != 0x80)
			return false;
	j->p += n + 1;
	return true;
}

static bool j_string(struct json *j)
{
	if (!j_lit(j, "\""))
		return false;
	while (j->p < j->end) {
		unsigned char c = (unsigned char)*j->p;

		if (c == '"') {
			j->p++;
			return true;
		}
		if (c < 0x20)
			return false;
		if (c == '\\') {
			j->p++;
			if (j->p >= j->end)
				return false;
			if (strchr("\"\\/bfnrt", *j->p) && *j->p) {
				j->p++;
			} else if (*j->p == 'u') {
				if (j->end - j->p < 5)
					return false;
				for (int i = 1; i <= 4; i++)
					if (!is_hex(j->p[i]))
						return false;
				j->p += 5;
			} else
				return false;
		} else if (c >= 0x80) {
			if (!j_utf8(j))
				return false;
		} else
			j->p++;
	}
	return false;
}

static bool j_number(struct json *j)
{
	const char *start;

	if (j->p < j->end && *j->p == '-')
		j->p++;
	if (j->p >= j->end)
		return false;
	if (*j->p == '0')
		j->p++;
	else if (*j->p >= '1' && *j->p <= '9')
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
	else
		return false;
	if (j->p < j->end && *j->p == '.') {
		start = ++j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == start)
			return false;
	}
	if (j->p < j->end && (*j->p == 'e' || *j->p == 'E')) {
		j->p++;
		if (j->p < j->end && (*j->p == '+' || *j->p == '-'))
			j->p++;
		start = j->p;
		while (j->p < j->end && *j->p >= '0' && *j->p <= '9')
			j->p++;
		if (j->p == start)
			return false;
	}
	return true;
}

static bool j_container(struct json *j, char open, char close, bool object)
{
	if (!j_lit(j, (char[]){ open, 0 }) || ++j->depth > 64)
		return false;
	j_ws(j);
	if (j->p < j->end && *j->p == close) {
		j->p++;
		j->depth--;
		return true;
	}
	for (;;) {
		j_ws(j);
		if (object) {
			if (!j_string(j))
				return false;
			j_ws(j);
			if (!j_lit(j, ":"))
				return false;
		}
		if (!j_value(j))
			return false;
		j_ws(j);
		if (j->p < j->end && *j->p == ',') {
			j->p++;
			continue;
		}
		if (j->p < j->end && *j->p == close) {
			j->p++;
			j->depth--;
			return true;
		}
		return false;
	}
}

static bool j_value(struct json *j)
{
	j_ws(j);
	if (j->p >= j->end)
		return false;
	switch (*j->p) {
	case '{':
		return j_container(j, '{', '}', true);
	case '[':
		return j_container(j, '[', ']', false);
	case '"':
		return j_string(j);
	case 't':
		return j_lit(j, "true");
	case 'f':
		return j_lit(j, "false");
	case 'n':
		return j_lit(j, "null");
	default:
		return j_number(j);
	}
}

/* A whole document: exactly one value, optionally surrounded by whitespace. */
static bool json_valid(const char *s, size_t len)
{
	struct json j = { .p = s, .end = s + len };

	if (!j_value(&j))
		return false;
	j_ws(&j);
	return j.p == j.end;
}

#define JS(s) s, sizeof(s) - 1

START_TEST(test_json_checker_itself)
{
	/* The checker must be able to fail, or the tests that use it prove nothing. */
	ck_assert(json_valid(JS("{}")));
	ck_assert(json_valid(JS("{\"a\": [1, 2.50, -0, 1e5, true, false, null, \"\\u00e9\\n\"]}\n")));
	ck_assert(json_valid(JS("\"caf\xc3\xa9\"")));
	ck_assert(!json_valid(JS("")));
	ck_assert(!json_valid(JS("{")));
	ck_assert(!json_valid(JS("{\"a\": 1,}")));
	ck_assert(!json_valid(JS("{\"a\" 1}")));
	ck_assert(!json_valid(JS("{a: 1}")));
	ck_assert(!json_valid(JS("[1 2]")));
	ck_assert(!json_valid(JS("\"tab\there\"")));
	ck_assert(!json_valid(JS("\"bad \\x escape\"")));
	ck_assert(!json_valid(JS("\"unterminated")));
	ck_assert(!json_valid(JS("01")));
	ck_assert(!json_valid(JS("1.")));
	ck_assert(!json_valid(JS("{} {}")));
	ck_assert(!json_valid(JS("\"\xc3\"")));
	ck_assert(!json_valid(JS("\"\xff\"")));
}
END_TEST

/* ======================= json_escape ======================= */

static const struct {
	const char *in;
	const char *out;
} escape_cases[] = {
	{ "", "" },
	{ "plain text", "plain text" },
	{ "a\"b", "a\\\"b" },
	{ "back\\slash", "back\\\\slash" },
	{ "line\nbreak", "line\\nbreak" },
	{ "\t", "\\u0009" },
	{ "\r\n", "\\u000d\\n" },
	{ "\x01", "\\u0001" },
	{ "\x1f", "\\u001f" },
	{ "\x7f", "\\u007f" },
	{ " ~/", " ~/" },
	{ "caf\xc3\xa9 \xe2\x82\xac", "caf\xc3\xa9 \xe2\x82\xac" }, /* UTF-8 passes through */
	{ "\"\\\"", "\\\"\\\\\\\"" },
	{ "PARTLABEL=rootfs", "PARTLABEL=rootfs" },
};

START_TEST(test_escape_table)
{
	char buf[64];
	size_t len = strlen(escape_cases[_i].out);

	memset(buf, 'X', sizeof(buf));
	ck_assert_int_eq(json_escape(escape_cases[_i].in, buf, sizeof(buf)), (int)len);
	ck_assert_str_eq(buf, escape_cases[_i].out);

	/* Exactly enough room, then one byte too little. */
	memset(buf, 'X', sizeof(buf));
	ck_assert_int_eq(json_escape(escape_cases[_i].in, buf, len + 1), (int)len);
	ck_assert_str_eq(buf, escape_cases[_i].out);
	memset(buf, 'X', sizeof(buf));
	ck_assert_int_eq(json_escape(escape_cases[_i].in, buf, len), -ENOSPC);
	for (size_t i = len; i < sizeof(buf); i++)
		ck_assert_int_eq(buf[i], 'X'); /* nothing written past size */

	/* Every escaped string is a valid JSON string once quoted. */
	{
		char quoted[80];
		int n = snprintf(quoted, sizeof(quoted), "\"%s\"", escape_cases[_i].out);
		ck_assert(json_valid(quoted, (size_t)n));
	}
}
END_TEST

START_TEST(test_escape_all_bytes)
{
	char in[256], out[256 * 6 + 1];
	int n;

	for (int i = 1; i < 128; i++)
		in[i - 1] = (char)i;
	in[127] = '\0';
	n = json_escape(in, out, sizeof(out));
	ck_assert_int_gt(n, 127);
	ck_assert_uint_eq(strlen(out), (size_t)n);
	{
		char quoted[sizeof(out) + 2];
		int q = snprintf(quoted, sizeof(quoted), "\"%s\"", out);
		ck_assert(json_valid(quoted, (size_t)q));
	}
	ck_assert_int_eq(json_escape("x", out, 0), -ENOSPC);
	ck_assert_int_eq(json_escape("", out, 0), -ENOSPC);
}
END_TEST

/* ======================= report_add_device ======================= */

START_TEST(test_add_device)
{
	static struct boot_report r;
	char role[16], longref[400];

	memset(&r, 0, sizeof(r));
	for (int i = 0; i < REPORT_DEVICES_MAX; i++) {
		snprintf(role, sizeof(role), "role%d", i);
		ck_assert_int_eq(report_add_device(&r, role, "PARTLABEL=rootfs", "/dev/vda3"), 0);
		ck_assert_uint_eq(r.n_devices, (size_t)i + 1);
		ck_assert_str_eq(r.devices[i].role, role);
		ck_assert_str_eq(r.devices[i].ref, "PARTLABEL=rootfs");
		ck_assert_str_eq(r.devices[i].node, "/dev/vda3");
	}
	ck_assert_int_eq(report_add_device(&r, "extra", "x", "y"), -ENOSPC);
	ck_assert_uint_eq(r.n_devices, REPORT_DEVICES_MAX);
	snprintf(role, sizeof(role), "role%d", REPORT_DEVICES_MAX - 1);
	ck_assert_str_eq(r.devices[REPORT_DEVICES_MAX - 1].role, role);

	/* Long strings are cut to the field, terminated. */
	memset(&r, 0, sizeof(r));
	memset(longref, 'r', sizeof(longref) - 1);
	longref[sizeof(longref) - 1] = '\0';
	ck_assert_int_eq(report_add_device(&r, longref, longref, longref), 0);
	ck_assert_uint_eq(strlen(r.devices[0].role), sizeof(r.devices[0].role) - 1);
	ck_assert_uint_eq(strlen(r.devices[0].ref), sizeof(r.devices[0].ref) - 1);
	ck_assert_uint_eq(strlen(r.devices[0].node), sizeof(r.devices[0].node) - 1);
}
END_TEST

/* ======================= report_format_json ======================= */

static void small_report(struct boot_report *r)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->version, sizeof(r->version), "1.2.3");
	snprintf(r->kernel, sizeof(r->kernel), "6.6.51.1-2.azl3");
	r->start_monotonic_us = 1234567;
	r->total_us = 2500123;
	r->stages[0] = (struct report_stage){ "modules", STAGE_OK, 1500 };
	r->stages[1] = (struct report_stage){ "verity", STAGE_FAILED, 12 };
	r->stages[2] = (struct report_stage){ "switch_root", STAGE_NOT_RUN, 0 };
	r->n_stages = 3;
	ck_assert_int_eq(report_add_device(r, "verity-data", "PARTLABEL=rootfs", "/dev/vda3"), 0);
	r->outcome = "failed";
	r->failed_stage = "verity";
	snprintf(r->error, sizeof(r->error), "root hash mismatch: \"abc\"\n");
	r->initramfs_freed_bytes = 1048576;
	r->initramfs_left_entries = 3;
}

static const char small_expected[] =
	"{\"version\": \"1.2.3\", \"kernel\": \"6.6.51.1-2.azl3\", \"outcome\": \"failed\", "
	"\"failed_stage\": \"verity\", \"error\": \"root hash mismatch: \\\"abc\\\"\\n\", "
	"\"start_monotonic_us\": 1234567, \"total_ms\": 2500.123, \"stages\": ["
	"{\"name\": \"modules\", \"result\": \"ok\", \"ms\": 1.500}, "
	"{\"name\": \"verity\", \"result\": \"failed\", \"ms\": 0.012}, "
	"{\"name\": \"switch_root\", \"result\": \"not-run\", \"ms\": 0.000}], "
	"\"devices\": [{\"role\": \"verity-data\", \"ref\": \"PARTLABEL=rootfs\", \"node\": \"/dev/vda3\"}], "
	"\"layout\": {\"mounts\": 0, \"skipped\": 0, \"failed\": 0, \"seeded\": 0}, "
	"\"profile\": null, \"warning\": null, \"previous_failures\": null, "
	"\"initramfs\": {\"freed_bytes\": 1048576, \"entries_left\": 3}}\n";

START_TEST(test_format_small)
{
	struct boot_report r;
	char buf[4096];
	int n;

	small_report(&r);
	n = report_format_json(&r, buf, sizeof(buf));
	ck_assert_int_eq(n, (int)strlen(small_expected));
	ck_assert_str_eq(buf, small_expected);
	ck_assert(json_valid(buf, (size_t)n));
}
END_TEST

/* The failures stage's object goes in as it is (lib/failure.c formatted it from checked records). */
START_TEST(test_format_previous_failures)
{
	struct boot_report r;
	char buf[4096];
	int n;

	small_report(&r);
	snprintf(r.previous_failures, sizeof(r.previous_failures), "{\"format\": 1, \"count\": 0, \"reports\": []}");
	n = report_format_json(&r, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_ptr_nonnull(strstr(buf, ", \"previous_failures\": {\"format\": 1, \"count\": 0, \"reports\": []}, \"initramfs\""));
	ck_assert(json_valid(buf, (size_t)n));
}
END_TEST

START_TEST(test_format_empty)
{
	static const char expected[] =
		"{\"version\": \"\", \"kernel\": \"\", \"outcome\": \"unknown\", \"failed_stage\": null, "
		"\"error\": null, \"start_monotonic_us\": 0, \"total_ms\": 0.000, \"stages\": [], "
		"\"devices\": [], \"layout\": {\"mounts\": 0, \"skipped\": 0, \"failed\": 0, \"seeded\": 0}, "
		"\"profile\": null, \"warning\": null, \"previous_failures\": null, "
		"\"initramfs\": {\"freed_bytes\": 0, \"entries_left\": 0}}\n";
	struct boot_report r;
	char buf[1024];

	memset(&r, 0, sizeof(r));
	ck_assert_int_eq(report_format_json(&r, buf, sizeof(buf)), (int)strlen(expected));
	ck_assert_str_eq(buf, expected);

	/* A successful boot. */
	r.outcome = "ok";
	r.total_us = 999;
	ck_assert_int_gt(report_format_json(&r, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"outcome\": \"ok\", \"failed_stage\": null, \"error\": null"));
	ck_assert_ptr_nonnull(strstr(buf, "\"total_ms\": 0.999,"));

	/* An EMT boot. */
	r.profile = "emt";
	r.emt_mode = "verity";
	r.emt_slot[0] = 'b';
	r.roothash_source = "roothash-partition-unauthenticated";
	snprintf(r.warning, sizeof(r.warning), "put roothash=\"x\" on the command line");
	ck_assert_int_gt(report_format_json(&r, buf, sizeof(buf)), 0);
	ck_assert_ptr_nonnull(strstr(buf, "\"profile\": \"emt\", \"emt\": {\"mode\": \"verity\", \"slot\": \"b\", "
					  "\"roothash_source\": \"roothash-partition-unauthenticated\"}, "
					  "\"warning\": \"put roothash=\\\"x\\\" on the command line\""));
	ck_assert(json_valid(buf, strlen(buf)));
}
END_TEST

/* Every buffer size up to the length fails with -ENOSPC without writing past size; one more
 * byte is enough. */
START_TEST(test_format_enospc)
{
	struct boot_report r;
	char buf[4096];
	size_t len = strlen(small_expected);

	small_report(&r);
	ck_assert_int_eq(report_format_json(&r, buf, 0), -ENOSPC);
	for (size_t size = 1; size <= len; size++) {
		memset(buf, 'X', sizeof(buf));
		ck_assert_msg(report_format_json(&r, buf, size) == -ENOSPC, "size %zu", size);
		for (size_t i = size; i < len + 2; i++)
			ck_assert_msg(buf[i] == 'X', "size %zu: byte %zu written", size, i);
	}
	memset(buf, 'X', sizeof(buf));
	ck_assert_int_eq(report_format_json(&r, buf, len + 1), (int)len);
	ck_assert_str_eq(buf, small_expected);
}
END_TEST

static void big_report(struct boot_report *r)
{
	static const char *const names[REPORT_STAGES_MAX] = {
		"mount-api", "cmdline", "modules", "udev\"ish", "devices", "tpm\\pcr", "verity\topen",
		"verity-check", "mount-root", "persist", "overlay", "report", "free-initramfs",
		"caf\xc3\xa9", "switch_root", "\x01\x02\x1f\x7f",
	};
	char ref[300];

	memset(r, 0, sizeof(*r));
	snprintf(r->version, sizeof(r->version), "v0.1.0-\"dirty\"\\");
	memset(r->kernel, 'k', sizeof(r->kernel) - 1);
	r->start_monotonic_us = UINT64_MAX;
	r->total_us = UINT64_MAX;
	for (size_t i = 0; i < REPORT_STAGES_MAX; i++)
		r->stages[i] = (struct report_stage){ names[i], (enum stage_result)(i % 3), i * 1000003 };
	r->n_stages = REPORT_STAGES_MAX;
	for (int i = 0; i < REPORT_DEVICES_MAX; i++) {
		memset(ref, '"', sizeof(ref) - 1); /* escaped: 598 bytes */
		ref[sizeof(ref) - 1] = '\0';
		ref[i] = '\n';
		ck_assert_int_eq(report_add_device(r, "verity-hash\t", ref, "/dev/disk/\x1b[0m"), 0);
	}
	r->outcome = "failed";
	r->failed_stage = "verity\\check";
	for (size_t i = 0; i < sizeof(r->error) - 1; i++)
		r->error[i] = "ab\"\\\n c"[i % 7];
	r->initramfs_freed_bytes = UINT64_MAX;
	r->initramfs_left_entries = 4294967295u;
}

START_TEST(test_format_big_valid_json)
{
	static struct boot_report r;
	static char buf[65536];
	char path[] = "/tmp/edgeinit-unit-report-XXXXXX", cmd[256];
	int n, fd, status;

	big_report(&r);
	n = report_format_json(&r, buf, sizeof(buf));
	ck_assert_int_gt(n, 0);
	ck_assert_uint_eq(strlen(buf), (size_t)n);
	ck_assert_int_eq(buf[n - 1], '\n');
	ck_assert(json_valid(buf, (size_t)n));
	ck_assert_ptr_nonnull(strstr(buf, "\"start_monotonic_us\": 18446744073709551615, "
					  "\"total_ms\": 18446744073709551.615"));
	ck_assert_ptr_nonnull(strstr(buf, "\"entries_left\": 4294967295}}\n"));

	/* Cross-check with Python's json module (python3 is a build dependency, tools/deps.sh). */
	ck_assert_msg(access("/usr/bin/python3", X_OK) == 0, "/usr/bin/python3 not found (tools/deps.sh installs it)");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, buf, (size_t)n), n);
	close(fd);
	snprintf(cmd, sizeof(cmd),
		 "/usr/bin/python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); "
		 "assert len(d[\"stages\"]) == 16 and len(d[\"devices\"]) == 24 and d[\"stages\"][13][\"name\"] == \"caf\\u00e9\"' %s",
		 path);
	status = system(cmd);
	unlink(path);
	ck_assert_msg(status == 0, "python3 json.load rejected the report (status %d)", status);
}
END_TEST

/* A field whose escaped form is long (each control character becomes \u00XX) must still fit
 * when the caller's buffer is big enough. */
/* JSON cannot carry raw bytes: invalid UTF-8 becomes U+FFFD, valid UTF-8 passes. */
START_TEST(test_escape_invalid_utf8)
{
	char buf[64];

	ck_assert_int_gt(json_escape("a\xc3\xa9" "b", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "a\xc3\xa9" "b");
	ck_assert_int_gt(json_escape("x\xc3(y\xff\xe2\x82", buf, sizeof(buf)), 0);
	ck_assert_str_eq(buf, "x\\ufffd(y\\ufffd\\ufffd\\ufffd");
	ck_assert_int_gt(json_escape("\xed\xa0\x80", buf, sizeof(buf)), 0); /* a surrogate */
	ck_assert_str_eq(buf, "\\ufffd\\ufffd\\ufffd");
}
END_TEST

START_TEST(test_format_long_escaped_error)
{
	static struct boot_report r;
	static char buf[65536];
	int n;

	small_report(&r);
	memset(r.error, '\t', 200);
	r.error[200] = '\0';
	n = report_format_json(&r, buf, sizeof(buf));
	ck_assert_msg(n > 0, "report_format_json() = %d with a %zu-byte buffer", n, sizeof(buf));
	ck_assert(json_valid(buf, (size_t)n));
	ck_assert_ptr_nonnull(strstr(buf, "\\u0009\\u0009\", \"start_monotonic_us\""));
}
END_TEST

#define N(a) ((int)(sizeof(a) / sizeof((a)[0])))

Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *tc = tcase_create("core");

	tcase_add_test(tc, test_json_checker_itself);
	tcase_add_loop_test(tc, test_escape_table, 0, N(escape_cases));
	tcase_add_test(tc, test_escape_all_bytes);
	tcase_add_test(tc, test_add_device);
	tcase_add_test(tc, test_format_small);
	tcase_add_test(tc, test_format_empty);
	tcase_add_test(tc, test_format_enospc);
	tcase_add_test(tc, test_format_big_valid_json);
	tcase_add_test(tc, test_format_long_escaped_error);
	tcase_add_test(tc, test_escape_invalid_utf8);
	tcase_add_test(tc, test_format_previous_failures);
	suite_add_tcase(s, tc);
	return s;
}
