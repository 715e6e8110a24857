/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

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

int json_escape(const char *s, char *buf, size_t size)
{
	size_t n = 0;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char tmp[8];
		size_t len;

		if (c == '"' || c == '\\')
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\%c", c);
		else if (c == '\n')
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\n");
		else if (c < 0x20 || c == 0x7f)
			len = (size_t)snprintf(tmp, sizeof(tmp), "\\u%04x", c);
		else
			tmp[0] = (char)c, tmp[1] = '\0', len = 1;
		if (n + len >= size)
			return -ENOSPC;
		memcpy(buf + n, tmp, len);
		n += len;
	}
	if (size == 0)
		return -ENOSPC;
	buf[n] = '\0';
	return (int)n;
}

/* An output buffer that remembers overflow instead of failing at every step. */
struct out {
	char *buf;
	size_t size, len;
	bool overflow;
};

static void emit(struct out *o, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void emit(struct out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->overflow = true;
	else
		o->len += (size_t)n;
}

static void emit_string(struct out *o, const char *s)
{
	char esc[1024];

	if (!s) {
		emit(o, "null");
		return;
	}
	if (json_escape(s, esc, sizeof(esc)) < 0) {
		o->overflow = true;
		return;
	}
	emit(o, "\"%s\"", esc);
}

static const char *stage_result_to_string(enum stage_result r)
{
	return r == STAGE_OK ? "ok" : r == STAGE_FAILED ? "failed" : "not-run";
}

int report_format_json(const struct boot_report *r, char *buf, size_t size)
{
	struct out o = { .buf = buf, .size = size };

	if (size == 0)
		return -ENOSPC;
	emit(&o, "{\"version\": ");
	emit_string(&o, r->version);
	emit(&o, ", \"kernel\": ");
	emit_string(&o, r->kernel);
	emit(&o, ", \"outcome\": ");
	emit_string(&o, r->outcome ? r->outcome : "unknown");
	emit(&o, ", \"failed_stage\": ");
	emit_string(&o, r->failed_stage);
	emit(&o, ", \"error\": ");
	emit_string(&o, r->error[0] ? r->error : NULL);
	emit(&o, ", \"start_monotonic_us\": %" PRIu64 ", \"total_ms\": %" PRIu64 ".%03" PRIu64,
	     r->start_monotonic_us, r->total_us / 1000, r->total_us % 1000);
	emit(&o, ", \"stages\": [");
	for (size_t i = 0; i < r->n_stages; i++) {
		emit(&o, "%s{\"name\": ", i ? ", " : "");
		emit_string(&o, r->stages[i].name);
		emit(&o, ", \"result\": \"%s\", \"ms\": %" PRIu64 ".%03" PRIu64 "}",
		     stage_result_to_string(r->stages[i].result), r->stages[i].duration_us / 1000,
		     r->stages[i].duration_us % 1000);
	}
	emit(&o, "], \"devices\": [");
	for (size_t i = 0; i < r->n_devices; i++) {
		emit(&o, "%s{\"role\": ", i ? ", " : "");
		emit_string(&o, r->devices[i].role);
		emit(&o, ", \"ref\": ");
		emit_string(&o, r->devices[i].ref);
		emit(&o, ", \"node\": ");
		emit_string(&o, r->devices[i].node);
		emit(&o, "}");
	}
	emit(&o, "], \"initramfs\": {\"freed_bytes\": %" PRIu64 ", \"entries_left\": %u}}\n",
	     r->initramfs_freed_bytes, r->initramfs_left_entries);
	if (o.overflow)
		return -ENOSPC;
	return (int)o.len;
}
