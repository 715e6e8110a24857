/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict recursive-descent JSON parser into a caller-provided node array. */
#include <errno.h>
#include <string.h>

#include "edgeinit/json.h"

struct parser {
	const char *s;
	size_t len, pos;
	struct json_node *nodes;
	size_t n, max_nodes;
	unsigned max_depth;
	struct json_error *err;
};

static int fail(struct parser *p, int r, const char *message)
{
	if (p->err) {
		p->err->offset = p->pos;
		p->err->message = message;
	}
	return r;
}

static void skip_ws(struct parser *p)
{
	while (p->pos < p->len &&
	       (p->s[p->pos] == ' ' || p->s[p->pos] == '\t' || p->s[p->pos] == '\n' || p->s[p->pos] == '\r'))
		p->pos++;
}

static int hex4(const char *s, uint32_t *ret)
{
	uint32_t v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (uint32_t)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (uint32_t)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (uint32_t)(c - 'A' + 10);
		else
			return -EBADMSG;
	}
	*ret = v;
	return 0;
}

/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 if invalid (RFC 3629 table). */
static size_t utf8_valid(const uint8_t *s, size_t n)
{
	uint8_t c = s[0];
	size_t k;
	uint8_t lo = 0x80, hi = 0xbf;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		k = 2;
	else if (c >= 0xe0 && c <= 0xef) {
		k = 3;
		if (c == 0xe0)
			lo = 0xa0; /* overlong */
		else if (c == 0xed)
			hi = 0x9f; /* surrogates */
	} else if (c >= 0xf0 && c <= 0xf4) {
		k = 4;
		if (c == 0xf0)
			lo = 0x90; /* overlong */
		else if (c == 0xf4)
			hi = 0x8f; /* > U+10FFFF */
	} else
		return 0;
	if (n < k || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < k; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return k;
}

static size_t utf8_put(uint32_t cp, uint8_t out[4])
{
	if (cp < 0x80) {
		out[0] = (uint8_t)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (uint8_t)(0xc0 | cp >> 6);
		out[1] = (uint8_t)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (uint8_t)(0xe0 | cp >> 12);
		out[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
		out[2] = (uint8_t)(0x80 | (cp & 0x3f));
		return 3;
	}
	out[0] = (uint8_t)(0xf0 | cp >> 18);
	out[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
	out[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
	out[3] = (uint8_t)(0x80 | (cp & 0x3f));
	return 4;
}

/* Decode one character of a string body at *pos (before end). Writes its UTF-8 bytes to out and
 * returns how many, 0 at the closing quote, or a negative errno (with *msg) if invalid. */
static int string_char(const char *s, size_t end, size_t *pos, uint8_t out[4], const char **msg)
{
	size_t i = *pos, k;
	uint8_t c;
	uint32_t cp, lo;

	if (i >= end) {
		*msg = "unterminated string";
		return -EBADMSG;
	}
	c = (uint8_t)s[i];
	if (c == '"')
		return 0;
	if (c < 0x20) {
		*msg = "control character in string";
		return -EBADMSG;
	}
	if (c != '\\') {
		k = utf8_valid((const uint8_t *)s + i, end - i);
		if (k == 0) {
			*msg = "invalid UTF-8";
			return -EILSEQ;
		}
		memcpy(out, s + i, k);
		*pos = i + k;
		return (int)k;
	}
	if (i + 1 >= end) {
		*msg = "unterminated string";
		return -EBADMSG;
	}
	*pos = i + 2;
	switch (s[i + 1]) {
	case '"': out[0] = '"'; return 1;
	case '\\': out[0] = '\\'; return 1;
	case '/': out[0] = '/'; return 1;
	case 'b': out[0] = '\b'; return 1;
	case 'f': out[0] = '\f'; return 1;
	case 'n': out[0] = '\n'; return 1;
	case 'r': out[0] = '\r'; return 1;
	case 't': out[0] = '\t'; return 1;
	case 'u':
		break;
	default:
		*msg = "invalid escape";
		return -EBADMSG;
	}
	if (end - i < 6 || hex4(s + i + 2, &cp) < 0) {
		*msg = "invalid \\u escape";
		return -EBADMSG;
	}
	*pos = i + 6;
	if (cp >= 0xdc00 && cp <= 0xdfff) {
		*msg = "unpaired low surrogate";
		return -EILSEQ;
	}
	if (cp >= 0xd800 && cp <= 0xdbff) {
		if (end - *pos < 6 || s[*pos] != '\\' || s[*pos + 1] != 'u' ||
		    hex4(s + *pos + 2, &lo) < 0 || lo < 0xdc00 || lo > 0xdfff) {
			*msg = "unpaired high surrogate";
			return -EILSEQ;
		}
		cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
		*pos += 6;
	}
	return (int)utf8_put(cp, out);
}

static int new_node(struct parser *p, enum json_type type, uint32_t *ret)
{
	if (p->n >= p->max_nodes)
		return fail(p, -E2BIG, "too many values");
	p->nodes[p->n] = (struct json_node){ .type = type, .start = (uint32_t)p->pos };
	*ret = (uint32_t)p->n++;
	return 0;
}

static int parse_string(struct parser *p, uint32_t *ret)
{
	uint8_t buf[4];
	const char *msg = NULL;
	uint32_t idx;
	int r;

	r = new_node(p, JSON_STRING, &idx);
	if (r < 0)
		return r;
	p->pos++; /* opening quote */
	while ((r = string_char(p->s, p->len, &p->pos, buf, &msg)) > 0)
		;
	if (r < 0)
		return fail(p, r, msg);
	p->pos++; /* closing quote */
	p->nodes[idx].len = (uint32_t)(p->pos - p->nodes[idx].start);
	*ret = idx;
	return 0;
}

static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static int parse_number(struct parser *p, uint32_t *ret)
{
	size_t i = p->pos;
	uint32_t idx;
	int r;

	r = new_node(p, JSON_NUMBER, &idx);
	if (r < 0)
		return r;
	if (i < p->len && p->s[i] == '-')
		i++;
	if (i < p->len && p->s[i] == '0') {
		i++;
		if (i < p->len && is_digit(p->s[i])) {
			p->pos = i;
			return fail(p, -EBADMSG, "leading zero in number");
		}
	} else if (i < p->len && is_digit(p->s[i])) {
		while (i < p->len && is_digit(p->s[i]))
			i++;
	} else {
		p->pos = i;
		return fail(p, -EBADMSG, "invalid number");
	}
	if (i < p->len && p->s[i] == '.') {
		i++;
		if (i >= p->len || !is_digit(p->s[i])) {
			p->pos = i;
			return fail(p, -EBADMSG, "digit expected after '.'");
		}
		while (i < p->len && is_digit(p->s[i]))
			i++;
	}
	if (i < p->len && (p->s[i] == 'e' || p->s[i] == 'E')) {
		i++;
		if (i < p->len && (p->s[i] == '+' || p->s[i] == '-'))
			i++;
		if (i >= p->len || !is_digit(p->s[i])) {
			p->pos = i;
			return fail(p, -EBADMSG, "digit expected in exponent");
		}
		while (i < p->len && is_digit(p->s[i]))
			i++;
	}
	p->nodes[idx].len = (uint32_t)(i - p->pos);
	p->pos = i;
	*ret = idx;
	return 0;
}

static int parse_literal(struct parser *p, const char *word, enum json_type type, uint32_t *ret)
{
	size_t n = strlen(word);
	uint32_t idx;
	int r;

	if (p->len - p->pos < n || memcmp(p->s + p->pos, word, n) != 0)
		return fail(p, -EBADMSG, "invalid literal");
	r = new_node(p, type, &idx);
	if (r < 0)
		return r;
	p->nodes[idx].len = (uint32_t)n;
	p->pos += n;
	*ret = idx;
	return 0;
}

static bool strings_equal(const char *s, const struct json_node *a, const struct json_node *b)
{
	size_t pa = a->start + 1, pb = b->start + 1, ea = a->start + a->len, eb = b->start + b->len;
	const char *msg;

	/* Both were validated while parsing, so string_char() cannot fail here. */
	for (;;) {
		uint8_t ca[4], cb[4];
		int na = string_char(s, ea, &pa, ca, &msg), nb = string_char(s, eb, &pb, cb, &msg);

		if (na != nb || (na > 0 && memcmp(ca, cb, (size_t)na) != 0))
			return false;
		if (na <= 0)
			return true;
	}
}

static int parse_value(struct parser *p, unsigned depth, uint32_t *ret);

static int parse_container(struct parser *p, unsigned depth, bool object, uint32_t *ret)
{
	uint32_t idx, prev = 0, child;
	int r;

	if (depth > p->max_depth)
		return fail(p, -ELOOP, "nested too deeply");
	r = new_node(p, object ? JSON_OBJECT : JSON_ARRAY, &idx);
	if (r < 0)
		return r;
	p->pos++;
	skip_ws(p);
	if (p->pos < p->len && p->s[p->pos] == (object ? '}' : ']')) {
		p->pos++;
		goto done;
	}
	for (;;) {
		skip_ws(p);
		if (object) {
			uint32_t key, value;

			if (p->pos >= p->len || p->s[p->pos] != '"')
				return fail(p, -EBADMSG, "object key expected");
			r = parse_string(p, &key);
			if (r < 0)
				return r;
			for (uint32_t k = p->nodes[idx].first; k != 0; k = p->nodes[p->nodes[k].next].next)
				if (strings_equal(p->s, &p->nodes[k], &p->nodes[key]))
					return fail(p, -ENOTUNIQ, "duplicate key in object");
			skip_ws(p);
			if (p->pos >= p->len || p->s[p->pos] != ':')
				return fail(p, -EBADMSG, "':' expected");
			p->pos++;
			r = parse_value(p, depth, &value);
			if (r < 0)
				return r;
			p->nodes[key].next = value;
			child = key;
		} else {
			r = parse_value(p, depth, &child);
			if (r < 0)
				return r;
		}
		if (prev == 0)
			p->nodes[idx].first = child;
		else
			p->nodes[object ? p->nodes[prev].next : prev].next = child;
		prev = child;
		p->nodes[idx].children++;

		skip_ws(p);
		if (p->pos < p->len && p->s[p->pos] == ',') {
			p->pos++;
			continue;
		}
		if (p->pos < p->len && p->s[p->pos] == (object ? '}' : ']')) {
			p->pos++;
			break;
		}
		return fail(p, -EBADMSG, object ? "',' or '}' expected" : "',' or ']' expected");
	}
done:
	p->nodes[idx].len = (uint32_t)(p->pos - p->nodes[idx].start);
	*ret = idx;
	return 0;
}

static int parse_value(struct parser *p, unsigned depth, uint32_t *ret)
{
	skip_ws(p);
	if (p->pos >= p->len)
		return fail(p, -EBADMSG, "value expected");
	switch (p->s[p->pos]) {
	case '{':
		return parse_container(p, depth + 1, true, ret);
	case '[':
		return parse_container(p, depth + 1, false, ret);
	case '"':
		return parse_string(p, ret);
	case 't':
		return parse_literal(p, "true", JSON_TRUE, ret);
	case 'f':
		return parse_literal(p, "false", JSON_FALSE, ret);
	case 'n':
		return parse_literal(p, "null", JSON_NULL, ret);
	default:
		if (p->s[p->pos] == '-' || is_digit(p->s[p->pos]))
			return parse_number(p, ret);
		return fail(p, -EBADMSG, "value expected");
	}
}

int json_doc_parse(const char *text, size_t len, const struct json_limits *limits,
		   struct json_node *nodes, size_t max_nodes, struct json_doc *doc,
		   struct json_error *err)
{
	struct parser p = {
		.s = text, .len = len, .nodes = nodes, .max_nodes = max_nodes, .err = err,
	};
	uint32_t root;
	int r;

	if (err)
		*err = (struct json_error){ 0, NULL };
	if (!text || !limits || !nodes || !doc || limits->max_len > JSON_LEN_MAX ||
	    limits->max_depth > JSON_DEPTH_MAX)
		return fail(&p, -EINVAL, "invalid arguments");
	if (len > limits->max_len)
		return fail(&p, -E2BIG, "text too long");
	p.max_depth = limits->max_depth;
	r = parse_value(&p, 0, &root);
	if (r < 0)
		return r;
	skip_ws(&p);
	if (p.pos != len)
		return fail(&p, -EBADMSG, "trailing data after the value");
	*doc = (struct json_doc){ .text = text, .len = len, .nodes = nodes, .n_nodes = p.n };
	return 0;
}

uint32_t json_doc_first(const struct json_doc *doc, uint32_t container)
{
	if (container >= doc->n_nodes)
		return 0;
	return doc->nodes[container].type == JSON_ARRAY || doc->nodes[container].type == JSON_OBJECT ?
		       doc->nodes[container].first : 0;
}

uint32_t json_doc_next(const struct json_doc *doc, uint32_t node)
{
	return node != 0 && node < doc->n_nodes ? doc->nodes[node].next : 0;
}

int json_doc_member(const struct json_doc *doc, uint32_t obj, const char *key)
{
	if (obj >= doc->n_nodes || doc->nodes[obj].type != JSON_OBJECT)
		return -EINVAL;
	for (uint32_t k = doc->nodes[obj].first; k != 0; k = doc->nodes[doc->nodes[k].next].next)
		if (json_doc_string_eq(doc, k, key))
			return (int)doc->nodes[k].next;
	return -ENOENT;
}

int json_doc_string(const struct json_doc *doc, uint32_t idx, char *buf, size_t size)
{
	const struct json_node *n;
	size_t pos, end, o = 0;
	const char *msg;
	uint8_t c[4];
	int k;

	if (idx >= doc->n_nodes || doc->nodes[idx].type != JSON_STRING || size == 0)
		return -EINVAL;
	n = &doc->nodes[idx];
	pos = n->start + 1;
	end = n->start + n->len;
	while ((k = string_char(doc->text, end, &pos, c, &msg)) > 0) {
		if (k == 1 && c[0] == 0)
			return -EINVAL;
		if (o + (size_t)k >= size)
			return -E2BIG;
		memcpy(buf + o, c, (size_t)k);
		o += (size_t)k;
	}
	if (k < 0)
		return k;
	buf[o] = '\0';
	return (int)o;
}

bool json_doc_string_eq(const struct json_doc *doc, uint32_t idx, const char *s)
{
	const struct json_node *n;
	size_t pos, end, o = 0, slen = strlen(s);
	const char *msg;
	uint8_t c[4];
	int k;

	if (idx >= doc->n_nodes || doc->nodes[idx].type != JSON_STRING)
		return false;
	n = &doc->nodes[idx];
	pos = n->start + 1;
	end = n->start + n->len;
	while ((k = string_char(doc->text, end, &pos, c, &msg)) > 0) {
		if (o + (size_t)k > slen || memcmp(s + o, c, (size_t)k) != 0)
			return false;
		o += (size_t)k;
	}
	return k == 0 && o == slen;
}

int json_doc_uint(const struct json_doc *doc, uint32_t idx, uint64_t max, uint64_t *ret)
{
	const struct json_node *n;
	bool overflow = false;
	uint64_t v = 0;

	if (idx >= doc->n_nodes || doc->nodes[idx].type != JSON_NUMBER)
		return -EINVAL;
	n = &doc->nodes[idx];
	for (uint32_t i = 0; i < n->len; i++) {
		char c = doc->text[n->start + i];

		if (!is_digit(c))
			return -EINVAL; /* sign, fraction or exponent */
		if (overflow || v > (UINT64_MAX - (uint64_t)(c - '0')) / 10) {
			overflow = true; /* keep checking the syntax */
			continue;
		}
		v = v * 10 + (uint64_t)(c - '0');
	}
	if (overflow || v > max)
		return -ERANGE;
	*ret = v;
	return 0;
}
