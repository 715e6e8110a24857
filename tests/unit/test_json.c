/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* JSON parser: accepted documents and their tree, and hostile input of every kind refused with
 * its own code. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/json.h"
#include "suites.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

static const struct json_limits limits = { .max_len = 1 << 20, .max_depth = 16 };

static int parse(const char *text, size_t len, struct json_node *nodes, size_t max, struct json_doc *doc)
{
	struct json_error err;

	return json_doc_parse(text, len, &limits, nodes, max, doc, &err);
}

static const char *const accepts[] = {
	"{}", "[]", "0", "-0", "1.5e-3", "-12.0E+4", "\"\"", "true", "false", "null",
	" \t\r\n{ \"a\" : [ 1 , 2 , { } , [ ] ] } \n",
	"\"\\u00e9\\ud83d\\ude00\\\"\\\\\\/\\b\\f\\n\\r\\t\"",
	"\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\xef\xbf\xbf\xf4\x8f\xbf\xbf\"",
	"{\"a\":1,\"b\":2,\"A\":3}",
	"[1,[2,[3,[4]]]]",
	"18446744073709551616",
};

START_TEST(test_accepts)
{
	struct json_node nodes[64];
	struct json_doc doc;

	ck_assert_int_eq(parse(accepts[_i], strlen(accepts[_i]), nodes, N(nodes), &doc), 0);
	json_doc_free(&doc);
}
END_TEST

static const struct {
	const char *text;
	int r;
} rejects[] = {
	{ "", -EBADMSG },
	{ "   ", -EBADMSG },
	{ "{", -EBADMSG },
	{ "{\"a\"}", -EBADMSG },
	{ "{\"a\":}", -EBADMSG },
	{ "{\"a\":1,}", -EBADMSG },
	{ "[1,]", -EBADMSG },
	{ "[1 2]", -EBADMSG },
	{ "{a:1}", -EBADMSG },
	{ "{'a':1}", -EBADMSG },
	{ "01", -EBADMSG },
	{ "-", -EBADMSG },
	{ "1.", -EBADMSG },
	{ ".5", -EBADMSG },
	{ "1e", -EBADMSG },
	{ "+1", -EBADMSG },
	{ "0x10", -EBADMSG },
	{ "NaN", -EBADMSG },
	{ "Infinity", -EBADMSG },
	{ "tru", -EBADMSG },
	{ "nul", -EBADMSG },
	{ "True", -EBADMSG },
	{ "{} x", -EBADMSG },          /* trailing garbage */
	{ "{}{}", -EBADMSG },
	{ "[]]", -EBADMSG },
	{ "\xef\xbb\xbf{}", -EBADMSG }, /* byte order mark */
	{ "{}\v", -EBADMSG },           /* not JSON whitespace */
	{ "\"a", -EBADMSG },
	{ "\"a\tb\"", -EBADMSG },       /* raw control character */
	{ "\"\\x41\"", -EBADMSG },
	{ "\"\\u12\"", -EBADMSG },
	{ "\"\\u12G4\"", -EBADMSG },
	{ "\"\\", -EBADMSG },
	{ "/* c */ {}", -EBADMSG },
	{ "\"\\ud800\"", -EILSEQ },     /* lone high surrogate */
	{ "\"\\udc00\"", -EILSEQ },     /* lone low surrogate */
	{ "\"\\ud800\\u0041\"", -EILSEQ },
	{ "\"\xc0\xaf\"", -EILSEQ },    /* overlong '/' */
	{ "\"\xe0\x80\xaf\"", -EILSEQ },
	{ "\"\xed\xa0\x80\"", -EILSEQ }, /* UTF-8 encoded surrogate */
	{ "\"\xf4\x90\x80\x80\"", -EILSEQ }, /* beyond U+10FFFF */
	{ "\"\xff\"", -EILSEQ },
	{ "\"\x80\"", -EILSEQ },
	{ "\"\xc3\"", -EILSEQ },        /* truncated sequence */
	{ "{\"a\":1,\"a\":2}", -ENOTUNIQ },
	{ "{\"a\":1,\"\\u0061\":2}", -ENOTUNIQ }, /* same key, escaped */
	{ "[{\"k\":{\"x\":1,\"y\":2,\"x\":3}}]", -ENOTUNIQ },
};

