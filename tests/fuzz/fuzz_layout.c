/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libFuzzer target: layout.env parser, validator, planner and checker (edgeinit-layout check).
 * Invariants: parse returns 0 or -EINVAL; an error's line and column lie inside the input and
 * its message is set; a parsed layout respects the limits and the line numbers of the input;
 * a validated layout has only absolute, normalised paths outside /opt; the plan (against a fake
 * root derived from a hash of each path) has the expected shape, and both formats succeed.
 * The checker agrees with the initrd: it parses the same layout, reports a syntax error exactly
 * when the parser fails and the validator's first error among its own; every finding lies
 * inside the input, and its JSON is valid (edgeinit's strict parser). */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "edgeinit/json.h"
#include "edgeinit/layout.h"

#define CHECK(x) do { if (!(x)) __builtin_trap(); } while (0)

static bool terminated(const char *s, size_t size)
{
	return memchr(s, '\0', size) != NULL;
}

static uint32_t hash(const char *s)
{
	uint32_t h = 2166136261u;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h;
}

static int fake_kind(void *userdata, const char *path)
{
	static const int kinds[] = { 'd', 'd', 'f', 'l', 0, -ENOENT };

	(void)userdata;
	CHECK(path[0] == '/');
	return kinds[hash(path) % 6];
}

static int fake_is_mount(void *userdata, const char *path)
{
	(void)userdata;
	return hash(path) % 7 == 0;
}

static void check_paths(const struct layout_path *p, size_t n, unsigned lines)
{
	CHECK(n <= LAYOUT_PATHS_MAX);
	for (size_t k = 0; k < n; k++) {
		CHECK(terminated(p[k].path, sizeof(p[k].path)));
		CHECK(p[k].path[0] != '\0');
		CHECK(p[k].line <= lines);
	}
}

static void check_valid_path(const char *path)
{
	CHECK(path[0] == '/' && path[1] != '\0');
	CHECK(!strstr(path, "//") && !strstr(path, "/./") && !strstr(path, "/../"));
	CHECK(path[strlen(path) - 1] != '/');
	CHECK(strcmp(path, "/opt") != 0 && strncmp(path, "/opt/", 5) != 0);
}

static void check_plan(const struct layout *l, const struct layout_plan *plan)
{
	size_t max = 3 + l->n_overlay_paths + 3 * l->n_bind_paths;
	size_t min = 2 + l->n_overlay_paths + l->n_bind_paths;
	size_t size = 4096 + plan->n * 8192;
	char *buf = malloc(size);

	CHECK(buf);
	CHECK(plan->n <= max && plan->n >= min);
	CHECK(plan->actions[0].kind == LAYOUT_ACTION_MKDIR);
	CHECK(strcmp(plan->actions[0].target, l->overlay_target) == 0);
	for (size_t k = 0; k < plan->n; k++) {
		const struct layout_action *a = &plan->actions[k];

		CHECK(a->kind <= LAYOUT_ACTION_SKIP);
		if (a->kind == LAYOUT_ACTION_OVERLAY) {
			CHECK(strncmp(a->upper, l->overlay_target, strlen(l->overlay_target)) == 0);
			CHECK(strcmp(a->upper, a->work) != 0);
		}
		if (a->kind == LAYOUT_ACTION_BIND)
			CHECK(strncmp(a->source, l->bind_target, strlen(l->bind_target)) == 0);
		if (a->kind == LAYOUT_ACTION_SKIP)
			CHECK(a->reason[0] != '\0');
	}
	CHECK(layout_plan_format_text(plan, buf, size) >= 0);
	CHECK(layout_plan_format_json(plan, buf, size) >= 0);
	CHECK(layout_plan_format_json(plan, buf, 16) == -ENOSPC || plan->n == 0);
	free(buf);
}

static bool has_error(const struct layout_findings *f, const char *code, const char *message)
{
	for (size_t k = 0; k < f->n; k++)
		if (f->items[k].severity == LAYOUT_ERROR && strcmp(f->items[k].code, code) == 0 &&
		    (!message || strcmp(f->items[k].message, message) == 0))
			return true;
	return false;
}

/* The checker's root: which runtime directories exist varies with the input. */
static int check_kind(void *userdata, const char *path)
{
	static const int kinds[] = { 'd', 'f', 'l', 0, 'd' };

	CHECK(path[0] == '/');
	return kinds[(hash(path) ^ *(const uint32_t *)userdata) % 5];
}

/* Run the checker and compare it with what the initrd concluded (parsed: r of layout_parse,
 * valid: r of layout_validate or 1 when not reached; first: the initrd's message). */
static void check_checker(const char *text, size_t size, const struct layout *parsed_l, int parsed,
			  int valid, const char *first, unsigned lines, unsigned longest)
{
	static struct layout cl;
	static struct json_node nodes[4096];
	uint32_t seed = (uint32_t)size * 2654435761u;
	struct layout_root_ops ops = { check_kind, fake_is_mount, &seed };
	struct json_limits lim = { .max_len = JSON_LEN_MAX, .max_depth = 4 };
	struct layout_findings f;
	struct json_doc doc;
	size_t bufsize;
	char *buf;
	int r;

	r = layout_check(text, size, &ops, &cl, &f);
	CHECK(r == 0);
	CHECK(memcmp(&cl, parsed_l, sizeof(cl)) == 0);
	CHECK((parsed < 0) == has_error(&f, "syntax", parsed < 0 ? first : NULL));
	if (parsed == 0 && valid < 0) {
		bool found = false;

		for (size_t k = 0; k < f.n; k++)
			found |= f.items[k].severity == LAYOUT_ERROR && strcmp(f.items[k].message, first) == 0;
		CHECK(found);
	}
	for (size_t k = 0; k < f.n; k++) {
		const struct layout_finding *it = &f.items[k];

		CHECK(it->line <= lines && it->column <= longest + 1);
		CHECK(it->code[0] && terminated(it->code, sizeof(it->code)));
		CHECK(it->message[0] && terminated(it->message, sizeof(it->message)));
		CHECK(terminated(it->hint, sizeof(it->hint)));
		CHECK(k == 0 || it->line > f.items[k - 1].line ||
		      (it->line == f.items[k - 1].line && it->column >= f.items[k - 1].column));
	}
	bufsize = 4096 + f.n * 4096;
	buf = malloc(bufsize);
	CHECK(buf);
	CHECK(layout_findings_format_text(&f, "l.env", false, buf, bufsize) >= 0);
	CHECK(layout_findings_format_json(&f, "l.env", true, buf, bufsize) > 0);
	if (f.n < 200) {
		CHECK(json_doc_parse(buf, strlen(buf), &lim, nodes, 4096, &doc, NULL) == 0);
		json_doc_free(&doc);
	}
	free(buf);
	layout_findings_free(&f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct layout l, again;
	struct layout_diag d, d2;
	struct layout_root_ops ops = { fake_kind, fake_is_mount, NULL };
	struct layout_plan plan;
	const char *text = (const char *)data;
	unsigned lines = 1, line = 1, longest = 0, column = 0;
	int r, v;

	if (size > LAYOUT_FILE_MAX + 16)
		return 0;
	for (size_t k = 0; k < size; k++) {
		column++;
		if (text[k] == '\n') {
			lines++;
			line++;
			column = 0;
		}
		if (column > longest)
			longest = column;
	}
	(void)line;

	memset(&d, 'D', sizeof(d));
	r = layout_parse(text, size, &l, &d);
	CHECK(r == 0 || r == -EINVAL);
	CHECK(terminated(d.message, sizeof(d.message)));
	if (r < 0) {
		CHECK(d.message[0] != '\0');
		CHECK(d.line <= lines);
		CHECK(d.column <= longest + 1);
		CHECK(d.line > 0 || size > LAYOUT_FILE_MAX);
		check_checker(text, size, &l, r, 1, d.message, lines, longest);
		return 0;
	}
	CHECK(d.message[0] == '\0' && d.line == 0 && d.column == 0);
	check_paths(l.overlay_paths, l.n_overlay_paths, lines);
	check_paths(l.bind_paths, l.n_bind_paths, lines);
	CHECK(terminated(l.bind_target, sizeof(l.bind_target)));
	CHECK(terminated(l.overlay_target, sizeof(l.overlay_target)));
	CHECK(terminated(l.tmpfs_size, sizeof(l.tmpfs_size)));
	CHECK(l.overlay_tmpfs == (l.tmpfs_size[0] != '\0'));
	CHECK(l.overlay_paths_set || l.n_overlay_paths == 1);
	CHECK(l.bind_target_line <= lines && l.overlay_target_line <= lines);

	/* Deterministic. */
	CHECK(layout_parse(text, size, &again, &d2) == 0);
	CHECK(memcmp(&l, &again, sizeof(l)) == 0);

	v = layout_validate(&l, &d);
	CHECK(v == 0 || v == -EINVAL);
	CHECK(terminated(d.message, sizeof(d.message)));
	check_checker(text, size, &l, r, v, d.message, lines, longest);
	if (v < 0) {
		CHECK(d.message[0] != '\0' && d.line <= lines && d.column <= longest + 1);
		return 0;
	}
	for (size_t k = 0; k < l.n_overlay_paths; k++)
		check_valid_path(l.overlay_paths[k].path);
	for (size_t k = 0; k < l.n_bind_paths; k++)
		check_valid_path(l.bind_paths[k].path);
	CHECK(strncmp(l.bind_target, "/opt/", 5) == 0 && strncmp(l.overlay_target, "/opt/", 5) == 0);

	CHECK(layout_plan_build(&l, &ops, &plan) == 0);
	check_plan(&l, &plan);
	layout_plan_free(&plan);
	return 0;
}
