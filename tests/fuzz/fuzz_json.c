/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: the strict JSON parser (json-c plus edgeinit's pass). Oracles: nodes are in
 * document order (children after their parent), every number's literal lies inside the text,
 * iteration visits exactly 'children' members, decoded strings compare equal to themselves,
 * object keys are pairwise distinct, and the verdict is monotonic in the depth bound (the
 * document's own depth is the smallest bound that accepts it). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/json.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)
#define MAX_NODES 4096

static struct json_node nodes[MAX_NODES], nodes2[MAX_NODES];
static char buf[1 << 16], buf2[1 << 16];

static unsigned check_node(const struct json_doc *doc, uint32_t idx, unsigned depth)
{
	const struct json_node *n = &doc->nodes[idx];
	unsigned deepest = depth, count = 0;

	CHECK(idx < doc->n_nodes);
	if (n->type == JSON_STRING) {
		int r = json_doc_string(doc, idx, buf, sizeof(buf));

		CHECK(r >= 0 || r == -EINVAL || r == -E2BIG);
		if (r >= 0) {
			CHECK((size_t)r == strlen(buf) && (size_t)r < doc->len);
			CHECK(json_doc_string_eq(doc, idx, buf));
		}
	}
	if (n->type == JSON_NUMBER) {
		CHECK(n->len > 0 && (size_t)n->start + n->len <= doc->len);
		uint64_t v;
		int r = json_doc_uint(doc, idx, UINT64_MAX, &v);

		CHECK(r == 0 || r == -EINVAL || r == -ERANGE);
	}
	if (n->type != JSON_ARRAY && n->type != JSON_OBJECT) {
		CHECK(n->first == 0 && n->children == 0);
		return depth;
	}
	depth++;
	deepest = depth;
	for (uint32_t c = json_doc_first(doc, idx); c != 0; c = json_doc_next(doc, c)) {
		const struct json_node *child = &doc->nodes[c];
		unsigned d;

		CHECK(c > idx && c < doc->n_nodes);
		(void)child;
		if (n->type == JSON_OBJECT) {
			uint32_t value = json_doc_next(doc, c);
			int r;

			CHECK(child->type == JSON_STRING && value != 0);
			/* Keys are unique: the first key equal to this one is this one. */
			r = json_doc_string(doc, c, buf2, sizeof(buf2));
			if (r >= 0) {
				int found = json_doc_member(doc, idx, buf2);

				CHECK(found == (int)value);
			}
			d = check_node(doc, value, depth);
			c = value;
		} else
			d = check_node(doc, c, depth);
		if (d > deepest)
			deepest = d;
		count++;
		CHECK(count <= doc->n_nodes);
	}
	CHECK(count == n->children);
	return deepest;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_limits limits = { .max_len = JSON_LEN_MAX, .max_depth = JSON_DEPTH_MAX };
	struct json_doc doc, doc2;
	struct json_error err;
	const char *text = (const char *)data;
	unsigned depth;
	size_t n;
	int r;

	if (size > 1 << 16)
		return 0;
	r = json_doc_parse(text, size, &limits, nodes, MAX_NODES, &doc, &err);
	CHECK(r == 0 || r == -EBADMSG || r == -EILSEQ || r == -ENOTUNIQ || r == -ELOOP || r == -E2BIG);
	CHECK(err.offset <= size);
	if (r < 0) {
		CHECK(err.message != NULL);
		return 0;
	}
	CHECK(err.message == NULL);
	CHECK(doc.n_nodes >= 1 && doc.n_nodes <= MAX_NODES);
	depth = check_node(&doc, 0, 0);
	CHECK(depth <= JSON_DEPTH_MAX);
	n = doc.n_nodes;
	json_doc_free(&doc);

	/* The document's depth is accepted; one less is refused as too deep. */
	limits.max_depth = depth;
	CHECK(json_doc_parse(text, size, &limits, nodes2, MAX_NODES, &doc2, &err) == 0);
	CHECK(doc2.n_nodes == n);
	for (size_t i = 0; i < n; i++)
		CHECK(nodes2[i].type == nodes[i].type && nodes2[i].next == nodes[i].next &&
		      nodes2[i].first == nodes[i].first && nodes2[i].children == nodes[i].children &&
		      nodes2[i].start == nodes[i].start && nodes2[i].len == nodes[i].len);
	json_doc_free(&doc2);
	if (depth > 0) {
		limits.max_depth = depth - 1;
		CHECK(json_doc_parse(text, size, &limits, nodes2, MAX_NODES, &doc2, &err) == -ELOOP);
	}
	/* Exactly enough nodes is enough; one fewer is not. */
	limits.max_depth = JSON_DEPTH_MAX;
	CHECK(json_doc_parse(text, size, &limits, nodes2, n, &doc2, &err) == 0);
	json_doc_free(&doc2);
	CHECK(json_doc_parse(text, size, &limits, nodes2, n - 1, &doc2, &err) == -E2BIG);
	return 0;
}