START_TEST(test_rejects)
{
	struct json_node nodes[64];
	struct json_doc doc;
	struct json_error err;

	ck_assert_int_eq(json_doc_parse(rejects[_i].text, strlen(rejects[_i].text), &limits, nodes, N(nodes),
				    &doc, &err),
			 rejects[_i].r);
	ck_assert_ptr_nonnull(err.message);
	ck_assert_uint_le(err.offset, strlen(rejects[_i].text));
}
END_TEST

START_TEST(test_embedded_nul)
{
	struct json_node nodes[8];
	struct json_doc doc;

	ck_assert_int_eq(parse("{}\0", 3, nodes, N(nodes), &doc), -EBADMSG);
	ck_assert_int_eq(parse("\"a\0b\"", 5, nodes, N(nodes), &doc), -EBADMSG);
	/* \u0000 is valid JSON but cannot become a C string. */
	ck_assert_int_eq(parse("\"a\\u0000b\"", 10, nodes, N(nodes), &doc), 0);
	{
		char buf[8];

		ck_assert_int_eq(json_doc_string(&doc, 0, buf, sizeof(buf)), -EINVAL);
		ck_assert(!json_doc_string_eq(&doc, 0, "a"));
	}
	json_doc_free(&doc);
}
END_TEST

START_TEST(test_depth)
{
	struct json_node nodes[200];
	struct json_doc doc;
	char deep[200];
	size_t d;

	for (d = 1; d <= 20; d++) {
		memset(deep, '[', d);
		memset(deep + d, ']', d);
		ck_assert_int_eq(parse(deep, 2 * d, nodes, N(nodes), &doc), d <= 16 ? 0 : -ELOOP);
		json_doc_free(&doc);
	}
	/* Deep but unterminated: the depth bound fires before the end of input. */
	memset(deep, '[', sizeof(deep));
	ck_assert_int_eq(parse(deep, sizeof(deep), nodes, N(nodes), &doc), -ELOOP);
	memset(deep, '{', sizeof(deep));
	ck_assert_int_eq(parse(deep, sizeof(deep), nodes, N(nodes), &doc), -EBADMSG); /* '{' is no key */
}
END_TEST

START_TEST(test_limits)
{
	struct json_node nodes[4];
	struct json_doc doc;
	struct json_error err;
	struct json_limits small = { .max_len = 8, .max_depth = 4 }, bad = { .max_len = JSON_LEN_MAX + 1, .max_depth = 4 };

	ck_assert_int_eq(parse("[1,2,3,4]", 9, nodes, N(nodes), &doc), -E2BIG); /* 4 nodes fit, not 5 */
	ck_assert_int_eq(parse("[1,2]", 5, nodes, N(nodes), &doc), 0);
	json_doc_free(&doc);
	ck_assert_int_eq(json_doc_parse("\"123456789\"", 11, &small, nodes, N(nodes), &doc, &err), -E2BIG);
	ck_assert_int_eq(json_doc_parse("1", 1, &bad, nodes, N(nodes), &doc, &err), -EINVAL);
	ck_assert_int_eq(json_doc_parse(NULL, 0, &small, nodes, N(nodes), &doc, &err), -EINVAL);
}
END_TEST

