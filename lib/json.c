/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON through json-c, the parser libcryptsetup reads LUKS2 metadata with, so that edgeinit's
 * checks see the document exactly as libcryptsetup will. json-c does the grammar, the nesting
 * bound and the escapes; one pass over the accepted text then refuses what json-c lets through
 * even in strict mode (checked against json-c 0.16): duplicate keys (json-c keeps the last),
 * invalid UTF-8 and unpaired surrogates (kept or replaced), control characters in strings,
 * single-quoted strings, NaN/Infinity. The same pass finds each number's literal, since json-c
 * keeps only a value (and saturates integers beyond 64 bits). */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include <json-c/json.h>

#include "edgeinit/json.h"

static int fail(struct json_error *err, size_t offset, int r, const char *message)
{
	if (err) {
		err->offset = offset;
		err->message = message;
	}
	return r;
}

struct builder {
	struct json_node *nodes;
	size_t n, max;
	unsigned max_depth;
};

/* Node for o (and its subtree, depth first in document order) at the next index. */
static int build(struct builder *b, struct json_object *o, unsigned depth, uint32_t *ret)
{
	struct json_node *n;
	uint32_t idx, prev = 0, child;
	int r;

	if (b->n >= b->max || b->n >= UINT32_MAX)
		return -E2BIG;
	idx = (uint32_t)b->n++;
	n = &b->nodes[idx];
	*n = (struct json_node){ .obj = o };
	switch (json_object_get_type(o)) {
	case json_type_null:
		n->type = JSON_NULL;
		break;
	case json_type_boolean:
		n->type = json_object_get_boolean(o) ? JSON_TRUE : JSON_FALSE;
		break;
	case json_type_int:
	case json_type_double:
		n->type = JSON_NUMBER;
		break;
	case json_type_string:
		n->type = JSON_STRING;
		break;
	case json_type_array:
		n->type = JSON_ARRAY;
		if (depth + 1 > b->max_depth)
			return -ELOOP;
		for (size_t i = 0; i < json_object_array_length(o); i++) {
			r = build(b, json_object_array_get_idx(o, i), depth + 1, &child);
			if (r < 0)
				return r;
			if (prev)
				b->nodes[prev].next = child;
			else
				b->nodes[idx].first = child;
			prev = child;
			b->nodes[idx].children++;
		}
		break;
	case json_type_object:
		b->nodes[idx].type = JSON_OBJECT;
		if (depth + 1 > b->max_depth)
			return -ELOOP;
		json_object_object_foreach(o, key, value) {
			uint32_t k;

			if (b->n >= b->max)
				return -E2BIG;
			k = (uint32_t)b->n++;
			b->nodes[k] = (struct json_node){ .type = JSON_STRING, .key = key };
			if (prev)
				b->nodes[prev].next = k;
			else
				b->nodes[idx].first = k;
			r = build(b, value, depth + 1, &child);
			if (r < 0)
				return r;
			b->nodes[k].next = child;
			prev = child;
			b->nodes[idx].children++;
		}
		break;
	}
	*ret = idx;
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

static int hex4(const char *s)
{
	int v = 0;

	for (int i = 0; i < 4; i++) {
		char c = s[i];

		v = v << 4 | (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10); /* json-c checked the digits */
	}
	return v;
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* RFC 8259's number: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)?; json-c also takes "1.". */
static bool number_ok(const char *s, size_t n)
{
	size_t i = 0, d;

	if (i < n && s[i] == '-')
		i++;
	for (d = i; i < n && is_digit(s[i]); i++)
		;
	if (i == d || (s[d] == '0' && i - d > 1))
		return false;
	if (i < n && s[i] == '.') {
		for (d = ++i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return false;
	}
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		if (++i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		for (d = i; i < n && is_digit(s[i]); i++)
			;
		if (i == d)
			return false;
	}
	return i == n;
}

static bool is_number_char(char c)
{
	return (c >= '0' && c <= '9') || c == '-' || c == '+' || c == '.' || c == 'e' || c == 'E';
}

/* The pass over text that json-c accepted: see the top of the file. */
static int scan(struct json_doc *doc, struct json_error *err)
{
	const char *s = doc->text;
	size_t len = doc->len, members = 0, containers_members = 0, number = 0;

	for (size_t i = 0; i < doc->n_nodes; i++)
		if (doc->nodes[i].type == JSON_OBJECT)
			containers_members += doc->nodes[i].children;
	for (size_t i = 0; i < len;) {
		char c = s[i];

		if (c == ':') {
			members++;
			i++;
		} else if (c == '-' || is_digit(c)) {
			size_t start = i;

			while (i < len && is_number_char(s[i]))
				i++;
			if (!number_ok(s + start, i - start))
				return fail(err, start, -EBADMSG, "not a JSON number");
			/* The k-th number in the text is the k-th number node: both are in document
			 * order, and no duplicate key hid a value (checked below, before use). */
			while (number < doc->n_nodes && doc->nodes[number].type != JSON_NUMBER)
				number++;
			if (number == doc->n_nodes)
				return fail(err, start, -ENOTUNIQ, "a value json-c did not keep (duplicate key)");
			doc->nodes[number].start = (uint32_t)start;
			doc->nodes[number].len = (uint32_t)(i - start);
			number++;
		} else if (c == 't' || c == 'f' || c == 'n') {
			const char *word = c == 't' ? "true" : c == 'f' ? "false" : "null";

			if (len - i < strlen(word) || memcmp(s + i, word, strlen(word)) != 0)
				return fail(err, i, -EBADMSG, "not a JSON literal");
			i += strlen(word);
		} else if (c == '"') {
			for (i++; i < len && s[i] != '"';) {
				uint8_t u = (uint8_t)s[i];
				size_t k;

				if (u < 0x20)
					return fail(err, i, -EBADMSG, "control character in a string");
				if (u >= 0x80) {
					k = utf8_valid((const uint8_t *)s + i, len - i);
					if (k == 0)
						return fail(err, i, -EILSEQ, "invalid UTF-8");
					i += k;
				} else if (u == '\\' && s[i + 1] == 'u') {
					int v = hex4(s + i + 2);

					if (v >= 0xdc00 && v <= 0xdfff)
						return fail(err, i, -EILSEQ, "unpaired low surrogate");
					if (v >= 0xd800 && v <= 0xdbff) {
						if (len - i < 12 || s[i + 6] != '\\' || s[i + 7] != 'u' ||
						    hex4(s + i + 8) < 0xdc00 || hex4(s + i + 8) > 0xdfff)
							return fail(err, i, -EILSEQ, "unpaired high surrogate");
						i += 6;
					}
					i += 6;
				} else
					i += u == '\\' ? 2 : 1;
			}
			i++;
		} else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '{' || c == '}' || c == '[' ||
			   c == ']' || c == ',') {
			i++;
		} else {
			return fail(err, i, -EBADMSG, "not strict JSON (a quote, NaN or Infinity)");
		}
	}
	if (members != containers_members)
		return fail(err, 0, -ENOTUNIQ, "duplicate key in an object");
	return 0;
}

/* One json-c parse of text[0..len): its error, the offset where it stopped, the value (on
 * success). json-c's own allocation failure shows as json_tokener_error_size here. */
static enum json_tokener_error tokenize(const char *text, size_t len, unsigned depth,
					struct json_object **ret, size_t *end)
{
	struct json_tokener *tok = json_tokener_new_ex((int)depth);
	enum json_tokener_error e;

	*ret = NULL;
	*end = 0;
	if (!tok)
		return json_tokener_error_size;
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	*ret = json_tokener_parse_ex(tok, text, (int)len);
	e = json_tokener_get_error(tok);
	*end = json_tokener_get_parse_end(tok);
	/* A top-level number or literal ends only where the input does: say so. */
	if (e == json_tokener_continue && *end == len) {
		*ret = json_tokener_parse_ex(tok, "", 1);
		e = json_tokener_get_error(tok);
	}
	json_tokener_free(tok);
	if (e != json_tokener_success) {
		json_object_put(*ret);
		*ret = NULL;
	}
	return e;
}

int json_doc_parse(const char *text, size_t len, const struct json_limits *limits,
		   struct json_node *nodes, size_t max_nodes, struct json_doc *doc,
		   struct json_error *err)
{
	struct json_object *root;
	enum json_tokener_error e;
	struct builder b = { .nodes = nodes, .max = max_nodes };
	unsigned tok_depth;
	size_t end;
	uint32_t top;
	int r;

	if (doc)
		*doc = (struct json_doc){ 0 };
	if (err)
		*err = (struct json_error){ 0 };
	if (!text || !limits || !nodes || !doc || limits->max_len > JSON_LEN_MAX ||
	    limits->max_depth > JSON_DEPTH_MAX)
		return fail(err, 0, -EINVAL, "invalid arguments");
	if (len > limits->max_len)
		return fail(err, 0, -E2BIG, "document too long");

	/* json-c counts every value, a scalar inside a container too: one more than the containers
	 * edgeinit counts. The exact bound on containers is checked while building the nodes. */
	b.max_depth = limits->max_depth;
	tok_depth = limits->max_depth + 1;
	e = tokenize(text, len, tok_depth, &root, &end);
	if (e != json_tokener_success) {
		struct json_object *prefix;
		size_t prefix_end;

		/* json-c reads on after the value and calls what follows "unexpected": name it. */
		if (e != json_tokener_error_depth && end > 0 &&
		    tokenize(text, end, tok_depth, &prefix, &prefix_end) ==
			    json_tokener_success) {
			json_object_put(prefix);
			return fail(err, end, -EBADMSG, "trailing data after the value");
		}
		return fail(err, end, e == json_tokener_error_depth ? -ELOOP : -EBADMSG,
			    json_tokener_error_desc(e));
	}
	/* json-c stops after the value; only JSON whitespace may follow. */
	for (size_t i = end; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r') {
			json_object_put(root);
			return fail(err, i, -EBADMSG, "trailing data after the value");
		}

	*doc = (struct json_doc){ .text = text, .len = len, .nodes = nodes, .root = root };
	r = build(&b, root, 0, &top);
	doc->n_nodes = b.n;
	if (r < 0)
		r = fail(err, 0, r, r == -ELOOP ? "nesting too deep" : "more values than nodes");
	else
		r = scan(doc, err);
	if (r < 0)
		json_doc_free(doc);
	return r;
}

void json_doc_free(struct json_doc *doc)
{
	if (!doc)
		return;
	json_object_put(doc->root);
	*doc = (struct json_doc){ 0 };
}

uint32_t json_doc_first(const struct json_doc *doc, uint32_t container)
{
	if (container >= doc->n_nodes)
		return 0;
	return doc->nodes[container].first;
}

uint32_t json_doc_next(const struct json_doc *doc, uint32_t node)
{
	return node < doc->n_nodes ? doc->nodes[node].next : 0;
}

/* The bytes of string node idx (json-c's decoded copy; keys cannot hold U+0000 in json-c). */
static const char *string_of(const struct json_doc *doc, uint32_t idx, size_t *ret_len)
{
	const struct json_node *n;

	if (idx >= doc->n_nodes || doc->nodes[idx].type != JSON_STRING)
		return NULL;
	n = &doc->nodes[idx];
	if (n->key) {
		*ret_len = strlen(n->key);
		return n->key;
	}
	*ret_len = (size_t)json_object_get_string_len(n->obj);
	return json_object_get_string(n->obj);
}

int json_doc_member(const struct json_doc *doc, uint32_t obj, const char *key)
{
	if (obj >= doc->n_nodes || doc->nodes[obj].type != JSON_OBJECT)
		return -EINVAL;
	for (uint32_t k = doc->nodes[obj].first; k != 0; k = json_doc_next(doc, json_doc_next(doc, k)))
		if (json_doc_string_eq(doc, k, key))
			return (int)doc->nodes[k].next;
	return -ENOENT;
}

int json_doc_string(const struct json_doc *doc, uint32_t idx, char *buf, size_t size)
{
	size_t n;
	const char *s = string_of(doc, idx, &n);

	if (!s || memchr(s, '\0', n))
		return -EINVAL;
	if (n + 1 > size || n > INT32_MAX)
		return -E2BIG;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return (int)n;
}

bool json_doc_string_eq(const struct json_doc *doc, uint32_t idx, const char *s)
{
	size_t n;
	const char *v = string_of(doc, idx, &n);

	return v && strlen(s) == n && memcmp(v, s, n) == 0;
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
