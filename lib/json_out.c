/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>

#include "edgeinit/json_out.h"
#include "edgeinit/report.h"

void json_out_printf(struct json_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->overflow)
		return;
	if (o->len >= o->size) {
		o->overflow = true;
		return;
	}
	va_start(ap, fmt);
	n = vsnprintf(o->buf + o->len, o->size - o->len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= o->size - o->len)
		o->overflow = true;
	else
		o->len += (size_t)n;
}

void json_out_string(struct json_out *o, const char *s)
{
	int n;

	if (!s) {
		json_out_printf(o, "null");
		return;
	}
	json_out_printf(o, "\"");
	if (o->overflow)
		return;
	/* Escape straight into the output: a field's escaped form can be 6x its length. */
	n = json_escape(s, o->buf + o->len, o->size - o->len);
	if (n < 0) {
		o->overflow = true;
		return;
	}
	o->len += (size_t)n;
	json_out_printf(o, "\"");
}

void json_out_field(struct json_out *o, const char *key, const char *value)
{
	json_out_printf(o, ", \"%s\": ", key);
	json_out_string(o, value);
}

int json_out_finish(struct json_out *o)
{
	if (o->overflow) {
		if (o->size > 0)
			o->buf[0] = '\0';
		return -ENOSPC;
	}
	return (int)o->len;
}