START_TEST(test_tree)
{
	static const char text[] = "{\"keyslots\":[\"1\",\"2\"],\"n\":23,\"s\":\"caf\\u00e9\",\"t\":true,\"o\":{\"x\":null}}";
	struct json_node nodes[32];
	struct json_doc doc;
	char buf[16];
	uint64_t v;
	int a, n, s, t, o;
	uint32_t e;

	ck_assert_int_eq(parse(text, strlen(text), nodes, N(nodes), &doc), 0);
	ck_assert_int_eq(doc.nodes[0].type, JSON_OBJECT);
	ck_assert_uint_eq(doc.nodes[0].children, 5);
	a = json_doc_member(&doc, 0, "keyslots");
	ck_assert_int_gt(a, 0);
	ck_assert_int_eq(doc.nodes[a].type, JSON_ARRAY);
	ck_assert_uint_eq(doc.nodes[a].children, 2);
	e = json_doc_first(&doc, (uint32_t)a);
	ck_assert(json_doc_string_eq(&doc, e, "1"));
	e = json_doc_next(&doc, e);
	ck_assert(json_doc_string_eq(&doc, e, "2"));
	ck_assert_uint_eq(json_doc_next(&doc, e), 0);

	n = json_doc_member(&doc, 0, "n");
	ck_assert_int_eq(json_doc_uint(&doc, (uint32_t)n, 23, &v), 0);
	ck_assert_uint_eq(v, 23);
	ck_assert_int_eq(json_doc_uint(&doc, (uint32_t)n, 22, &v), -ERANGE);
	ck_assert_int_eq(memcmp(text + doc.nodes[n].start, "23", doc.nodes[n].len), 0); /* the literal */
	ck_assert_uint_eq(doc.nodes[n].len, 2);
	s = json_doc_member(&doc, 0, "s");
	ck_assert_int_eq(json_doc_string(&doc, (uint32_t)s, buf, sizeof(buf)), 5);
	ck_assert_str_eq(buf, "caf\xc3\xa9");
	ck_assert(json_doc_string_eq(&doc, (uint32_t)s, "caf\xc3\xa9"));
	ck_assert(!json_doc_string_eq(&doc, (uint32_t)s, "caf"));
	ck_assert(!json_doc_string_eq(&doc, (uint32_t)s, "caf\xc3\xa9!"));
	ck_assert_int_eq(json_doc_string(&doc, (uint32_t)s, buf, 5), -E2BIG);
	t = json_doc_member(&doc, 0, "t");
	ck_assert_int_eq(doc.nodes[t].type, JSON_TRUE);
	ck_assert_int_eq(json_doc_uint(&doc, (uint32_t)t, 1, &v), -EINVAL);
	o = json_doc_member(&doc, 0, "o");
	ck_assert_int_eq(doc.nodes[json_doc_member(&doc, (uint32_t)o, "x")].type, JSON_NULL);
	ck_assert_int_eq(json_doc_member(&doc, 0, "missing"), -ENOENT);
	ck_assert_int_eq(json_doc_member(&doc, (uint32_t)a, "x"), -EINVAL);
	ck_assert_int_eq(json_doc_string(&doc, (uint32_t)a, buf, sizeof(buf)), -EINVAL);
	json_doc_free(&doc);
}
END_TEST

static const struct {
	const char *number;
	int r;
	uint64_t v;
} uints[] = {
	{ "0", 0, 0 },
	{ "23", 0, 23 },
	{ "18446744073709551615", 0, UINT64_MAX },
	{ "18446744073709551616", -ERANGE, 0 },
	{ "99999999999999999999999999999999", -ERANGE, 0 },
	{ "-1", -EINVAL, 0 },
	{ "-0", -EINVAL, 0 },
	{ "7.0", -EINVAL, 0 },
	{ "7e0", -EINVAL, 0 },
	{ "1E2", -EINVAL, 0 },
};

START_TEST(test_uint)
{
	struct json_node nodes[2];
	struct json_doc doc;
	uint64_t v = 42;

	ck_assert_int_eq(parse(uints[_i].number, strlen(uints[_i].number), nodes, N(nodes), &doc), 0);
	ck_assert_int_eq(json_doc_uint(&doc, 0, UINT64_MAX, &v), uints[_i].r);
	if (uints[_i].r == 0)
		ck_assert_uint_eq(v, uints[_i].v);
	json_doc_free(&doc);
}
END_TEST

Suite *json_suite(void)
{
	Suite *s = suite_create("json");
	TCase *tc = tcase_create("json");

	tcase_add_loop_test(tc, test_accepts, 0, N(accepts));
	tcase_add_loop_test(tc, test_rejects, 0, N(rejects));
	tcase_add_test(tc, test_embedded_nul);
	tcase_add_test(tc, test_depth);
	tcase_add_test(tc, test_limits);
	tcase_add_test(tc, test_tree);
	tcase_add_loop_test(tc, test_uint, 0, N(uints));
	suite_add_tcase(s, tc);
	return s;
}
