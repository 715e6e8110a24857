/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Writing JSON (and other text) into a caller's fixed buffer: the buffer remembers overflow, so
 * a formatter writes everything and checks once at the end. Used by the boot report, the layout
 * plan and the measurement log. */
#pragma once

#include <stdbool.h>
#include <stddef.h>

#include "edgeinit/macro.h"

struct json_out {
	char *buf;
	size_t size, len;
	bool overflow;
};

#define JSON_OUT(b, s) ((struct json_out){ .buf = (b), .size = (s) })

/* Append printf-formatted text. */
void json_out_printf(struct json_out *o, const char *fmt, ...) _printf_(2, 3);
/* Append s as a JSON string, quoted and escaped (json_escape()), or null for NULL. */
void json_out_string(struct json_out *o, const char *s);
/* Append `, "key": <string>`. */
void json_out_field(struct json_out *o, const char *key, const char *value);
/* The length written, or -ENOSPC (the buffer then holds an empty string). */
int json_out_finish(struct json_out *o);
