/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Failure reports (include/edgeinit/failure.h): the checks, the line parser, the formatters. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "edgeinit/failure.h"
#include "edgeinit/json.h"
#include "edgeinit/json_out.h"
#include "edgeinit/macro.h"

/* JSON's exact integers: the schema says so too. */
#define FAILURE_TIME_MAX ((UINT64_C(1) << 53) - 1)
/* A record has 8 members: 1 object + 8 keys + 8 values, and room for a few more to refuse. */
#define FAILURE_NODES_MAX 32

static bool in_set(char c, const char *extra)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c && strchr(extra, c));
}

static bool word_ok(const char *s, size_t size, const char *extra, bool empty_ok)
{
	size_t n = strnlen(s, size);

	if (n >= size || (n == 0 && !empty_ok))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!in_set(s[i], extra))
			return false;
	return true;
}

/* Printable ASCII only: what edgeinit writes, and nothing that could steer a terminal. */
static bool text_ok(const char *s, size_t size, bool empty_ok)
{
	size_t n = strnlen(s, size);

	if (n >= size || (n == 0 && !empty_ok))
		return false;
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7e)
			return false;
	return true;
}

static bool boot_id_ok(const char *s)
{
	if (!s[0])
		return true;
	if (strnlen(s, 37) != 36)
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	}
	return true;
}

int failure_record_check(const struct failure_record *r)
{
	if (!r || !word_ok(r->stage, sizeof(r->stage), "-", false) ||
	    !text_ok(r->message, sizeof(r->message), false) || !text_ok(r->remedy, sizeof(r->remedy), true) ||
	    !word_ok(r->slot, sizeof(r->slot), "-", true) || r->time > FAILURE_TIME_MAX ||
	    !boot_id_ok(r->boot_id) ||
	    !word_ok(r->version, sizeof(r->version), "ABCDEFGHIJKLMNOPQRSTUVWXYZ.+~_-", false))
		return -EINVAL;
	return 0;
}

void failure_text_copy(char *dst, size_t size, const char *s)
{
	size_t i = 0;

	if (size == 0)
		return;
	for (; s && s[i] && i + 1 < size; i++)
		dst[i] = s[i] >= 0x20 && s[i] <= 0x7e ? s[i] : '?';
	dst[i] = '\0';
}

/* A string member into buf, or "" for null when null_ok. false if it is neither. */
static bool get_string(const struct json_doc *d, const char *key, bool null_ok, char *buf, size_t size)
{
	int i = json_doc_member(d, 0, key);

	if (i < 0)
		return false;
	if (d->nodes[i].type == JSON_NULL && null_ok) {
		buf[0] = '\0';
		return true;
	}
	return json_doc_string(d, (uint32_t)i, buf, size) >= 0;
}

static const char *const members[] = {
	"format", "stage", "message", "remedy", "slot", "time", "boot_id", "version",
};

static int parse_line(const char *line, size_t len, struct failure_record *r)
{
	static const struct json_limits limits = { .max_len = FAILURE_LINE_MAX, .max_depth = 1 };
	struct json_node nodes[FAILURE_NODES_MAX];
	struct json_doc d;
	uint64_t v;
	int i, ret = -EBADMSG;

	if (json_doc_parse(line, len, &limits, nodes, ELEMENTSOF(nodes), &d, NULL) < 0)
		return -EBADMSG;
	*r = (struct failure_record){ 0 };
	if (d.nodes[0].type != JSON_OBJECT || d.nodes[0].children != ELEMENTSOF(members))
		goto out;
	/* Exactly the known members (no duplicates: the parser refuses them). */
	for (size_t k = 0; k < ELEMENTSOF(members); k++)
		if (json_doc_member(&d, 0, members[k]) < 0)
			goto out;
	i = json_doc_member(&d, 0, "format");
	if (json_doc_uint(&d, (uint32_t)i, FAILURE_FORMAT, &v) < 0 || v != FAILURE_FORMAT)
		goto out;
	i = json_doc_member(&d, 0, "time");
	if (json_doc_uint(&d, (uint32_t)i, FAILURE_TIME_MAX, &r->time) < 0)
		goto out;
	if (!get_string(&d, "stage", false, r->stage, sizeof(r->stage)) ||
	    !get_string(&d, "message", false, r->message, sizeof(r->message)) ||
	    !get_string(&d, "remedy", true, r->remedy, sizeof(r->remedy)) ||
	    !get_string(&d, "slot", true, r->slot, sizeof(r->slot)) ||
	    !get_string(&d, "boot_id", true, r->boot_id, sizeof(r->boot_id)) ||
	    !get_string(&d, "version", false, r->version, sizeof(r->version)))
		goto out;
	ret = failure_record_check(r) < 0 ? -EBADMSG : 0;
out:
	json_doc_free(&d);
	if (ret < 0)
		*r = (struct failure_record){ 0 };
	return ret;
}

