/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Measured boot, the pure parts: phase words, bank digests, volume-key latch, log records. */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "edgeinit/json_out.h"
#include "edgeinit/measure.h"

static const char *const phases[_MEASURE_PHASE_MAX] = {
	[MEASURE_PHASE_ENTER_INITRD] = "enter-initrd",
	[MEASURE_PHASE_LEAVE_INITRD] = "leave-initrd",
	[MEASURE_PHASE_SYSINIT] = "sysinit",
	[MEASURE_PHASE_READY] = "ready",
	[MEASURE_PHASE_SHUTDOWN] = "shutdown",
	[MEASURE_PHASE_FINAL] = "final",
};

static const char *const event_types[_MEASURE_EVENT_MAX] = {
	[MEASURE_EVENT_PHASE] = "phase",
	[MEASURE_EVENT_FILESYSTEM] = "filesystem",
	[MEASURE_EVENT_VOLUME_KEY] = "volume-key",
	[MEASURE_EVENT_MACHINE_ID] = "machine-id",
};

const char *measure_phase_to_string(enum measure_phase p)
{
	return (unsigned)p < _MEASURE_PHASE_MAX ? phases[p] : NULL;
}

const char *measure_event_type_to_string(enum measure_event_type t)
{
	return t >= 0 && t < _MEASURE_EVENT_MAX ? event_types[t] : NULL;
}

void measure_string_digest(enum hash_alg alg, const char *s, uint8_t *out)
{
	hash_buffer(alg, s, strlen(s), out);
}

void measure_pcr_extend(enum hash_alg alg, uint8_t *pcr, const uint8_t *digest)
{
	struct hash_ctx c;
	size_t n = hash_digest_size(alg);

	hash_init(&c, alg);
	hash_update(&c, pcr, n);
	hash_update(&c, digest, n);
	hash_final(&c, pcr);
}

int measure_volume_key_description(const char *name, const char *uuid, char *out, size_t size)
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

#define PUT(ch)                              \
	do {                                 \
		if (o + 1 >= size)           \
			return -E2BIG;       \
		out[o++] = (ch);             \
	} while (0)

	if (!name || !*name || !uuid || size == 0)
		return -EINVAL;
	for (const char *p = "cryptsetup:"; *p; p++)
		PUT(*p);
	for (const unsigned char *p = (const unsigned char *)name; *p; p++) {
		if (*p < ' ' || *p >= 127 || *p == '\\' || *p == ':') {
			PUT('\\');
			PUT('x');
			PUT(hex[*p >> 4]);
			PUT(hex[*p & 15]);
		} else
			PUT((char)*p);
	}
	PUT(':');
	for (const char *p = uuid; *p; p++)
		PUT(*p);
#undef PUT
	out[o] = '\0';
	return (int)o;
}

int measure_volume_key_digest(enum hash_alg alg, const void *volume_key, size_t key_size,
			      const char *name, const char *uuid, uint8_t *out)
{
	char s[512];
	int n;

	if (!volume_key || key_size == 0)
		return -EINVAL;
	n = measure_volume_key_description(name, uuid, s, sizeof(s));
	if (n < 0)
		return n;
	hmac(alg, volume_key, key_size, s, (size_t)n, out);
	return 0;
}

/* A JSON string as systemd's JSON formatter writes it: '"' and '\\' escaped, control characters as
 * \b \f \n \r \t or \u00XX, valid UTF-8 passed through; invalid UTF-8 refused (systemd cannot
 * build such a string either). json_escape() of the report differs on both counts. */
static int put_json_string(struct json_out *o, const char *s)
{
	json_out_printf(o, "\"");
	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"': json_out_printf(o, "\\\""); continue;
		case '\\': json_out_printf(o, "\\\\"); continue;
		case '\b': json_out_printf(o, "\\b"); continue;
		case '\f': json_out_printf(o, "\\f"); continue;
		case '\n': json_out_printf(o, "\\n"); continue;
		case '\r': json_out_printf(o, "\\r"); continue;
		case '\t': json_out_printf(o, "\\t"); continue;
		default: break;
		}
		if (*p < 0x20) {
			json_out_printf(o, "\\u%04x", *p);
			continue;
		}
		if (*p >= 0x80) {
			/* Copy one UTF-8 sequence after checking it (RFC 3629). */
			size_t k = *p >= 0xf0 ? 4 : *p >= 0xe0 ? 3 : 2;
			unsigned cp = *p & (k == 2 ? 0x1f : k == 3 ? 0x0f : 0x07);

			if (*p < 0xc2 || *p > 0xf4)
				return -EINVAL;
			for (size_t i = 1; i < k; i++) {
				if ((p[i] & 0xc0) != 0x80)
					return -EINVAL;
				cp = cp << 6 | (p[i] & 0x3f);
			}
			if ((k == 3 && cp < 0x800) || (k == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
			    (cp >= 0xd800 && cp <= 0xdfff))
				return -EINVAL;
			json_out_printf(o, "%.*s", (int)k, (const char *)p);
			p += k - 1;
			continue;
		}
		json_out_printf(o, "%c", *p);
	}
	json_out_printf(o, "\"");
	return 0;
}

static void put_hex(struct json_out *o, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		json_out_printf(o, "%02x", b[i]);
}

int measure_log_record(const struct measure_record *r, char *out, size_t size)
{
	struct json_out o = JSON_OUT(out, size);
	int n;

	if (!r || !out || size == 0 || r->n_digests == 0 || !r->digests || r->pcr > 23)
		return -EINVAL;
	for (size_t i = 0; i < r->n_digests; i++)
		if (!hash_alg_to_string(r->digests[i].alg))
			return -EINVAL;
	if (r->event_type != MEASURE_EVENT_NONE && !measure_event_type_to_string(r->event_type))
		return -EINVAL;

	out[0] = '\0';
	json_out_printf(&o, "\x1e{\"pcr\":%u,\"digests\":[", r->pcr);
	for (size_t i = 0; i < r->n_digests; i++) {
		json_out_printf(&o, "%s{\"hashAlg\":\"%s\",\"digest\":\"", i > 0 ? "," : "",
		    hash_alg_to_string(r->digests[i].alg));
		put_hex(&o, r->digests[i].digest, hash_digest_size(r->digests[i].alg));
		json_out_printf(&o, "\"}");
	}
	json_out_printf(&o, "],\"content_type\":\"systemd\",\"content\":{");
	if (r->description) {
		json_out_printf(&o, "\"string\":");
		if (put_json_string(&o, r->description) < 0)
			return -EINVAL;
		json_out_printf(&o, ",");
	}
	json_out_printf(&o, "\"bootId\":\"");
	put_hex(&o, r->boot_id, sizeof(r->boot_id));
	json_out_printf(&o, "\",\"timestamp\":%" PRIu64, r->timestamp_usec);
	if (r->event_type != MEASURE_EVENT_NONE)
		json_out_printf(&o, ",\"eventType\":\"%s\"", measure_event_type_to_string(r->event_type));
	json_out_printf(&o, "}}\n");
	n = json_out_finish(&o);
	return n == -ENOSPC ? -E2BIG : n;
}
