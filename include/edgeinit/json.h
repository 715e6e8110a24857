/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Strict JSON (RFC 8259) for metadata edgeinit reads before anything is trusted, such as LUKS2
 * header and token JSON. The parser is json-c, the one libcryptsetup reads that metadata with, so
 * a check sees exactly what libcryptsetup will; on top of json-c's strict mode this refuses what
 * json-c still accepts: duplicate object keys, invalid UTF-8 (overlong forms, surrogates, beyond
 * U+10FFFF), unpaired \u surrogates, control characters in strings, single-quoted strings,
 * NaN/Infinity, a byte order mark and anything after the top-level value except JSON whitespace
 * (space, tab, LF, CR). Nesting is bounded (json-c's depth limit), and so is the node count.
 *
 * The tree is indexed in a node array the caller provides; json-c owns the values until
 * json_doc_free(). Functions are named json_doc_*: json-c owns json_object_* and json_tokener_*. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum json_doc_type {
	JSON_NULL,
	JSON_FALSE,
	JSON_TRUE,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

#define JSON_DEPTH_MAX 64     /* hard cap on json_limits.max_depth */
#define JSON_LEN_MAX (1u << 24) /* hard cap on json_limits.max_len (16 MiB) */

struct json_limits {
	size_t max_len;     /* bytes of text; at most JSON_LEN_MAX */
	unsigned max_depth; /* nesting of arrays and objects; the top-level value is depth 1 */
};

struct json_object;

/* One value. Members of an object are stored as key node (a JSON_STRING) then value node, chained
 * by 'next'; elements of an array are chained by 'next'. Index 0 is the top-level value, so 0 in
 * 'next'/'first' means none. Nodes are in document order. */
struct json_node {
	enum json_doc_type type;
	uint32_t start;    /* numbers: offset of the literal in the text (json-c keeps the value only) */
	uint32_t len;      /* numbers: length of the literal */
	uint32_t first;    /* containers: first element, or key of the first member */
	uint32_t next;     /* next element; for a key, its value; for a member's value, the next key */
	uint32_t children; /* containers: number of elements or members */
	struct json_object *obj; /* json-c's value (NULL for null and for keys) */
	const char *key;         /* keys: the name, as json-c keeps it */
};

struct json_doc {
	const char *text;
	size_t len;
	struct json_node *nodes;
	size_t n_nodes;
	struct json_object *root; /* json-c's tree: json_doc_free() */
};

struct json_error {
	size_t offset;       /* where in the text */
	const char *message; /* static string */
};

/* Parse text[0..len). Returns 0 and fills doc; on failure: -EBADMSG (syntax, trailing data),
 * -EILSEQ (invalid UTF-8 or unpaired surrogate), -ENOTUNIQ (duplicate key in an object), -ELOOP
 * (deeper than max_depth), -E2BIG (longer than max_len or more values than max_nodes), -EINVAL
 * (bad arguments), -ENOMEM. err (optional) says where and what. On success the caller owns doc
 * and frees it with json_doc_free(); on failure there is nothing to free. */
int json_doc_parse(const char *text, size_t len, const struct json_limits *limits,
		   struct json_node *nodes, size_t max_nodes, struct json_doc *doc,
		   struct json_error *err);
/* Release json-c's tree; doc is zeroed. Safe on a zeroed doc. */
void json_doc_free(struct json_doc *doc);

/* Value of key in object node obj: its node index, -ENOENT if absent, -EINVAL if obj is not an
 * object. */
int json_doc_member(const struct json_doc *doc, uint32_t obj, const char *key);

/* Iterate: first element of an array (or first key of an object), then next. Return 0 at the end.
 * For objects, json_doc_next() of a key is its value, and json_doc_next() of that value is the
 * next key. */
uint32_t json_doc_first(const struct json_doc *doc, uint32_t container);
uint32_t json_doc_next(const struct json_doc *doc, uint32_t node);

/* Decode string node idx into buf (NUL-terminated UTF-8). Returns its length, -EINVAL if the node
 * is not a string or contains U+0000 (not representable in a C string), -E2BIG if buf is too small. */
int json_doc_string(const struct json_doc *doc, uint32_t idx, char *buf, size_t size);
/* Whether string node idx decodes to exactly s. False for non-strings. */
bool json_doc_string_eq(const struct json_doc *doc, uint32_t idx, const char *s);
/* A number node that is a plain non-negative integer (no sign, fraction or exponent) <= max.
 * -EINVAL if it is not, -ERANGE if it is larger than max. */
int json_doc_uint(const struct json_doc *doc, uint32_t idx, uint64_t max, uint64_t *ret);
