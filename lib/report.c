/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/json_out.h"
#include "edgeinit/report.h"
#include "edgeinit/strutil.h"

int report_add_device(struct boot_report *r, const char *role, const char *ref, const char *node)
{
	struct report_device *d;

	if (r->n_devices >= REPORT_DEVICES_MAX)
		return -ENOSPC;
	d = &r->devices[r->n_devices++];
	str_copy(d->role, sizeof(d->role), role);
	str_copy(d->ref, sizeof(d->ref), ref);
	str_copy(d->node, sizeof(d->node), node);
	return 0;
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is not one. */
static size_t utf8_sequence_length(const unsigned char *s)
{
	size_t n;
	uint32_t c;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0)
		n = 2, c = s[0] & 0x1f;
	else if ((s[0] & 0xf0) == 0xe0)
		n = 3, c = s[0] & 0x0f;
	else if ((s[0] & 0xf8) == 0xf0)
		n = 4, c = s[0] & 0x07;
	else
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* No overlong forms, no surrogates, nothing above U+10FFFF. */
	if ((n == 2 && c < 0x80) || (n == 3 && c < 0x800) || (n == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	return n;
}

int json_escape(const char *s, char *buf, size_t size)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t n = 0;

	if (size == 0)
		return -ENOSPC;
	while (*p) {
		char tmp[8];
		size_t len, in = utf8_sequence_length(p);

		if (in == 0) /* not UTF-8: JSON cannot carry raw bytes */
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\ufffd"), in = 1;
		else if (*p == '"' || *p == '\\')
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", *p);
		else if (*p == '\n')
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\n");
		else if (*p < 0x20 || *p == 0x7f)
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", *p);
		else
			memcpy(tmp, p, in), len = in;
		if (n + len >= size)
			return -ENOSPC;
		memcpy(buf + n, tmp, len);
		n += len;
		p += in;
	}
	buf[n] = '\0';
	return (int)n;
}

static const char *stage_result_to_string(enum stage_result r)
{
	switch (r) {
	case STAGE_OK:
		return "ok";
	case STAGE_FAILED:
		return "failed";
	case STAGE_SKIPPED:
		return "skipped";
	default:
		return "not-run";
	}
}

int report_format_json(const struct boot_report *r, char *buf, size_t size)
{
	struct json_out o = JSON_OUT(buf, size);

	if (size == 0)
		return -ENOSPC;
	json_out_printf(&o, "{\"version\": ");
	json_out_string(&o, r->version);
	json_out_printf(&o, ", \"kernel\": ");
	json_out_string(&o, r->kernel);
	json_out_printf(&o, ", \"outcome\": ");
	json_out_string(&o, r->outcome ? r->outcome : "unknown");
	json_out_printf(&o, ", \"failed_stage\": ");
	json_out_string(&o, r->failed_stage);
	json_out_printf(&o, ", \"error\": ");
	json_out_string(&o, r->error[0] ? r->error : NULL);
	json_out_printf(&o, ", \"start_monotonic_us\": %" PRIu64 ", \"total_ms\": %" PRIu64 ".%03" PRIu64,
	     r->start_monotonic_us, r->total_us / 1000, r->total_us % 1000);
	json_out_printf(&o, ", \"stages\": [");
	for (size_t i = 0; i < r->n_stages; i++) {
		json_out_printf(&o, "%s{\"name\": ", i ? ", " : "");
		json_out_string(&o, r->stages[i].name);
		json_out_printf(&o, ", \"result\": \"%s\", \"ms\": %" PRIu64 ".%03" PRIu64 "}",
		     stage_result_to_string(r->stages[i].result), r->stages[i].duration_us / 1000,
		     r->stages[i].duration_us % 1000);
	}
	json_out_printf(&o, "], \"devices\": [");
	for (size_t i = 0; i < r->n_devices; i++) {
		json_out_printf(&o, "%s{\"role\": ", i ? ", " : "");
		json_out_string(&o, r->devices[i].role);
		json_out_printf(&o, ", \"ref\": ");
		json_out_string(&o, r->devices[i].ref);
		json_out_printf(&o, ", \"node\": ");
		json_out_string(&o, r->devices[i].node);
		json_out_printf(&o, "}");
	}
	json_out_printf(&o, "], \"layout\": {\"mounts\": %u, \"skipped\": %u, \"failed\": %u, \"seeded\": %u}",
	     r->layout_mounts, r->layout_skipped, r->layout_failed, r->layout_seeded);
	json_out_printf(&o, ", \"profile\": ");
	json_out_string(&o, r->profile);
	if (r->emt_mode) {
		json_out_printf(&o, ", \"emt\": {\"mode\": ");
		json_out_string(&o, r->emt_mode);
		json_out_printf(&o, ", \"slot\": ");
		json_out_string(&o, r->emt_slot[0] ? r->emt_slot : NULL);
		json_out_printf(&o, ", \"roothash_source\": ");
		json_out_string(&o, r->roothash_source);
		json_out_printf(&o, "}");
	}
	json_out_printf(&o, ", \"warning\": ");
	json_out_string(&o, r->warning[0] ? r->warning : NULL);
	/* Formatted by lib/failure.c from checked records, so it is inserted as it is. */
	json_out_printf(&o, ", \"previous_failures\": %s", r->previous_failures[0] ? r->previous_failures : "null");
	json_out_printf(&o, ", \"initramfs\": {\"freed_bytes\": %" PRIu64 ", \"entries_left\": %u}}\n",
	     r->initramfs_freed_bytes, r->initramfs_left_entries);
	return json_out_finish(&o);
}