int failure_log_add(struct failure_log *log, const struct failure_record *r)
{
	if (!log || failure_record_check(r) < 0)
		return -EINVAL;
	if (log->n == FAILURE_RECORDS_MAX) {
		memmove(&log->rec[0], &log->rec[1], sizeof(log->rec[0]) * (FAILURE_RECORDS_MAX - 1));
		log->n--;
		log->dropped++;
	}
	log->rec[log->n++] = *r;
	return 0;
}

int failure_log_parse(const char *text, size_t len, struct failure_log *log)
{
	size_t pos = 0;

	if (!log || (!text && len))
		return -EINVAL;
	*log = (struct failure_log){ 0 };
	if (len > FAILURE_LOG_MAX)
		return -E2BIG;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		struct failure_record r;

		/* A line without its newline was cut short: refused like any other bad line. */
		if (!nl || n == 0 || n > FAILURE_LINE_MAX || parse_line(text + pos, n, &r) < 0)
			log->dropped += n > 0 || !nl;
		else
			(void)failure_log_add(log, &r);
		pos += n + (nl ? 1 : 0);
	}
	return 0;
}

int failure_record_format(const struct failure_record *r, char *buf, size_t size)
{
	struct json_out o = JSON_OUT(buf, size);

	if (failure_record_check(r) < 0)
		return -EINVAL;
	if (size == 0)
		return -ENOSPC;
	json_out_printf(&o, "{\"format\": %d, \"stage\": ", FAILURE_FORMAT);
	json_out_string(&o, r->stage);
	json_out_printf(&o, ", \"message\": ");
	json_out_string(&o, r->message);
	json_out_printf(&o, ", \"remedy\": ");
	json_out_string(&o, r->remedy[0] ? r->remedy : NULL);
	json_out_printf(&o, ", \"slot\": ");
	json_out_string(&o, r->slot[0] ? r->slot : NULL);
	json_out_printf(&o, ", \"time\": %" PRIu64 ", \"boot_id\": ", r->time);
	json_out_string(&o, r->boot_id[0] ? r->boot_id : NULL);
	json_out_printf(&o, ", \"version\": ");
	json_out_string(&o, r->version);
	json_out_printf(&o, "}");
	return json_out_finish(&o);
}

int failure_log_format(const struct failure_log *log, size_t cap, char *buf, size_t size)
{
	char line[FAILURE_LINE_MAX + 1];
	size_t first = 0, total;
	int n;

	if (!log || !buf || log->n > FAILURE_RECORDS_MAX)
		return -EINVAL;
	if (size < cap + 1)
		return -ENOSPC;
	/* From the newest back: the first record that no longer fits, and every older one, stay out. */
	total = 0;
	for (size_t i = log->n; i > 0; i--) {
		n = failure_record_format(&log->rec[i - 1], line, sizeof(line));
		if (n < 0)
			return n == -ENOSPC ? -EINVAL : n;
		if (total + (size_t)n + 1 > cap) {
			first = i;
			break;
		}
		total += (size_t)n + 1;
	}
	total = 0;
	for (size_t i = first; i < log->n; i++) {
		n = failure_record_format(&log->rec[i], buf + total, size - total);
		if (n < 0)
			return n;
		total += (size_t)n;
		buf[total++] = '\n';
	}
	buf[total] = '\0';
	return (int)total;
}

int failure_log_format_json(const struct failure_log *log, char *buf, size_t size)
{
	size_t first = 0;

	if (!log || !buf || log->n > FAILURE_RECORDS_MAX)
		return -EINVAL;
	/* Leave out the oldest until the rest fits. */
	for (first = 0; first <= log->n; first++) {
		struct json_out o = JSON_OUT(buf, size);

		json_out_printf(&o, "{\"format\": %d, \"count\": %zu, \"reports\": [", FAILURE_FORMAT,
				log->n - first);
		for (size_t i = first; i < log->n; i++) {
			char line[FAILURE_LINE_MAX + 1];
			int n = failure_record_format(&log->rec[i], line, sizeof(line));

			if (n < 0)
				return -EINVAL;
			json_out_printf(&o, "%s%s", i > first ? ", " : "", line);
		}
		json_out_printf(&o, "]}");
		if (size > 0) {
			int n = json_out_finish(&o);

			if (n >= 0)
				return n;
		}
	}
	return -ENOSPC;
}
